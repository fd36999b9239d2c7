/**
 * The dashboard's bulk route (POST /dashboard/jobs/bulk) on both stores: a session with `admin`
 * and the CSRF token acts on a filtered set and streams progress; without either, nothing changes.
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { defineTask } from '../../src/index.ts';
import { dashboardSuite, json, login, OPS, TOKENS, VIEWER } from './harness.ts';

dashboardSuite('dashboard bulk actions', (s) => {
  async function scheduled(n: number) {
    const t = defineTask({ name: s.unique('bulk'), handler: () => null });
    const dash = s.serve({ offload: { tasks: [t] }, http: { tokens: TOKENS } });
    await dash.offload.enqueueMany(t, Array.from({ length: n }, () => ({})), { delayMs: 60_000 });
    return { ...dash, t };
  }
  const url = '/dashboard/jobs/bulk';

  it('counts, then cancels the set with progress streamed to the page', async () => {
    const { inject, offload, t } = await scheduled(700);
    const ops = await login(inject, OPS.secret);
    const headers = { ...ops.headers, 'content-type': 'application/json' };
    const dry = await inject({ method: 'POST', url, headers, payload: JSON.stringify({ action: 'cancel', filter: { task: t.name }, dryRun: true }) });
    assert.equal(dry.statusCode, 200, dry.body);
    assert.deepEqual(json(dry), { action: 'cancel', count: 700, capped: false });
    const res = await inject({ method: 'POST', url, headers: { ...headers, accept: 'text/event-stream' }, payload: JSON.stringify({ action: 'cancel', filter: { task: t.name }, reason: 'from the page' }) });
    assert.equal(res.statusCode, 200, res.body);
    const names = [...res.body.matchAll(/^event: (.*)$/gm)].map((m) => m[1]);
    assert.deepEqual(names, ['progress', 'progress', 'done']);
    assert.match(res.body, /"changed":700,"requested":0,"batches":2,"stoppedBy":"done"/);
    assert.deepEqual(await offload.jobs.count({ task: t.name, state: 'cancelled' }), { count: 700, capped: false });
  });

  it('refuses without the CSRF token, with another session token, from another origin, or for a read-only session, and nothing changes', async () => {
    const { inject, offload, t } = await scheduled(3);
    const ops = await login(inject, OPS.secret);
    const other = await login(inject, OPS.secret);
    const viewer = await login(inject, VIEWER.secret);
    const payload = JSON.stringify({ action: 'delete', filter: { task: t.name } });
    const type = { 'content-type': 'application/json' };
    const refused = [
      await inject({ method: 'POST', url, headers: { ...type, cookie: ops.cookie }, payload }),
      await inject({ method: 'POST', url, headers: { ...type, cookie: ops.cookie, 'x-csrf-token': other.csrf }, payload }),
      await inject({ method: 'POST', url, headers: { ...type, ...ops.headers, origin: 'https://evil.example' }, payload }),
      await inject({ method: 'POST', url, headers: { ...type, ...viewer.headers }, payload }),
    ];
    for (const res of refused) {
      assert.equal(res.statusCode, 403, res.body);
      assert.equal(json<{ code: string }>(res).code, 'OFFLOAD_HTTP_FORBIDDEN');
    }
    assert.equal((await inject({ method: 'POST', url, headers: type, payload })).statusCode, 401);
    assert.deepEqual(await offload.jobs.count({ task: t.name }), { count: 3, capped: false });
  });

  it('refuses a bad request as a problem, stream asked or not', async () => {
    const { inject, offload, t } = await scheduled(2);
    const ops = await login(inject, OPS.secret);
    for (const accept of ['application/json', 'text/event-stream']) {
      const headers = { ...ops.headers, 'content-type': 'application/json', accept };
      const noFilter = await inject({ method: 'POST', url, headers, payload: JSON.stringify({ action: 'retry', filter: {} }) });
      assert.equal(noFilter.statusCode, 422);
      assert.match(json<{ detail: string }>(noFilter).detail, /a filter is required/);
      const unknown = await inject({ method: 'POST', url, headers, payload: JSON.stringify({ action: 'retry', filter: { task: t.name }, dryrun: true }) });
      assert.equal(unknown.statusCode, 422);
      assert.equal(json<{ code: string }>(unknown).code, 'OFFLOAD_HTTP_INVALID_REQUEST');
      const broken = await inject({ method: 'POST', url, headers, payload: '{"action":' });
      assert.equal(broken.statusCode, 422);
    }
    assert.deepEqual(await offload.jobs.count({ task: t.name, state: 'scheduled' }), { count: 2, capped: false });
  });
});
