/**
 * The dashboard plugin on its own terms: mounted beside the API under a prefix, sessions on an
 * injected clock, the built files and the page when they are missing, and its options. One
 * store suffices (SQLite): nothing here depends on the store beyond a client to hand the plugin;
 * the store-dependent behaviour is in access.test.ts and insight.test.ts, on both.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, describe, it } from 'node:test';
import Fastify, { type FastifyInstance } from 'fastify';
import { createOffload, defineTask, type Offload } from '../../src/index.ts';
import { offloadHttp } from '../../src/http/index.ts';
import { TokenStore } from '../../src/http/auth.ts';
import { DEFAULT_ASSETS_DIR } from '../../src/http/dashboard/assets.ts';
import { offloadDashboard } from '../../src/http/dashboard/plugin.ts';
import type { DashboardOptions } from '../../src/http/dashboard/options.ts';
import { silent } from '../e2e/helpers.ts';
import { openSse } from '../http/sse-client.ts';
import { sqliteTestStore } from '../stores.ts';
import { CALM_LOOP, json, login, OPS, TOKENS } from './harness.ts';

const UI_SRC = fileURLToPath(new URL('../../ui/src/', import.meta.url));
/** Registers the dashboard with these options on a fresh instance; rejects with its option error. */
async function register(o: Record<string, unknown>): Promise<void> {
  const f = Fastify();
  try {
    await f.register(offloadDashboard, o as unknown as DashboardOptions);
    await f.ready();
  } finally {
    await f.close();
  }
}

describe('dashboard plugin (sqlite: the store is incidental here)', () => {
  const store = sqliteTestStore();
  const apps: FastifyInstance[] = [];
  const clients: Offload[] = [];
  after(async () => {
    await Promise.all(apps.map((a) => a.close()));
    await Promise.all(clients.map((c) => c.close({ graceMs: 0 })));
    await store.dispose();
  });

  /** An app of the user's own with the API under /api and the dashboard at the root. */
  async function app(options: Partial<DashboardOptions> = {}, tokens = TOKENS) {
    const task = defineTask({ name: 'plugin.echo', handler: (p: unknown) => p });
    const offload = createOffload({ store: store.open(), logger: silent, loop: CALM_LOOP, tasks: [task] });
    clients.push(offload);
    const fastify = Fastify();
    apps.push(fastify);
    await fastify.register(offloadHttp, { offload, tokens, prefix: '/api' });
    await fastify.register(offloadDashboard, { offload, tokens: new TokenStore(tokens), apiPrefix: '/api', ...options });
    await fastify.ready();
    return { fastify, offload, task, inject: fastify.inject.bind(fastify) };
  }

  it('reaches the API under its prefix, as the session\'s token', async () => {
    const { inject, offload, task } = await app();
    const { job } = await offload.enqueue(task, { x: 1 });
    const s = await login(inject, OPS.secret);
    const res = await inject({ method: 'GET', url: `/dashboard/api/v1/jobs/${job.id}`, headers: { cookie: s.cookie } });
    assert.equal(res.statusCode, 200);
    assert.equal(json<{ id: string }>(res).id, job.id);
    // The API itself still wants its bearer token: the session cookie is the dashboard's only.
    assert.equal((await inject({ method: 'GET', url: `/api/v1/jobs/${job.id}`, headers: { cookie: s.cookie } })).statusCode, 401);
  });

  it('a session ends after its idle time and at its maximum age, on the injected clock; each request extends it', async () => {
    let now = Date.parse('2030-01-01T00:00:00Z');
    const { inject } = await app({ now: () => now, sessionIdleMs: 60_000, sessionMaxAgeMs: 150_000 });
    const s = await login(inject, OPS.secret);
    const info = json<{ expiresAt: string }>(await inject({ method: 'GET', url: '/dashboard/session', headers: { cookie: s.cookie } }));
    assert.equal(info.expiresAt, new Date(now + 60_000).toISOString());
    const read = () => inject({ method: 'GET', url: '/dashboard/api/v1/queues', headers: { cookie: s.cookie } });
    now += 59_999;
    assert.equal((await read()).statusCode, 200, 'used within its idle time: extended');
    now += 59_999;
    assert.equal((await read()).statusCode, 200);
    now += 29_000;
    assert.equal((await read()).statusCode, 200, 'about 149 s old');
    now += 1002;
    assert.equal((await read()).statusCode, 401, 'past its maximum age');
    const s2 = await login(inject, OPS.secret);
    now += 60_000;
    const idle = await inject({ method: 'GET', url: '/dashboard/session', headers: { cookie: s2.cookie } });
    assert.equal(idle.statusCode, 401, 'idle for idleMs');
  });

  it('an open stats stream ends with session-expired once its session has', async () => {
    let now = Date.now();
    const { fastify, inject } = await app({ now: () => now, sessionIdleMs: 60_000, statsIntervalMs: 20 });
    const url = await fastify.listen({ port: 0, host: '127.0.0.1' });
    const s = await login(inject, OPS.secret);
    const sse = await openSse(`${url}/dashboard/stats`, { cookie: s.cookie });
    const first = await sse.next((e) => e.event === 'sample');
    assert.ok(sse.events.indexOf(first) > 0, 'after the history');
    now += 60_000;
    await sse.next((e) => e.event === 'session-expired');
    await sse.ended;
  });

  it('without the built page: 503 that says how to build it; the API keeps working', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'offload-no-ui-'));
    const { inject } = await app({ assetsDir: empty }, []);
    for (const url of ['/', '/assets/index-abc.js', '/favicon.svg']) {
      const res = await inject({ method: 'GET', url });
      assert.equal(res.statusCode, 503, url);
      assert.match(res.body, /The dashboard is not built/);
      assert.match(res.body, /npm run build:ui/);
      assert.ok(res.body.includes(empty), 'names the folder');
      assert.match(String(res.headers['content-security-policy']), /default-src 'self'/);
    }
    assert.equal((await inject({ method: 'GET', url: '/api/healthz' })).statusCode, 200);
    assert.equal((await inject({ method: 'GET', url: '/dashboard/session' })).statusCode, 200, 'the server side does not need the files');
  });

  it('serves the built page: index never cached, hashed files for a year; other paths 404', async () => {
    assert.ok(existsSync(join(DEFAULT_ASSETS_DIR, 'index.html')), `the page is not built in ${DEFAULT_ASSETS_DIR}: npm install runs npm run build:ui`);
    const { inject } = await app({}, []);
    const index = await inject({ method: 'GET', url: '/' });
    assert.equal(index.statusCode, 200);
    assert.equal(index.headers['cache-control'], 'no-store');
    // No inline script or style anywhere in the page: the CSP allows none.
    assert.doesNotMatch(index.body, /<script(?![^>]*\bsrc=)[^>]*>/);
    assert.doesNotMatch(index.body, /<style|\sstyle=|\son[a-z]+=/i);
    const script = /<script type="module" crossorigin src="(\/assets\/[^"]+\.js)"/.exec(index.body)?.[1];
    assert.ok(script !== undefined, 'the entry script');
    const js = await inject({ method: 'GET', url: script });
    assert.equal(js.statusCode, 200);
    assert.equal(js.headers['content-type'], 'text/javascript; charset=utf-8');
    assert.equal(js.headers['cache-control'], 'public, max-age=31536000, immutable');
    // The page's own code never writes HTML from strings (Preact escapes all text it renders).
    const sources = readdirSync(UI_SRC, { recursive: true, encoding: 'utf8' }).filter((f) => /\.tsx?$/.test(f));
    assert.ok(sources.length > 10);
    for (const f of sources) assert.ok(!/dangerouslySetInnerHTML|innerHTML|outerHTML|insertAdjacentHTML|document\.write/.test(readFileSync(join(UI_SRC, f), 'utf8')), f);
    const css = readdirSync(join(DEFAULT_ASSETS_DIR, 'assets')).find((f) => f.endsWith('.css'));
    assert.equal((await inject({ method: 'GET', url: `/assets/${css}` })).headers['content-type'], 'text/css; charset=utf-8');
    assert.equal((await inject({ method: 'GET', url: '/favicon.svg' })).headers['content-type'], 'image/svg+xml');
    for (const url of ['/assets/nope.js', '/assets/../package.json', '/assets/%2e%2e/package.json', '/assets/.vite/manifest.json', '/.vite/manifest.json', '/index.html']) {
      assert.equal((await inject({ method: 'GET', url })).statusCode, 404, url);
    }
    // The login page uses the page's stylesheet (from Vite's manifest).
    const { inject: withTokens } = await app();
    assert.ok((await withTokens({ method: 'GET', url: '/login' })).body.includes(`href="/assets/${css}"`));
  });

  it('checks its options: a misspelt one with a suggestion; a prefix, no client or no tokens refused', async () => {
    const offload = createOffload({ store: store.open(), logger: silent });
    clients.push(offload);
    const tokens = new TokenStore([]);
    await assert.rejects(register({ offload, tokens, apiPrefix: '', sessionIdle: 5 }), /unknown option 'sessionIdle' \(did you mean 'sessionIdleMs'\?\)/);
    await assert.rejects(register({ offload, tokens, apiPrefix: '', prefix: '/ui' }), /mounted at the root/);
    await assert.rejects(register({ tokens, apiPrefix: '' }), /offload is required/);
    await assert.rejects(register({ offload, apiPrefix: '' }), /tokens is required/);
    await assert.rejects(register({ offload, tokens, apiPrefix: 'api/' }), /apiPrefix must be/);
    await assert.rejects(register({ offload, tokens, apiPrefix: '', statsIntervalMs: 0 }), /statsIntervalMs: expected an integer in \[10, 60000\]/);
    await assert.rejects(register({ offload, tokens, apiPrefix: '', sessionIdleMs: 60_000, sessionMaxAgeMs: 1000 }), /sessionMaxAgeMs: expected an integer in \[60000,/);
    await assert.rejects(register({ offload, tokens, apiPrefix: '', now: 5 }), /now must be a function/);
    await assert.rejects(register({ offload, tokens, apiPrefix: '', assetsDir: '' }), /assetsDir must be a folder path/);
  });
});
