/**
 * The JSON schema of a problem response, and the per-route list of problem statuses that the
 * OpenAPI document publishes. Problems are serialized by `sendProblem`, not by these schemas.
 */
import type { JsonSchema } from './validator.ts';

export const problemSchema: JsonSchema = {
  type: 'object',
  description: 'RFC 9457 problem details. `code` is stable; extension members depend on it (see docs/http.md).',
  properties: {
    type: { type: 'string', description: 'urn:offload:problem:<code>' },
    title: { type: 'string' },
    status: { type: 'integer' },
    detail: { type: 'string' },
    instance: { type: 'string' },
    code: { type: 'string' },
    requestId: { type: 'string' },
    errors: {
      type: 'array',
      description: 'Each invalid field: where it is (body, query, path, header) and a JSON Pointer to it.',
      items: {
        type: 'object',
        properties: { in: { type: 'string' }, pointer: { type: 'string' }, message: { type: 'string' } },
        required: ['in', 'pointer', 'message'],
      },
    },
    retryAfterMs: { type: 'integer' },
  },
  required: ['type', 'title', 'status', 'detail', 'code', 'requestId'],
};

const REASONS: Record<number, string> = {
  400: 'Malformed request: bad JSON, too deep, a forbidden key, or an invalid query, path or header.',
  401: 'Missing or invalid API token.',
  403: 'The token lacks the scope of this route (or, without tokens, the client is not on loopback).',
  404: 'No such job.',
  409: 'Conflict: the idempotency key was used with another payload, or the job state does not allow this.',
  413: 'The body is over the limit, or the payload over the maximum payload size.',
  415: 'The body is not application/json.',
  422: 'The body does not fit: unknown fields, invalid values, an unknown task, or a payload the task schema refuses.',
  429: 'The queue backlog is full; Retry-After says when to try again.',
  503: 'Not ready, overloaded (event loop) or the store is unavailable; Retry-After says when to try again.',
};

/** Response entries for the given statuses, all problem+json. */
export function problemResponses(statuses: readonly number[]): Record<number, JsonSchema> {
  return Object.fromEntries(
    statuses.map((s) => [s, { description: REASONS[s] ?? 'Error.', content: { 'application/problem+json': { schema: problemSchema } } }]),
  );
}
