/**
 * GET /login, POST /login and POST /logout. The login page is written by the server (html.ts):
 * it works before the page's code loads, and carries no script.
 *
 * A login posts an API token with the form's double-submit CSRF token (csrf.ts). A token holding
 * `read` or `admin` starts a session (sessions.ts): a fresh id in an HttpOnly, SameSite=Strict
 * cookie, then a redirect to the page. A wrong token gets 401 and the form again; the answer does
 * not say whether a token of that name exists. Without API tokens there is nothing to log in to:
 * /login redirects to the page.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { TokenStore } from '../auth.ts';
import type { DashboardAccess } from './access.ts';
import { checkCsrf } from './access.ts';
import type { DashboardAssets } from './assets.ts';
import { cookieHeader, LOGIN_COOKIE, readCookie, SESSION_COOKIE } from './cookies.ts';
import { originProblem, sameToken } from './csrf.ts';
import { escapeHtml, htmlPage } from './html.ts';
import { newSecret } from './sessions.ts';

const LOGIN_FORM_MAX_AGE_S = 3600;

export interface LoginDeps {
  access: DashboardAccess;
  tokens: TokenStore;
  assets: DashboardAssets;
  sessionMaxAgeMs: number;
}

const secure = (request: FastifyRequest): boolean => request.protocol === 'https';

function loginPage(csrf: string, error: string | null, stylesheets: readonly string[]): string {
  const alert = error === null ? '' : `<p class="login-error" role="alert" id="login-error">${escapeHtml(error)}</p>`;
  return htmlPage(
    'Log in · offload',
    stylesheets,
    `<main class="login" id="main">
<h1>offload</h1>
<p>Log in with an API token that has the <code>read</code> scope; <code>admin</code> also lets you retry, cancel and delete jobs and pause queues.</p>
<form method="post" action="/login" class="login-form">
<input type="hidden" name="csrf" value="${escapeHtml(csrf)}">
<label for="token">API token</label>
<input id="token" name="token" type="password" autocomplete="off" spellcheck="false" required autofocus${error === null ? '' : ' aria-describedby="login-error"'}>
${alert}
<button type="submit">Log in</button>
</form>
<p class="login-hint">The server's tokens are set with <code>OFFLOAD_API_TOKENS</code> (<code>name:scopes:secret</code>). The session ends after a while without use, and when the server restarts.</p>
</main>`,
  );
}

export function loginRoutes(fastify: FastifyInstance, deps: LoginDeps): void {
  const { access, tokens, assets } = deps;

  /** The form with a fresh double-submit token; `status` 200, or the refusal's. */
  const form = (request: FastifyRequest, reply: FastifyReply, status: number, error: string | null): FastifyReply => {
    const csrf = newSecret();
    return reply
      .code(status)
      .header('set-cookie', cookieHeader(LOGIN_COOKIE, csrf, { path: '/login', maxAgeS: LOGIN_FORM_MAX_AGE_S, secure: secure(request) }))
      .header('cache-control', 'no-store')
      .type('text/html; charset=utf-8')
      .send(loginPage(csrf, error, assets.load()?.stylesheets ?? []));
  };

  fastify.get('/login', async (request, reply) => {
    if (!access.authRequired || access.current(request) !== null) return reply.redirect('/', 303);
    return form(request, reply, 200, null);
  });

  fastify.post('/login', async (request, reply) => {
    if (!access.authRequired) return reply.redirect('/', 303);
    const origin = originProblem(request);
    if (origin !== null) return form(request, reply, 403, `Refused: ${origin}.`);
    const body = (typeof request.body === 'object' && request.body !== null ? request.body : {}) as Record<string, unknown>;
    const expected = readCookie(request.headers.cookie, LOGIN_COOKIE);
    if (expected === undefined || !sameToken(body['csrf'], expected)) {
      return form(request, reply, 403, 'The form expired, or this browser does not keep cookies for this site. Try again.');
    }
    const secret = typeof body['token'] === 'string' ? body['token'].trim() : '';
    const token = secret === '' ? null : tokens.find(secret);
    if (token === null) {
      request.log.info({ event: 'dashboard-login-refused' }, 'dashboard login with an invalid token');
      return form(request, reply, 401, 'That API token is not valid.');
    }
    if (!token.scopes.has('read') && !token.scopes.has('admin')) {
      return form(request, reply, 403, `The token '${token.name}' has the ${[...token.scopes].join(', ')} scope only; the dashboard needs read (or admin).`);
    }
    const session = access.sessions.create({ user: token.name, scopes: token.scopes, secret });
    request.log.info({ token: token.name, event: 'dashboard-login' }, 'dashboard login');
    return reply
      .header('set-cookie', [
        cookieHeader(SESSION_COOKIE, session.id, { path: '/', maxAgeS: deps.sessionMaxAgeMs / 1000, secure: secure(request) }),
        cookieHeader(LOGIN_COOKIE, '', { path: '/login', maxAgeS: 0, secure: secure(request) }),
      ])
      .redirect('/', 303);
  });

  fastify.post('/logout', async (request, reply) => {
    access.checkLoopback(request);
    const session = access.current(request);
    // Without a live session there is nothing to end and nothing to forge: just clear the cookie.
    if (session !== null) {
      checkCsrf(request, session);
      access.sessions.delete(session.id);
    }
    return reply.header('set-cookie', cookieHeader(SESSION_COOKIE, '', { path: '/', maxAgeS: 0, secure: secure(request) })).code(204).send();
  });
}
