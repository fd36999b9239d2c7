/**
 * The dashboard: a page (ui/, built into dist-ui/) and the server side it talks to, as a Fastify
 * plugin mounted at the root of the server that also carries the HTTP API (createHttpServer
 * mounts both).
 *
 *   GET  /                      the page (pages.ts); /login when a login is needed
 *   GET  /assets/*              its built files
 *   GET  /login, POST /login    the login form with an API token (login.ts); POST /logout
 *   GET  /dashboard/session     who is logged in and the CSRF token (session-route.ts)
 *   GET  /dashboard/stats       the stats stream, 1 s samples, 15 min of history (stats-routes.ts)
 *   GET  /dashboard/jobs/:id    a job with stacks, timeline and why it waits (insight-routes.ts)
 *   GET  /dashboard/workers     the workers this server can see
 *   POST /dashboard/jobs/bulk   bulk retry, cancel, delete of a filtered set, progress as SSE (bulk-route.ts)
 *   *    /dashboard/api/v1/...  the HTTP API, as the session's token (api-proxy.ts)
 *
 * Security (access.ts): the same API tokens as the API, a session in an HttpOnly SameSite=Strict
 * cookie, a CSRF token on every POST and DELETE, loopback only without tokens, a strict CSP on
 * every response (security-headers.ts). Everything set here stays in the plugin's own context:
 * the body parsers (JSON passed on as text, the login form), the error handler and the hooks.
 */
import type { FastifyInstance } from 'fastify';
import { sendProblem, toProblem } from '../problem.ts';
import { DashboardAccess } from './access.ts';
import { apiProxyRoutes } from './api-proxy.ts';
import { DashboardAssets } from './assets.ts';
import { bulkRoute } from './bulk-route.ts';
import { insightRoutes } from './insight-routes.ts';
import { loginRoutes } from './login.ts';
import { resolveDashboardOptions, type DashboardOptions } from './options.ts';
import { pageRoutes } from './pages.ts';
import { setSecurityHeaders } from './security-headers.ts';
import { sessionRoute } from './session-route.ts';
import { SessionStore } from './sessions.ts';
import { StatsRecorder } from './stats-recorder.ts';
import { statsRoutes } from './stats-routes.ts';

/** Bodies the page sends: a cancel reason, a login form. Larger ones get 413 unread. */
const JSON_LIMIT_BYTES = 64 * 1024;
const FORM_LIMIT_BYTES = 8 * 1024;

/**
 * The dashboard as a Fastify plugin, beside the API plugin on the same instance.
 * @example
 * // in createHttpServer (server.ts), with the options the API plugin resolved:
 * void fastify.register(offloadDashboard, { offload, tokens: resolved.tokens, apiPrefix: prefix ?? '' })
 */
export async function offloadDashboard(fastify: FastifyInstance, options: DashboardOptions): Promise<void> {
  const o = resolveDashboardOptions(options);
  const sessions = new SessionStore({ idleMs: o.sessionIdleMs, maxAgeMs: o.sessionMaxAgeMs, maxSessions: o.maxSessions, now: o.now });
  const access = new DashboardAccess(o.tokens, sessions);
  const assets = new DashboardAssets(o.assetsDir);
  const recorder = new StatsRecorder(o.offload, { intervalMs: o.statsIntervalMs, capacity: Math.ceil(o.historyMs / o.statsIntervalMs) });
  const closing = new AbortController();

  // The API routes parse and check JSON themselves: the proxy passes the text on unread.
  fastify.removeAllContentTypeParsers();
  fastify.addContentTypeParser('application/json', { parseAs: 'string', bodyLimit: JSON_LIMIT_BYTES }, (_request, body, done) => done(null, body));
  fastify.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: FORM_LIMIT_BYTES }, (_request, body, done) => {
    done(null, Object.fromEntries(new URLSearchParams(body as string)));
  });

  fastify.addHook('onRequest', async (request, reply) => {
    reply.header('x-request-id', request.id);
    setSecurityHeaders(reply);
  });
  fastify.addHook('onReady', async () => {
    recorder.start();
    // Read the built files now rather than in the first request (when missing: looked for again then).
    assets.load();
  });
  // Open stats streams end when the server closes, so close() does not wait on them.
  fastify.addHook('preClose', async () => closing.abort());
  fastify.addHook('onClose', async () => {
    await recorder.stop();
    sessions.clear();
  });

  fastify.setErrorHandler((err: unknown, request, reply) => {
    const p = toProblem(err, JSON_LIMIT_BYTES);
    if (p.status >= 500) request.log.error({ err, code: p.code }, 'dashboard request failed');
    else request.log.info({ code: p.code, status: p.status }, 'dashboard request refused');
    return sendProblem(reply, p);
  });

  pageRoutes(fastify, { access, assets });
  loginRoutes(fastify, { access, tokens: o.tokens, assets, sessionMaxAgeMs: o.sessionMaxAgeMs });
  sessionRoute(fastify, { access, sessionMaxAgeMs: o.sessionMaxAgeMs });
  statsRoutes(fastify, { access, recorder, closing: closing.signal, keepAliveMs: o.sseKeepAliveMs });
  insightRoutes(fastify, { access, offload: o.offload, now: o.now, redact: o.redact });
  apiProxyRoutes(fastify, { access, apiPrefix: o.apiPrefix });
  bulkRoute(fastify, { access, offload: o.offload, closing: closing.signal, keepAliveMs: o.sseKeepAliveMs });
}
