/**
 * /dashboard/api/v1/...: the page's way to the HTTP API. The page holds no API token (it would
 * be readable by any script on it); it sends its session cookie and CSRF token here, and the
 * request goes on to the API routes mounted on the same server (Fastify's inject: routing,
 * validation, scopes and problem+json as for any client, no socket) with the session's token as
 * `Authorization: Bearer`. What the page reads and does is what that token may read and do.
 *
 * Only the routes the page uses pass: reading jobs, queues and workers, and the job and queue actions.
 * Event streams do not (inject waits for the end of a response); the page has its own stream of
 * stats (stats-routes.ts).
 */
import type { FastifyInstance } from 'fastify';
import { HttpProblem } from '../problem.ts';
import type { DashboardAccess } from './access.ts';

/** The API routes the page may reach, by method. */
const ALLOWED: ReadonlyArray<{ method: string; path: RegExp }> = [
  { method: 'GET', path: /^\/v1\/jobs$/ },
  { method: 'GET', path: /^\/v1\/jobs\/[0-9]{1,18}$/ },
  { method: 'POST', path: /^\/v1\/jobs\/[0-9]{1,18}\/(cancel|retry)$/ },
  { method: 'DELETE', path: /^\/v1\/jobs\/[0-9]{1,18}$/ },
  { method: 'GET', path: /^\/v1\/queues$/ },
  { method: 'GET', path: /^\/v1\/workers$/ },
  { method: 'POST', path: /^\/v1\/queues\/[A-Za-z0-9][A-Za-z0-9._:-]{0,199}\/(pause|resume)$/ },
];

/** Response headers of the API passed back to the page. */
const PASSED_HEADERS = ['content-type', 'link', 'retry-after', 'location', 'www-authenticate'];

export const PROXY_PREFIX = '/dashboard/api';

export function apiProxyRoutes(fastify: FastifyInstance, deps: { access: DashboardAccess; apiPrefix: string }): void {
  const { access, apiPrefix } = deps;
  fastify.route({
    method: ['GET', 'POST', 'DELETE'],
    url: `${PROXY_PREFIX}/*`,
    onRequest: access.require('read'),
    handler: async (request, reply) => {
      const raw = request.raw.url ?? request.url;
      const q = raw.indexOf('?');
      let path: string;
      try {
        path = decodeURIComponent((q < 0 ? raw : raw.slice(0, q)).slice(PROXY_PREFIX.length));
      } catch {
        throw new HttpProblem(400, 'OFFLOAD_HTTP_BAD_REQUEST', 'the path is not valid percent-encoding');
      }
      const query = q < 0 ? '' : raw.slice(q);
      if (!ALLOWED.some((a) => a.method === request.method && a.path.test(path))) {
        throw new HttpProblem(404, 'OFFLOAD_HTTP_NOT_FOUND', `the dashboard does not pass ${request.method} ${path} to the API`);
      }
      const session = access.sessionOf(request);
      const headers: Record<string, string> = { 'x-request-id': request.id };
      if (session.secret !== null) headers['authorization'] = `Bearer ${session.secret}`;
      const type = request.headers['content-type'];
      if (typeof type === 'string') headers['content-type'] = type;
      const body = typeof request.body === 'string' && request.body !== '' ? request.body : undefined;
      const res = await fastify.inject({
        method: request.method as 'GET' | 'POST' | 'DELETE',
        url: `${apiPrefix}${path}${query}`,
        headers,
        ...(body === undefined ? {} : { payload: body }),
      });
      for (const name of PASSED_HEADERS) {
        const v = res.headers[name];
        if (v !== undefined) reply.header(name, v);
      }
      reply.header('cache-control', 'no-store');
      return reply.code(res.statusCode).send(res.rawPayload);
    },
  });
}
