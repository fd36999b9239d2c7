/**
 * Errors as RFC 9457 problem details (`application/problem+json`), each with a stable `code`.
 *
 * Errors of the offload API keep their own code (`OFFLOAD_JOB_NOT_FOUND` ...); errors that exist
 * only at the HTTP layer have codes starting `OFFLOAD_HTTP_`. The table below is the one place
 * that decides the status of each; docs/http.md lists the same. Messages of 4xx problems are
 * shown to the client; those of 5xx are logged with the request id and replaced by a generic
 * detail, since a store error may name tables, hosts or SQL.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { isOffloadError, type OffloadError } from '../index.ts';
import { pointerTo, RequestValidationError, type ValidationIssue } from './validator.ts';

export type HttpProblemCode =
  | 'OFFLOAD_HTTP_BAD_REQUEST'
  | 'OFFLOAD_HTTP_MALFORMED_JSON'
  | 'OFFLOAD_HTTP_TOO_DEEP'
  | 'OFFLOAD_HTTP_FORBIDDEN_KEY'
  | 'OFFLOAD_HTTP_INVALID_REQUEST'
  | 'OFFLOAD_HTTP_UNAUTHORIZED'
  | 'OFFLOAD_HTTP_FORBIDDEN'
  | 'OFFLOAD_HTTP_NOT_FOUND'
  | 'OFFLOAD_HTTP_BODY_TOO_LARGE'
  | 'OFFLOAD_HTTP_REQUEST_TIMEOUT'
  | 'OFFLOAD_HTTP_UNSUPPORTED_MEDIA_TYPE'
  | 'OFFLOAD_HTTP_LOOP_OVERLOADED'
  | 'OFFLOAD_HTTP_NOT_READY'
  | 'OFFLOAD_HTTP_SHUTTING_DOWN'
  | 'OFFLOAD_HTTP_INTERNAL';

/** Status and title of every code a problem can carry. */
export const PROBLEM_CODES: Readonly<Record<string, { status: number; title: string }>> = {
  OFFLOAD_HTTP_BAD_REQUEST: { status: 400, title: 'Bad request' },
  OFFLOAD_HTTP_MALFORMED_JSON: { status: 400, title: 'Malformed JSON body' },
  OFFLOAD_HTTP_TOO_DEEP: { status: 400, title: 'JSON body nested too deeply' },
  OFFLOAD_HTTP_FORBIDDEN_KEY: { status: 400, title: 'Forbidden key in JSON body' },
  OFFLOAD_HTTP_INVALID_REQUEST: { status: 422, title: 'Invalid request' },
  OFFLOAD_HTTP_UNAUTHORIZED: { status: 401, title: 'Missing or invalid API token' },
  OFFLOAD_HTTP_FORBIDDEN: { status: 403, title: 'Not allowed' },
  OFFLOAD_HTTP_NOT_FOUND: { status: 404, title: 'No such route' },
  OFFLOAD_HTTP_BODY_TOO_LARGE: { status: 413, title: 'Request body too large' },
  OFFLOAD_HTTP_REQUEST_TIMEOUT: { status: 408, title: 'Request not received in time' },
  OFFLOAD_HTTP_UNSUPPORTED_MEDIA_TYPE: { status: 415, title: 'Unsupported media type' },
  OFFLOAD_HTTP_LOOP_OVERLOADED: { status: 503, title: 'Server overloaded' },
  OFFLOAD_HTTP_NOT_READY: { status: 503, title: 'Not ready' },
  OFFLOAD_HTTP_SHUTTING_DOWN: { status: 503, title: 'Shutting down' },
  OFFLOAD_HTTP_INTERNAL: { status: 500, title: 'Internal error' },
  OFFLOAD_INVALID_PAYLOAD: { status: 422, title: 'Invalid payload' },
  OFFLOAD_INVALID_OPTIONS: { status: 422, title: 'Invalid job options' },
  OFFLOAD_UNKNOWN_TASK: { status: 422, title: 'Unknown task' },
  OFFLOAD_PAYLOAD_TOO_LARGE: { status: 413, title: 'Payload too large' },
  OFFLOAD_IDEMPOTENCY_CONFLICT: { status: 409, title: 'Idempotency key reused with another payload' },
  OFFLOAD_JOB_NOT_FOUND: { status: 404, title: 'Job not found' },
  OFFLOAD_INVALID_STATE: { status: 409, title: 'Operation not allowed in the job state' },
  OFFLOAD_OVERLOADED: { status: 429, title: 'Queue backlog full' },
  OFFLOAD_UNSUPPORTED: { status: 422, title: 'Not supported by this store' },
  OFFLOAD_STORE: { status: 503, title: 'Store unavailable' },
  OFFLOAD_CLOSED: { status: 503, title: 'Service closed' },
};

/**
 * A problem to send, as plain data. Refusals on the hot path (429, 503) are made as this rather
 * than as an Error: capturing a stack trace per refused request is measurable under overload.
 */
export interface Problem {
  status: number;
  code: string;
  detail: string;
  extensions: Record<string, unknown>;
  headers: Record<string, string>;
}

function problem(status: number, code: string, detail: string, extensions: Record<string, unknown> = {}, headers: Record<string, string> = {}): Problem {
  return { status, code, detail, extensions, headers };
}

/** A problem thrown by a hook or route; the error handler sends it as it is. */
export class HttpProblem extends Error implements Omit<Problem, 'detail'> {
  readonly status: number;
  readonly code: string;
  readonly extensions: Record<string, unknown>;
  readonly headers: Record<string, string>;

  constructor(status: number, code: string, detail: string, extensions: Record<string, unknown> = {}, headers: Record<string, string> = {}) {
    super(detail);
    this.name = 'HttpProblem';
    this.status = status;
    this.code = code;
    this.extensions = extensions;
    this.headers = headers;
  }
}

/** Retry-After is in whole seconds: round up, and never 0 (a client would retry at once). */
export function retryAfterSeconds(ms: number): string {
  return String(Math.max(1, Math.ceil(ms / 1000)));
}

function fromOffload(err: OffloadError): Problem {
  const status = PROBLEM_CODES[err.code]?.status ?? 500;
  const d = (typeof err.details === 'object' && err.details !== null ? err.details : {}) as Record<string, unknown>;
  switch (err.code as string) {
    case 'OFFLOAD_INVALID_PAYLOAD': {
      // Issues are relative to one payload: `/payload` in POST /v1/jobs, `/payloads/<i>` in a batch.
      const base = typeof d['index'] === 'number' ? pointerTo('/payloads', d['index']) : '/payload';
      const issues = Array.isArray(d['issues']) ? (d['issues'] as Array<{ path: string; message: string }>) : [];
      const errors = issues.map((i) => ({ in: 'body', pointer: i.path === '' ? base : i.path.split('.').reduce(pointerTo, base), message: i.message }));
      return problem(status, err.code, err.message, { errors: errors.length > 0 ? errors : [{ in: 'body', pointer: base, message: err.message }] });
    }
    case 'OFFLOAD_UNKNOWN_TASK':
      return problem(status, err.code, err.message, { errors: [{ in: 'body', pointer: '/task', message: err.message }] });
    case 'OFFLOAD_IDEMPOTENCY_CONFLICT':
      return problem(status, err.code, err.message, { existingJobId: d['existingJobId'] });
    case 'OFFLOAD_JOB_NOT_FOUND':
      return problem(status, err.code, err.message, { id: d['id'] });
    case 'OFFLOAD_INVALID_STATE':
      return problem(status, err.code, err.message, { state: d['state'] });
    case 'OFFLOAD_PAYLOAD_TOO_LARGE':
      return problem(status, err.code, err.message, { bytes: d['bytes'], maxBytes: d['maxBytes'] });
    case 'OFFLOAD_OVERLOADED': {
      const retryAfterMs = typeof d['retryAfterMs'] === 'number' ? d['retryAfterMs'] : 1000;
      return problem(
        status,
        err.code,
        err.message,
        { queue: d['queue'], task: d['task'], maxBacklog: d['maxBacklog'], waiting: d['waiting'], retryAfterMs },
        { 'retry-after': retryAfterSeconds(retryAfterMs) },
      );
    }
    case 'OFFLOAD_STORE':
    case 'OFFLOAD_CLOSED':
      return problem(status, err.code, 'the job store is not available; try again later', {}, { 'retry-after': '1' });
    default:
      return status >= 500 ? internal() : problem(status, err.code, err.message);
  }
}

function internal(): Problem {
  return problem(500, 'OFFLOAD_HTTP_INTERNAL', 'the request failed on the server; the log has the details under this request id');
}

const VALIDATION_PART: Record<string, string> = { body: 'body', querystring: 'query', params: 'path', headers: 'header' };

/** Fastify's own errors that a client can cause, by their code. */
const FASTIFY_CODES: Record<string, HttpProblemCode> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'OFFLOAD_HTTP_BODY_TOO_LARGE',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'OFFLOAD_HTTP_UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'OFFLOAD_HTTP_BAD_REQUEST',
  FST_ERR_CTP_EMPTY_TYPE: 'OFFLOAD_HTTP_UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_CTP_INVALID_TYPE: 'OFFLOAD_HTTP_UNSUPPORTED_MEDIA_TYPE',
};

/** Maps anything thrown while serving a request to the problem to send. */
export function toProblem(err: unknown, bodyLimitBytes: number): Problem {
  if (err instanceof HttpProblem) return { status: err.status, code: err.code, detail: err.message, extensions: err.extensions, headers: err.headers };
  if (err instanceof RequestValidationError) {
    const part = (err as { validationContext?: string }).validationContext ?? 'body';
    const where = VALIDATION_PART[part] ?? part;
    const errors = err.issues.map((i: ValidationIssue) => ({ in: where, pointer: i.pointer, message: i.message }));
    // A body that parses but does not fit the route is unprocessable; a bad query or header is a bad request.
    const status = where === 'body' ? 422 : 400;
    return problem(status, status === 422 ? 'OFFLOAD_HTTP_INVALID_REQUEST' : 'OFFLOAD_HTTP_BAD_REQUEST', `invalid ${where}: ${err.message}`, { errors });
  }
  if (isOffloadError(err)) return fromOffload(err);
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && code in FASTIFY_CODES) {
    const c = FASTIFY_CODES[code]!;
    if (c === 'OFFLOAD_HTTP_BODY_TOO_LARGE') return problem(413, c, `the request body is over the limit of ${bodyLimitBytes} bytes`, { limitBytes: bodyLimitBytes });
    if (c === 'OFFLOAD_HTTP_UNSUPPORTED_MEDIA_TYPE') return problem(415, c, 'send the body as application/json', { accepted: ['application/json'] });
    return problem(PROBLEM_CODES[c]!.status, c, (err as Error).message);
  }
  // Other client errors Fastify raises (a malformed URL, a bad header) carry a 4xx status.
  const statusCode = (err as { statusCode?: unknown } | null)?.statusCode;
  if (typeof statusCode === 'number' && statusCode >= 400 && statusCode < 500) return problem(400, 'OFFLOAD_HTTP_BAD_REQUEST', (err as Error).message);
  return internal();
}

/** The problem's JSON, as sent. */
export function problemBody(p: Problem, request: FastifyRequest): Record<string, unknown> {
  return {
    type: `urn:offload:problem:${p.code}`,
    title: PROBLEM_CODES[p.code]?.title ?? 'Error',
    status: p.status,
    detail: p.detail,
    instance: request.url.split('?', 1)[0],
    code: p.code,
    requestId: request.id,
    ...p.extensions,
  };
}

/** Sends a problem. Serialized here, not by the route's response schema, so extensions are kept as they are. */
export function sendProblem(reply: FastifyReply, p: Problem): FastifyReply {
  for (const [name, value] of Object.entries(p.headers)) reply.header(name, value);
  return reply.code(p.status).type('application/problem+json').send(JSON.stringify(problemBody(p, reply.request)));
}
