/**
 * The Fastify plugin with every route of the service. Mount it in an app of your own, under any
 * prefix, or run it standalone with `createHttpServer`.
 *
 * Everything it sets is encapsulated in its own context: the JSON body parser (and with it the
 * body limit, depth limit and 415 for other types), the request validator, the problem+json error
 * and not-found handlers and the hooks. The host app's parsers, validators and error handling are
 * not touched, and do not change how these routes behave.
 *
 * Order of the work on a request, cheapest refusal first:
 *   onRequest   X-Request-Id header; load shedding (503 while the event loop is overloaded);
 *               the route's token and scope check (401/403). Nothing has been read yet.
 *   parsing     JSON only (415 otherwise), within the byte limit (413), depth limit and
 *               prototype-key check (400).
 *   validation  the route's schemas (422 body, 400 query/path/header).
 *   handler     the offload client; its errors map to problems (problem.ts).
 */
import { setMaxListeners } from 'node:events';
import type { FastifyInstance, FastifyReply, FastifyRequest, RouteOptions } from 'fastify';
import { authorize, type Scope } from './auth.ts';
import type { HttpContext } from './context.ts';
import { registerJsonBody } from './json-body.ts';
import { JobWatcher } from './job-watch.ts';
import { OpenApiCollector } from './openapi.ts';
import { resolveHttpOptions, type OffloadHttpOptions } from './options.ts';
import { sendProblem, toProblem } from './problem.ts';
import { healthRoutes, openApiRoute } from './routes/health.ts';
import { jobEventRoutes } from './routes/job-events.ts';
import { jobResultRoutes } from './routes/job-result.ts';
import { jobBulkRoutes } from './routes/jobs-bulk.ts';
import { jobRoutes } from './routes/jobs.ts';
import { queueRoutes } from './routes/queues.ts';
import { submitRoutes } from './routes/submit.ts';
import { workerRoutes } from './routes/workers.ts';
import { loadShedder } from './shedding.ts';
import { validatorCompiler } from './validator.ts';

/** Options Fastify itself passes to every plugin besides the plugin's own. */
const REGISTER_KEYS = ['prefix', 'logLevel', 'logSerializers'];

/**
 * The routes of offload's HTTP API as a Fastify plugin.
 * @example
 * const app = Fastify({ logger: true })
 * await app.register(offloadHttp, { offload, tokens: process.env.OFFLOAD_API_TOKENS, prefix: '/jobs-api' })
 */
export async function offloadHttp(fastify: FastifyInstance, options: OffloadHttpOptions): Promise<void> {
  const o = resolveHttpOptions(options, 'offloadHttp', REGISTER_KEYS);
  const closing = new AbortController();
  // Every long poll and event stream listens here, so many at once are normal, not a leak.
  setMaxListeners(0, closing.signal);
  const watcher = new JobWatcher(o.offload, { minPollMs: o.watchMinPollMs, maxPollMs: o.watchMaxPollMs });
  const scopes = new WeakMap<object, Scope>();
  const prefix = fastify.prefix;
  const ctx: HttpContext = {
    options: o,
    offload: o.offload,
    watcher,
    closing: closing.signal,
    auth(scope) {
      const hook = authorize(o.tokens, scope);
      scopes.set(hook, scope);
      return hook;
    },
    url: (path) => `${prefix}${path}`,
  };
  const collector = new OpenApiCollector((route: RouteOptions) => {
    const hooks = route.onRequest === undefined ? [] : Array.isArray(route.onRequest) ? route.onRequest : [route.onRequest];
    for (const h of hooks as object[]) {
      const s = scopes.get(h);
      if (s !== undefined) return s;
    }
    return null;
  });

  fastify.setValidatorCompiler(validatorCompiler);
  registerJsonBody(fastify, { bodyLimitBytes: o.bodyLimitBytes, maxDepth: o.maxJsonDepth });

  fastify.addHook('onRequest', async (request: FastifyRequest, reply: FastifyReply) => {
    reply.header('x-request-id', request.id);
  });
  if (o.shedLoad) fastify.addHook('onRequest', loadShedder(o.offload, new Set(['/healthz', '/readyz', '/openapi.json'].map((p) => ctx.url(p)))));

  // Long requests end when the server closes, so close() does not wait on them.
  fastify.addHook('preClose', async () => {
    closing.abort();
    watcher.close();
  });

  fastify.setErrorHandler((err: unknown, request, reply) => {
    const p = toProblem(err, o.bodyLimitBytes);
    // Client errors are logged by code only (a message may quote the payload), and at debug: the
    // request's own line already has its status, and a flood of 429s must not flood the log.
    if (p.status >= 500) request.log.error({ err, code: p.code }, 'request failed');
    else request.log.debug({ code: p.code, status: p.status }, 'request refused');
    return sendProblem(reply, p);
  });
  fastify.setNotFoundHandler((request, reply) =>
    sendProblem(reply, { status: 404, code: 'OFFLOAD_HTTP_NOT_FOUND', detail: `no route ${request.method} ${request.url.split('?', 1)[0]}`, extensions: {}, headers: {} }),
  );

  fastify.addHook('onRoute', (route) => collector.add(route));
  healthRoutes(fastify, ctx);
  submitRoutes(fastify, ctx);
  jobRoutes(fastify, ctx);
  jobBulkRoutes(fastify, ctx);
  jobEventRoutes(fastify, ctx);
  jobResultRoutes(fastify, ctx);
  queueRoutes(fastify, ctx);
  workerRoutes(fastify, ctx);
  openApiRoute(fastify, ctx, collector);
}
