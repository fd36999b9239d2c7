/**
 * Who may use the dashboard, over HTTP (Fastify's inject: real routing, hooks and parsers): the
 * login with API tokens, the session cookie, the CSRF token on every action (each refusal sent as
 * a direct request, the way a forged one would come), scopes decided by the API, and loopback
 * only without tokens.
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { defineTask } from '../../src/index.ts';
import { nextEvent } from '../e2e/helpers.ts';
import { cookieOf, dashboardSuite, json, login, loginForm, OPS, postLogin, PRODUCER, setCookies, TOKENS, VIEWER, type Dash } from './harness.ts';

dashboardSuite('dashboard access', ({ serve, unique }) => {
  /** A server with tokens and a discarded job of a task that failed once. */
  async function withDiscardedJob(): Promise<Dash & { jobId: string; queue: string }> {
    const queue = unique('q');
    const task = defineTask({ name: unique('fails'), queue, retry: { attempts: 1, backoff: 'fixed', baseMs: 1, maxMs: 1 }, handler: () => Promise.reject(new Error('nope')) });
    const dash = serve({ offload: { tasks: [task] }, http: { tokens: TOKENS } });
    const { job } = await dash.offload.enqueue(task, {});
    const failed = nextEvent(dash.offload, 'job:failed', (p) => p.job.id === job.id);
    await dash.offload.start({ concurrency: 1, queues: [queue] });
    await failed;
    await dash.offload.stop({ graceMs: 0 });
    return { ...dash, jobId: job.id, queue };
  }

  it('with tokens, / sends to the login form; the form comes with the CSP, no script, and a login cookie', async () => {
    const { inject } = serve({ http: { tokens: TOKENS } });
    const root = await inject({ method: 'GET', url: '/' });
    assert.equal(root.statusCode, 303);
    assert.equal(root.headers.location, '/login');
    const form = await inject({ method: 'GET', url: '/login' });
    assert.equal(form.statusCode, 200);
    assert.match(String(form.headers['content-type']), /^text\/html/);
    const csp = String(form.headers['content-security-policy']);
    for (const directive of ["default-src 'self'", "script-src 'self'", "frame-ancestors 'none'", "object-src 'none'", "form-action 'self'"]) assert.ok(csp.includes(directive), directive);
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
    assert.equal(form.headers['x-frame-options'], 'DENY');
    assert.equal(form.headers['x-content-type-options'], 'nosniff');
    assert.doesNotMatch(form.body, /<script/);
    assert.match(form.body, /<form method="post" action="\/login"/);
    const cookie = setCookies(form.headers).find((c) => c.startsWith('offload_login='));
    assert.match(cookie ?? '', /; Path=\/login; Max-Age=3600; HttpOnly; SameSite=Strict$/);
  });

  it('a bad token gets 401 and the form again, without a session; a good one a fresh HttpOnly SameSite=Strict session', async () => {
    const { inject } = serve({ http: { tokens: TOKENS } });
    const form = await loginForm(inject);
    const bad = await postLogin(inject, { token: 'not-a-token-but-long-enough', csrf: form.csrf }, form.cookie);
    assert.equal(bad.statusCode, 401);
    assert.match(bad.body, /That API token is not valid/);
    assert.equal(cookieOf(bad.headers, 'offload_session'), null);
    const empty = await postLogin(inject, { token: '  ', csrf: form.csrf }, form.cookie);
    assert.equal(empty.statusCode, 401);

    const good = await postLogin(inject, { token: OPS.secret, csrf: form.csrf }, form.cookie);
    assert.equal(good.statusCode, 303);
    assert.equal(good.headers.location, '/');
    const session = setCookies(good.headers).find((c) => c.startsWith('offload_session='));
    assert.match(session ?? '', /^offload_session=[A-Za-z0-9_-]{43}; Path=\/; Max-Age=43200; HttpOnly; SameSite=Strict$/);
    assert.ok(setCookies(good.headers).includes('offload_login=; Path=/login; Max-Age=0; HttpOnly; SameSite=Strict'), 'the form token is spent');
    const cookie = cookieOf(good.headers, 'offload_session')!;
    const info = await inject({ method: 'GET', url: '/dashboard/session', headers: { cookie } });
    assert.equal(info.statusCode, 200);
    const s = json<{ authRequired: boolean; user: string; scopes: string[]; csrfToken: string }>(info);
    assert.deepEqual({ authRequired: s.authRequired, user: s.user, scopes: s.scopes }, { authRequired: true, user: 'ops', scopes: ['admin'] });
    assert.match(s.csrfToken, /^[A-Za-z0-9_-]{43}$/);
    assert.equal(info.headers['cache-control'], 'no-store');
    // Logged in, the page is served and /login sends back to it.
    assert.equal((await inject({ method: 'GET', url: '/', headers: { cookie } })).statusCode, 200);
    assert.equal((await inject({ method: 'GET', url: '/login', headers: { cookie } })).headers.location, '/');
    // A second login is a second session, not the first one reused.
    const again = await login(inject, OPS.secret);
    assert.notEqual(again.cookie, cookie);
  });

  it('a login without the form token, with a wrong one, or posted from another origin is refused with 403', async () => {
    const { inject } = serve({ http: { tokens: TOKENS } });
    const form = await loginForm(inject);
    const noCookie = await postLogin(inject, { token: OPS.secret, csrf: form.csrf });
    const noField = await postLogin(inject, { token: OPS.secret }, form.cookie);
    const wrong = await postLogin(inject, { token: OPS.secret, csrf: `${form.csrf}x` }, form.cookie);
    const foreign = await postLogin(inject, { token: OPS.secret, csrf: form.csrf }, form.cookie, { origin: 'https://evil.example' });
    for (const res of [noCookie, noField, wrong, foreign]) {
      assert.equal(res.statusCode, 403);
      assert.equal(cookieOf(res.headers, 'offload_session'), null);
    }
    assert.match(noField.body, /form expired/);
    assert.match(foreign.body, /another origin \(evil\.example\)/);
  });

  it('a token without the read scope cannot log in; one with read only can', async () => {
    const { inject } = serve({ http: { tokens: TOKENS } });
    const form = await loginForm(inject);
    const res = await postLogin(inject, { token: PRODUCER.secret, csrf: form.csrf }, form.cookie);
    assert.equal(res.statusCode, 403);
    assert.match(res.body, /The token &#39;producer&#39; has the submit scope only/);
    assert.equal(cookieOf(res.headers, 'offload_session'), null);
    const viewer = await login(inject, VIEWER.secret);
    assert.equal(json<{ scopes: string[] }>(await inject({ method: 'GET', url: '/dashboard/session', headers: { cookie: viewer.cookie } })).scopes.join(), 'read');
  });

  it('without a session every dashboard route answers 401 with where to log in; a forged cookie is no session', async () => {
    const { inject } = serve({ http: { tokens: TOKENS } });
    for (const cookie of [undefined, 'offload_session=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA']) {
      for (const url of ['/dashboard/session', '/dashboard/stats', '/dashboard/jobs/1', '/dashboard/workers', '/dashboard/api/v1/jobs', '/dashboard/api/v1/queues']) {
        const res = await inject({ method: 'GET', url, headers: cookie === undefined ? {} : { cookie } });
        assert.equal(res.statusCode, 401, url);
        assert.equal(res.headers['content-type'], 'application/problem+json; charset=utf-8');
        const p = json<{ code: string; loginUrl: string }>(res);
        assert.equal(p.code, 'OFFLOAD_HTTP_UNAUTHORIZED');
        assert.equal(p.loginUrl, '/login');
      }
    }
  });

  it('every action needs the session CSRF token: 403 without it, with another session token or from another origin, and nothing changes', async () => {
    const { inject, offload, jobId, queue } = await withDiscardedJob();
    const ops = await login(inject, OPS.secret);
    const other = await login(inject, OPS.secret);
    const retry = `/dashboard/api/v1/jobs/${jobId}/retry`;
    const refused = [
      await inject({ method: 'POST', url: retry, headers: { cookie: ops.cookie } }),
      await inject({ method: 'POST', url: retry, headers: { cookie: ops.cookie, 'x-csrf-token': other.csrf } }),
      await inject({ method: 'POST', url: retry, headers: { cookie: ops.cookie, 'x-csrf-token': '' } }),
      await inject({ method: 'POST', url: retry, headers: { ...ops.headers, origin: 'https://evil.example' } }),
      await inject({ method: 'POST', url: `/dashboard/api/v1/jobs/${jobId}/cancel`, headers: { cookie: ops.cookie, 'content-type': 'application/json' }, payload: '{}' }),
      await inject({ method: 'DELETE', url: `/dashboard/api/v1/jobs/${jobId}`, headers: { cookie: ops.cookie } }),
      await inject({ method: 'POST', url: `/dashboard/api/v1/queues/${queue}/pause`, headers: { cookie: ops.cookie } }),
      await inject({ method: 'POST', url: '/logout', headers: { cookie: ops.cookie } }),
    ];
    for (const res of refused) {
      assert.equal(res.statusCode, 403, res.body);
      assert.equal(json<{ code: string }>(res).code, 'OFFLOAD_HTTP_FORBIDDEN');
    }
    assert.match(refused[0]!.body, /CSRF token is missing or wrong/);
    assert.match(refused[3]!.body, /another origin/);
    assert.equal((await offload.jobs.get(jobId))?.state, 'discarded', 'the job was not touched');
    assert.equal((await offload.queues.get(queue)).paused, false, 'the queue was not paused');
    assert.equal((await inject({ method: 'GET', url: '/dashboard/session', headers: { cookie: ops.cookie } })).statusCode, 200, 'the refused logout ended nothing');

    const ok = await inject({ method: 'POST', url: retry, headers: { ...ops.headers, origin: 'http://localhost:80' } });
    assert.equal(ok.statusCode, 200, ok.body);
    assert.equal(json<{ state: string; attempt: number }>(ok).state, 'available');
    assert.equal(ok.headers['cache-control'], 'no-store');
    const paused = await inject({ method: 'POST', url: `/dashboard/api/v1/queues/${queue}/pause`, headers: ops.headers });
    assert.equal(json<{ paused: boolean }>(paused).paused, true);
  });

  it('scopes are the API\'s: a read token reads through the dashboard, and its actions get the API\'s 403', async () => {
    const { inject, offload, jobId, queue } = await withDiscardedJob();
    const viewer = await login(inject, VIEWER.secret);
    const list = await inject({ method: 'GET', url: `/dashboard/api/v1/jobs?queue=${queue}&state=discarded`, headers: { cookie: viewer.cookie } });
    assert.equal(list.statusCode, 200);
    assert.deepEqual(json<{ jobs: Array<{ id: string }> }>(list).jobs.map((j) => j.id), [jobId]);
    const retry = await inject({ method: 'POST', url: `/dashboard/api/v1/jobs/${jobId}/retry`, headers: viewer.headers });
    assert.equal(retry.statusCode, 403);
    const p = json<{ code: string; requiredScope: string }>(retry);
    assert.deepEqual([p.code, p.requiredScope], ['OFFLOAD_HTTP_FORBIDDEN', 'admin']);
    assert.equal((await offload.jobs.get(jobId))?.state, 'discarded');
    // The dashboard's own reads need read too, which the viewer has.
    assert.equal((await inject({ method: 'GET', url: `/dashboard/jobs/${jobId}`, headers: { cookie: viewer.cookie } })).statusCode, 200);
  });

  it('the proxy passes only the routes the page uses, and the API\'s answers as they are', async () => {
    const { inject } = serve({ http: { tokens: TOKENS } });
    const ops = await login(inject, OPS.secret);
    for (const [method, url] of [
      ['GET', '/dashboard/api/v1/jobs/1/events'],
      ['GET', '/dashboard/api/healthz'],
      ['GET', '/dashboard/api/openapi.json'],
      ['POST', '/dashboard/api/v1/jobs'],
      ['GET', '/dashboard/api/v1/jobs/1/result'],
      ['GET', '/dashboard/api/v1/../healthz'],
    ] as const) {
      const res = await inject({ method, url, headers: ops.headers });
      assert.equal(res.statusCode, 404, `${method} ${url}`);
      assert.equal(json<{ code: string }>(res).code, 'OFFLOAD_HTTP_NOT_FOUND');
    }
    assert.equal((await inject({ method: 'GET', url: '/dashboard/api/v1/jobs/%E0%A4%A', headers: ops.headers })).statusCode, 400);
    const missing = await inject({ method: 'GET', url: '/dashboard/api/v1/jobs/99999999', headers: ops.headers });
    assert.equal(missing.statusCode, 404);
    assert.equal(json<{ code: string }>(missing).code, 'OFFLOAD_JOB_NOT_FOUND');
    const badQuery = await inject({ method: 'GET', url: '/dashboard/api/v1/jobs?state=sleeping', headers: ops.headers });
    assert.equal(badQuery.statusCode, 400);
    assert.equal(badQuery.headers['content-type'], 'application/problem+json; charset=utf-8');
    const tooBig = await inject({ method: 'POST', url: '/dashboard/api/v1/jobs/1/cancel', headers: { ...ops.headers, 'content-type': 'application/json' }, payload: JSON.stringify({ reason: 'x'.repeat(70_000) }) });
    assert.equal(tooBig.statusCode, 413);
    const plain = await inject({ method: 'POST', url: '/dashboard/api/v1/jobs/1/cancel', headers: { ...ops.headers, 'content-type': 'text/plain' }, payload: 'x' });
    assert.equal(plain.statusCode, 415);
  });

  it('logout ends the session and clears the cookie; a logout without a session only clears it', async () => {
    const { inject } = serve({ http: { tokens: TOKENS } });
    const ops = await login(inject, OPS.secret);
    const out = await inject({ method: 'POST', url: '/logout', headers: ops.headers });
    assert.equal(out.statusCode, 204);
    assert.ok(setCookies(out.headers).includes('offload_session=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict'));
    assert.equal((await inject({ method: 'GET', url: '/dashboard/session', headers: { cookie: ops.cookie } })).statusCode, 401);
    assert.equal((await inject({ method: 'POST', url: '/logout', headers: { cookie: ops.cookie } })).statusCode, 204);
  });

  it('without tokens: no login, loopback peers and host names only, and actions still need the CSRF token', async () => {
    const queue = unique('local');
    const { inject, offload } = serve();
    assert.equal((await inject({ method: 'GET', url: '/login' })).headers.location, '/');
    assert.equal((await inject({ method: 'POST', url: '/login', headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: 'token=x' })).headers.location, '/');
    const page = await inject({ method: 'GET', url: '/' });
    assert.equal(page.statusCode, 200);
    const local = await login(inject, null);
    const info = json<{ authRequired: boolean; user: null; scopes: string[] }>(await inject({ method: 'GET', url: '/dashboard/session', headers: { cookie: local.cookie } }));
    assert.deepEqual(info, { ...info, authRequired: false, user: null, scopes: ['admin', 'read', 'submit'] });

    const pause = `/dashboard/api/v1/queues/${queue}/pause`;
    assert.equal((await inject({ method: 'POST', url: pause, headers: { cookie: local.cookie } })).statusCode, 403);
    assert.equal((await offload.queues.get(queue)).paused, false);
    const ok = await inject({ method: 'POST', url: pause, headers: local.headers });
    assert.equal(ok.statusCode, 200, ok.body);
    assert.equal((await offload.queues.get(queue)).paused, true);

    // DNS rebinding: a page of another name that resolves to 127.0.0.1 sends its own Host.
    for (const url of ['/', '/dashboard/session', '/dashboard/api/v1/jobs', '/assets/x.js', '/logout']) {
      const rebound = await inject({ method: url === '/logout' ? 'POST' : 'GET', url, headers: { host: 'rebound.evil.example', cookie: local.cookie } });
      assert.equal(rebound.statusCode, 403, url);
      assert.match(json<{ detail: string }>(rebound).detail, /loopback host name/);
    }
    const remote = await inject({ method: 'GET', url: '/dashboard/session', remoteAddress: '10.1.2.3' });
    assert.equal(remote.statusCode, 403);
    assert.match(json<{ detail: string }>(remote).detail, /only clients on this machine/);
  });
});
