/**
 * The standalone server: a Fastify instance with the plugin at the root, request ids and pino
 * logs. `listen()` refuses an address other than loopback when no API tokens are configured:
 * an open job API on a network interface is a remote code runner for anyone who finds it.
 */
import { randomUUID } from 'node:crypto';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { OffloadError } from '../index.ts';
import { offloadDashboard } from './dashboard/plugin.ts';
import { checkKeys, intOption, resolveHttpOptions, type OffloadHttpOptions } from './options.ts';
import { offloadHttp } from './plugin.ts';
import { PROBLEM_CODES, sendProblem, toProblem } from './problem.ts';

export interface HttpServerOptions extends OffloadHttpOptions {
  /** A pino logger, or false for none. Default: pino at `info` on stdout. Payloads and tokens are never logged. */
  logger?: FastifyBaseLogger | false;
  /** Mount the routes under this path (e.g. `/api`). Default: the root. */
  prefix?: string;
  /**
   * Log each request's start and end (method, URL, status, time; never bodies). Default true.
   * Off under heavy load, when one line per request would cost more than the request.
   */
  logRequests?: boolean;
  /** Idle keep-alive connections are closed after this long. Default 72000 (longer than common load balancers' 60 s). */
  keepAliveTimeoutMs?: number;
  /**
   * A request must have arrived whole (headers and body) within this long, or it is answered 408
   * and its connection closed: a client that sends part of a request and then waits would hold
   * its connection forever. Long polls are not cut: the wait is the answer's, not the request's.
   * Default 30000.
   */
  requestTimeoutMs?: number;
}

export interface ListenOptions {
  /** Default 127.0.0.1. Any other than loopback needs API tokens. */
  host?: string;
  /** Default 3000; 0 picks a free port. */
  port?: number;
}

export interface HttpServer {
  /** The Fastify instance, to add routes or hooks before listening. */
  readonly fastify: FastifyInstance;
  /** Starts listening; resolves with the URL, e.g. `http://127.0.0.1:3000`. */
  listen(options?: ListenOptions): Promise<string>;
  /** Stops accepting, ends event streams and long-polls, waits for requests in flight. Idempotent. */
  close(): Promise<void>;
}

const SERVER_KEYS = ['logger', 'prefix', 'keepAliveTimeoutMs', 'requestTimeoutMs', 'logRequests'];
// A client's X-Request-Id is kept when it looks like an id, so a log line cannot be forged through it.
const REQUEST_ID = /^[A-Za-z0-9._:@/+=-]{1,128}$/;

/** True for names and addresses that reach only this machine. */
export function isLoopbackHost(host: string): boolean {
  const h = host.toLowerCase().replace(/^\[|\]$/g, '');
  return h === 'localhost' || h === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h) || /^::ffff:127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h);
}

/**
 * Creates the standalone HTTP server (not yet listening).
 * @example
 * const server = createHttpServer({ offload, tokens: process.env.OFFLOAD_API_TOKENS })
 * const url = await server.listen({ host: '0.0.0.0', port: 3000 })
 */
export function createHttpServer(options: HttpServerOptions): HttpServer {
  // Checked here, synchronously, so a bad option throws at the call rather than at listen().
  const resolved = resolveHttpOptions(options, 'createHttpServer()', SERVER_KEYS);
  const { logger, prefix, keepAliveTimeoutMs, requestTimeoutMs, logRequests, ...pluginOptions } = options;
  if (logRequests !== undefined && typeof logRequests !== 'boolean') throw new OffloadError('OFFLOAD_INVALID_OPTIONS', 'createHttpServer(): logRequests: expected a boolean');
  if (prefix !== undefined && !(typeof prefix === 'string' && /^\/[A-Za-z0-9._~/-]*[^/]$/.test(prefix))) {
    throw new OffloadError('OFFLOAD_INVALID_OPTIONS', `createHttpServer(): prefix must be a path such as '/api', got ${JSON.stringify(prefix)}`);
  }
  const requestTimeout = intOption(requestTimeoutMs, 'createHttpServer(): requestTimeoutMs', 100, 3_600_000, 30_000);
  const fastify = Fastify({
    loggerInstance: logger === false ? pino({ level: 'silent' }) : (logger ?? pino({ level: 'info' })),
    // The plugin's JSON parser enforces its own limit; this one covers the rest of the instance.
    bodyLimit: resolved.bodyLimitBytes,
    keepAliveTimeout: intOption(keepAliveTimeoutMs, 'createHttpServer(): keepAliveTimeoutMs', 1, 3_600_000, 72_000),
    requestTimeout,
    // Node looks for requests past their time every connectionsCheckingInterval (30 s by default):
    // four looks per timeout keep a late request's answer within a quarter of it.
    http: { requestTimeout, headersTimeout: requestTimeout, connectionsCheckingInterval: Math.max(25, Math.floor(requestTimeout / 4)) },
    requestIdHeader: false,
    logController: new LogController({ disableRequestLogging: logRequests === false }),
    // Errors Fastify raises before routing (a malformed URL) are problems too.
    frameworkErrors: (err, _request, reply) => {
      void sendProblem(reply, toProblem(err, resolved.bodyLimitBytes));
    },
    // Errors of Node's HTTP parser (a body shorter or longer than its Content-Length, a bad
    // header) come before any request exists: answered here as a problem too, then closed.
    clientErrorHandler: (err, socket) => {
      if ((err as { code?: string }).code === 'ECONNRESET' || !socket.writable) {
        socket.destroy();
        return;
      }
      const requestId = randomUUID();
      const late = (err as { code?: string }).code === 'ERR_HTTP_REQUEST_TIMEOUT';
      const code = late ? 'OFFLOAD_HTTP_REQUEST_TIMEOUT' : 'OFFLOAD_HTTP_BAD_REQUEST';
      const { status, title } = PROBLEM_CODES[code]!;
      const body = JSON.stringify({
        type: `urn:offload:problem:${code}`,
        title,
        status,
        detail: late
          ? `the request did not arrive whole within ${requestTimeout} ms`
          : 'the request could not be read as HTTP (its framing or headers are malformed)',
        code,
        requestId,
      });
      socket.end(
        `HTTP/1.1 ${status} ${late ? 'Request Timeout' : 'Bad Request'}\r\nContent-Type: application/problem+json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nX-Request-Id: ${requestId}\r\nConnection: close\r\n\r\n${body}`,
      );
    },
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
    },
  });
  void fastify.register(offloadHttp, { ...pluginOptions, ...(prefix === undefined ? {} : { prefix }) });
  // The dashboard at /, calling the API routes above on this same instance (docs/dashboard.md).
  void fastify.register(offloadDashboard, { offload: resolved.offload, tokens: resolved.tokens, apiPrefix: prefix ?? '', ...(options.redact === undefined ? {} : { redact: options.redact }) });

  let closed: Promise<void> | null = null;
  return {
    fastify,
    async listen(listenOptions: ListenOptions = {}) {
      const l = checkKeys(listenOptions, ['host', 'port'], 'listen()');
      const host = l['host'] ?? '127.0.0.1';
      if (typeof host !== 'string' || host === '') throw new OffloadError('OFFLOAD_INVALID_OPTIONS', 'listen(): host must be a host name or address');
      const port = intOption(l['port'], 'listen(): port', 0, 65_535, 3000);
      if (!resolved.tokens.enabled && !isLoopbackHost(host)) {
        throw new OffloadError(
          'OFFLOAD_INVALID_OPTIONS',
          `listen(): refusing to listen on ${host} without API tokens; configure tokens (OFFLOAD_API_TOKENS) or listen on 127.0.0.1`,
        );
      }
      return fastify.listen({ host, port });
    },
    close() {
      closed ??= closeWithin(fastify, CLOSE_GRACE_MS);
      return closed;
    },
  };
}

/** How long open connections get to finish once the server closes, before they are cut. */
const CLOSE_GRACE_MS = 1000;

/**
 * Closes the server; connections still open after `graceMs` are destroyed. Without the cut, a
 * connection a browser opened ahead of time (no request on it yet, which Node does not count as
 * idle), a long-poll or an SSE stream would hold the close up for as long as it lasts.
 */
async function closeWithin(fastify: FastifyInstance, graceMs: number): Promise<void> {
  const cut = setTimeout(() => fastify.server.closeAllConnections(), graceMs);
  try {
    await fastify.close();
  } finally {
    clearTimeout(cut);
  }
}

