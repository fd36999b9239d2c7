/**
 * Search by idempotency key and bulk actions over HTTP (GET /v1/jobs?idempotencyKey=,
 * POST /v1/jobs/bulk), on both stores: counts, the event stream, scopes and every refusal.
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { defineTask } from '../../src/index.ts';
import { body, httpSuite, type Problem } from './harness.ts';

const READ = 'r3ad-0nly-secret-0123456789';
const ADMIN = 'adm1n-secret-0123456789abcd';
const tokens = `reader:read:${READ};ops:admin:${ADMIN}`;
const bearer = (secret: string) => ({ authorization: `Bearer ${secret}` });

/** The events of a whole text/event-stream body. */
function events(text: string): Array<{ event: string; data: unknown }> {
  return text
    .split('\n\n')
    .map((block) => {
      const event = /^event: (.*)$/m.exec(block)?.[1];
      const data = /^data: (.*)$/m.exec(block)?.[1];
      return event === undefined || data === undefined ? null : { event, data: JSON.parse(data) as unknown };
    })
    .filter((e) => e !== null);
}

httpSuite('GET /v1/jobs?idempotencyKey', (s) => {
  it('finds exactly the jobs with the key, across tasks, and pages through them', async () => {
    const a = defineTask({ name: s.unique('a'), handler: () => null });
    const b = defineTask({ name: s.unique('b'), handler: () => null });
    const { inject, offload } = s.api({ offload: { tasks: [a, b] } });
    const key = `order/${s.unique('k')} é`;
    const ja = (await offload.enqueue(a, {}, { idempotencyKey: key })).job;
    const jb = (await offload.enqueue(b, {}, { idempotencyKey: key })).job;
    await offload.enqueue(a, {}, { idempotencyKey: `${key}x` });
    const res = await inject({ method: 'GET', url: `/v1/jobs?idempotencyKey=${encodeURIComponent(key)}&limit=1` });
    assert.equal(res.statusCode, 200);
    const page = body<{ jobs: Array<{ id: string; idempotencyKey: string }>; nextCursor: string }>(res);
    assert.deepEqual(page.jobs.map((j) => [j.id, j.idempotencyKey]), [[jb.id, key]]);
    const next = /<([^>]+)>; rel="next"/.exec(res.headers['link'] as string)?.[1];
    assert.ok(next?.includes(`idempotencyKey=${encodeURIComponent(key).replaceAll('%20', '+')}`), `the next link keeps the key: ${next}`);
    const rest = body<{ jobs: Array<{ id: string }>; nextCursor: null }>(await inject({ method: 'GET', url: next! }));
    assert.deepEqual([rest.jobs.map((j) => j.id), rest.nextCursor], [[ja.id], null]);
    assert.equal((await inject({ method: 'GET', url: '/v1/jobs?idempotencyKey=' })).statusCode, 400);
    assert.equal((await inject({ method: 'GET', url: `/v1/jobs?idempotencyKey=${'k'.repeat(513)}` })).statusCode, 400);
  });
});

const failing = (name: string) => defineTask({ name, retry: { attempts: 1 }, handler: () => Promise.reject(new Error('down')) });

httpSuite('POST /v1/jobs/bulk', (s) => {
  async function discardedJobs(n: number) {
    const t = failing(s.unique('bulk'));
    const api = s.api({ offload: { tasks: [t] }, http: { tokens } });
    let seen = 0;
    const all = new Promise<void>((resolve) => api.offload.on('job:failed', () => ++seen === n && resolve()));
    await api.offload.enqueueMany(t, Array.from({ length: n }, () => ({})));
    await api.offload.start({ concurrency: 50 });
    await all;
    await api.offload.stop({ graceMs: 0 });
    return { ...api, t };
  }

  it('counts with dryRun, retries the set in batches and answers the counts', async () => {
    const { inject, offload, t } = await discardedJobs(1200);
    const post = (payload: unknown) => inject({ method: 'POST', url: '/v1/jobs/bulk', headers: bearer(ADMIN), payload: payload as object });
    const dry = await post({ action: 'retry', filter: { task: t.name, state: ['discarded'] }, dryRun: true });
    assert.equal(dry.statusCode, 200);
    assert.deepEqual(body(dry), { action: 'retry', count: 1200, capped: false });
    assert.deepEqual(body(await post({ action: 'retry', filter: { task: t.name }, dryRun: true, max: 1000 })), { action: 'retry', count: 1000, capped: true });
    assert.equal((await offload.jobs.count({ task: t.name, state: 'discarded' })).count, 1200, 'a dry run changes nothing');
    const res = await post({ action: 'retry', filter: { task: t.name, state: ['discarded'] } });
    assert.equal(res.statusCode, 200);
    assert.equal(res.headers['cache-control'], 'no-store');
    assert.deepEqual(body(res), { action: 'retry', changed: 1200, requested: 0, batches: 3, stoppedBy: 'done' });
    assert.deepEqual(await offload.jobs.count({ task: t.name, state: 'available' }), { count: 1200, capped: false });
  });

  it('streams progress after every batch, then done, when asked for an event stream', async () => {
    const { inject, offload, t } = await discardedJobs(1100);
    const res = await inject({
      method: 'POST',
      url: '/v1/jobs/bulk',
      headers: { ...bearer(ADMIN), accept: 'text/event-stream' },
      payload: { action: 'delete', filter: { task: t.name }, max: 1050 },
    });
    assert.equal(res.statusCode, 200);
    assert.match(res.headers['content-type'] as string, /^text\/event-stream/);
    const evs = events(res.body);
    assert.deepEqual(evs.map((e) => e.event), ['progress', 'progress', 'progress', 'done']);
    assert.deepEqual(evs.map((e) => (e.data as { changed: number }).changed), [500, 1000, 1050, 1050]);
    assert.deepEqual(evs.at(-1)?.data, { action: 'delete', changed: 1050, requested: 0, batches: 3, stoppedBy: 'max' });
    assert.equal((await offload.jobs.count({ task: t.name })).count, 50);
  });

  it('refuses a bad filter or body with a clear problem, and changes nothing', async () => {
    const t = defineTask({ name: s.unique('refuse'), handler: () => null });
    const { inject, offload } = s.api({ offload: { tasks: [t] }, http: { tokens } });
    await offload.enqueueMany(t, [{}, {}], { delayMs: 60_000 });
    const post = (payload: unknown, headers: Record<string, string> = {}) =>
      inject({ method: 'POST', url: '/v1/jobs/bulk', headers: { ...bearer(ADMIN), ...headers }, payload: payload as string });
    const cases: Array<[unknown, number, string, RegExp]> = [
      [{ action: 'retry', filter: {} }, 422, 'OFFLOAD_INVALID_OPTIONS', /a filter is required/],
      [{ action: 'retry', filter: { state: ['completed'] } }, 422, 'OFFLOAD_INVALID_OPTIONS', /retry applies to/],
      [{ action: 'delete', filter: { task: t.name, state: ['running'] } }, 422, 'OFFLOAD_INVALID_OPTIONS', /delete applies to/],
      [{ action: 'purge', filter: { task: t.name } }, 422, 'OFFLOAD_HTTP_INVALID_REQUEST', /action/],
      [{ action: 'cancel', filter: { tsak: t.name } }, 422, 'OFFLOAD_HTTP_INVALID_REQUEST', /tsak/],
      [{ action: 'cancel', filter: { state: [] } }, 422, 'OFFLOAD_HTTP_INVALID_REQUEST', /state/],
      [{ action: 'cancel', filter: { state: ['failed'] } }, 422, 'OFFLOAD_HTTP_INVALID_REQUEST', /state/],
      [{ action: 'cancel', filter: { task: t.name }, max: 0 }, 422, 'OFFLOAD_HTTP_INVALID_REQUEST', /max/],
      [{ action: 'cancel', filter: { task: t.name }, max: 2_000_000 }, 422, 'OFFLOAD_HTTP_INVALID_REQUEST', /max/],
      [{ action: 'cancel' }, 422, 'OFFLOAD_HTTP_INVALID_REQUEST', /filter/],
      [{ action: 'cancel', filter: { task: t.name }, reason: '' }, 422, 'OFFLOAD_HTTP_INVALID_REQUEST', /reason/],
    ];
    for (const [payload, status, code, detail] of cases) {
      for (const accept of ['application/json', 'text/event-stream']) {
        const res = await post(payload, { accept });
        assert.equal(res.statusCode, status, `${JSON.stringify(payload)} (${accept}): ${res.body}`);
        const p = body<Problem>(res);
        assert.equal(p.code, code);
        assert.match(p.detail, detail);
      }
    }
    assert.equal((await post('{"action":', { 'content-type': 'application/json' })).statusCode, 400);
    assert.equal((await post('action=retry', { 'content-type': 'application/x-www-form-urlencoded' })).statusCode, 415);
    assert.deepEqual(await offload.jobs.count({ task: t.name, state: 'scheduled' }), { count: 2, capped: false });
  });

  it('needs the admin scope, as the single-job actions', async () => {
    const t = defineTask({ name: s.unique('scoped'), handler: () => null });
    const { inject, offload } = s.api({ offload: { tasks: [t] }, http: { tokens } });
    await offload.enqueue(t, {}, { delayMs: 60_000 });
    const payload = { action: 'cancel', filter: { task: t.name } };
    assert.equal((await inject({ method: 'POST', url: '/v1/jobs/bulk', payload })).statusCode, 401);
    assert.equal((await inject({ method: 'POST', url: '/v1/jobs/bulk', headers: bearer(READ), payload })).statusCode, 403);
    assert.equal((await inject({ method: 'POST', url: '/v1/jobs/bulk', headers: bearer(READ), payload: { ...payload, dryRun: true } })).statusCode, 403);
    assert.deepEqual(await offload.jobs.count({ task: t.name, state: 'scheduled' }), { count: 1, capped: false });
  });

  it('is in the OpenAPI document with its scope', async () => {
    const { inject } = s.api({ http: { tokens } });
    const doc = body<{ paths: Record<string, Record<string, { 'x-required-scope'?: string; security?: unknown; requestBody?: unknown }>> }>(await inject({ method: 'GET', url: '/openapi.json' }));
    const op = doc.paths['/v1/jobs/bulk']?.['post'];
    assert.ok(op?.requestBody, 'documented with its body');
    assert.match(JSON.stringify(op), /admin/);
  });
});
