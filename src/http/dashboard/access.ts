/**
 * Who may use the dashboard, checked in onRequest hooks before anything is read:
 *
 *   with API tokens     a live session (cookie) from a login with a token holding `read`
 *                       (or `admin`); 401 without one, 403 without the scope.
 *   without API tokens  loopback peers with a loopback Host header only (loopback.ts); the page
 *                       gets an anonymous session with every scope, for its CSRF token.
 *   every POST/DELETE   the session's CSRF token in `x-csrf-token` and, if sent, a same-host
 *                       Origin (csrf.ts); 403 otherwise.
 *
 * Actions go on through the HTTP API with the session's token, so the API's own scope checks
 * decide what a `read` token may do (api-proxy.ts).
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Scope, TokenStore } from '../auth.ts';
import { HttpProblem } from '../problem.ts';
import { readCookie, SESSION_COOKIE } from './cookies.ts';
import { CSRF_HEADER, originProblem, SAFE_METHODS, sameToken } from './csrf.ts';
import { loopbackProblem } from './loopback.ts';
import type { Session, SessionStore } from './sessions.ts';

export type Hook = (request: FastifyRequest, reply: FastifyReply) => Promise<void>;

export class DashboardAccess {
  readonly sessions: SessionStore;
  readonly #tokens: TokenStore;
  readonly #admitted = new WeakMap<FastifyRequest, Session>();

  constructor(tokens: TokenStore, sessions: SessionStore) {
    this.#tokens = tokens;
    this.sessions = sessions;
  }

  /** False when the server runs without API tokens: nobody logs in. */
  get authRequired(): boolean {
    return this.#tokens.enabled;
  }

  /** Throws 403 when the server has no tokens and the request is not from and to loopback. */
  checkLoopback(request: FastifyRequest): void {
    if (this.authRequired) return;
    const problem = loopbackProblem(request);
    if (problem !== null) throw new HttpProblem(403, 'OFFLOAD_HTTP_FORBIDDEN', problem);
  }

  /** The live session of the request's cookie, or null. */
  current(request: FastifyRequest): Session | null {
    return this.sessions.get(readCookie(request.headers.cookie, SESSION_COOKIE));
  }

  /** The hook of a route that needs a session holding `scope`; POST and DELETE need the CSRF token too. */
  require(scope: Scope): Hook {
    return async (request) => {
      this.checkLoopback(request);
      const session = this.current(request);
      if (session === null) {
        throw new HttpProblem(401, 'OFFLOAD_HTTP_UNAUTHORIZED', this.authRequired ? 'log in to the dashboard (the session is missing or has expired)' : 'open the dashboard page first: it starts the session', {
          loginUrl: '/login',
        });
      }
      if (!SAFE_METHODS.has(request.method)) checkCsrf(request, session);
      if (!session.scopes.has(scope) && !session.scopes.has('admin')) {
        throw new HttpProblem(403, 'OFFLOAD_HTTP_FORBIDDEN', `the token '${session.user ?? ''}' lacks the '${scope}' scope`, { requiredScope: scope });
      }
      this.sessions.touch(session);
      this.#admitted.set(request, session);
    };
  }

  /** The session a `require` hook admitted for this request. */
  sessionOf(request: FastifyRequest): Session {
    const s = this.#admitted.get(request);
    if (s === undefined) throw new Error('sessionOf: the route has no require() hook');
    return s;
  }
}

/** 403 unless the request carries the session's CSRF token and, if any, a same-host Origin. */
export function checkCsrf(request: FastifyRequest, session: Session): void {
  const origin = originProblem(request);
  if (origin !== null) throw new HttpProblem(403, 'OFFLOAD_HTTP_FORBIDDEN', `refused: ${origin}`);
  if (!sameToken(request.headers[CSRF_HEADER], session.csrfToken)) {
    throw new HttpProblem(403, 'OFFLOAD_HTTP_FORBIDDEN', `refused: the CSRF token is missing or wrong; send the session's token (GET /dashboard/session) in the ${CSRF_HEADER} header`);
  }
}
