/**
 * GET /dashboard/session: who is logged in, the scopes, and the CSRF token the page sends on
 * every action. Another site cannot read this answer (no CORS headers, SameSite cookie), which
 * is what makes the token a proof that a request comes from the page.
 *
 * Without API tokens the first call from loopback starts an anonymous session with every scope:
 * there is no login, but actions still need the CSRF token.
 */
import type { FastifyInstance } from 'fastify';
import { HttpProblem } from '../problem.ts';
import type { DashboardAccess } from './access.ts';
import { cookieHeader, SESSION_COOKIE } from './cookies.ts';
import type { SessionInfo } from './protocol.ts';

export function sessionRoute(fastify: FastifyInstance, deps: { access: DashboardAccess; sessionMaxAgeMs: number }): void {
  const { access } = deps;
  fastify.get('/dashboard/session', async (request, reply): Promise<SessionInfo> => {
    access.checkLoopback(request);
    let session = access.current(request);
    if (session === null) {
      if (access.authRequired) throw new HttpProblem(401, 'OFFLOAD_HTTP_UNAUTHORIZED', 'log in to the dashboard (the session is missing or has expired)', { loginUrl: '/login' });
      session = access.sessions.create({ user: null, scopes: ['read', 'submit', 'admin'], secret: null });
      void reply.header('set-cookie', cookieHeader(SESSION_COOKIE, session.id, { path: '/', maxAgeS: deps.sessionMaxAgeMs / 1000, secure: request.protocol === 'https' }));
    }
    access.sessions.touch(session);
    void reply.header('cache-control', 'no-store');
    return {
      authRequired: access.authRequired,
      user: session.user,
      scopes: [...session.scopes].toSorted(),
      csrfToken: session.csrfToken,
      expiresAt: new Date(access.sessions.expiresAtMs(session)).toISOString(),
    };
  });
}
