/**
 * GET /v1/workers on both stores: every registered worker process, this server's and another
 * client's, with their figures; a stopped one is gone, a silent one is stale; the read scope; a
 * store that fails is a 503 problem.
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { defineTask, OffloadError } from '../../src/index.ts';
import type { WorkerView } from '../../src/http/routes/workers.ts';
import { body, httpSuite, type Problem } from './harness.ts';

const READ = 'r3ad-0nly-secret-0123456789';
const SUBMIT = 'subm1t-secret-0123456789abc';
const tokens = `reader:read:${READ};producer:submit:${SUBMIT}`;
const bearer = (secret: string) => ({ authorization: `Bearer ${secret}` });

httpSuite('GET /v1/workers', (s) => {
  it('lists this server\'s workers and another process\'s, with their figures; a stopped one leaves', async () => {
    const task = defineTask({ name: s.unique('w.task'), queue: s.unique('w-q'), handler: () => null });
    const { inject, offload } = s.api({ offload: { tasks: [task], heartbeatMs: 100 } });
    const other = s.client({ tasks: [task], heartbeatMs: 100 });
    await offload.start({ concurrency: 2 });
    await other.start({ concurrency: 7, queues: [task.queue, 'extra'] });
    const res = await inject({ method: 'GET', url: '/v1/workers' });
    assert.equal(res.statusCode, 200);
    assert.equal(res.headers['cache-control'], 'no-store');
    const listed = body<{ workers: WorkerView[] }>(res).workers;
    const mine = listed.find((w) => w.id === offload.workerId);
    const theirs = listed.find((w) => w.id === other.workerId);
    assert.ok(mine && theirs, 'both processes are listed');
    assert.deepEqual([mine.pid, mine.concurrency, mine.queues, mine.running, mine.heartbeatMs, mine.stale, mine.loop, mine.threads], [process.pid, 2, [task.queue], 0, 100, false, null, null]);
    assert.deepEqual([theirs.concurrency, theirs.queues], [7, [task.queue, 'extra']]);
    assert.match(mine.heartbeatAt, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    assert.ok(Date.parse(mine.startedAt) <= Date.parse(mine.heartbeatAt));
    assert.equal(typeof mine.heartbeatAgeMs, 'number');
    assert.equal(typeof mine.version, 'string');

    await other.stop();
    const after = body<{ workers: WorkerView[] }>(await inject({ method: 'GET', url: '/v1/workers' })).workers;
    assert.equal(after.some((w) => w.id === other.workerId), false, 'a graceful stop removes the row');
    assert.ok(after.some((w) => w.id === offload.workerId));
    await offload.stop();
  });

  it('a worker silent for three heartbeats is listed stale, with its age by the database clock', async () => {
    const { inject, offload } = s.api();
    const id = `${s.unique('ghost-host')}:999999:abcdef`;
    const d = await offload.ready();
    await d.workerHeartbeat({
      worker: { id, host: 'ghost-host', pid: 999999, version: '0.0.1', queues: ['default'], concurrency: 4, running: 2, heartbeatMs: 1000, threads: null, loop: null },
    });
    const fresh = body<{ workers: WorkerView[] }>(await inject({ method: 'GET', url: '/v1/workers' })).workers.find((w) => w.id === id);
    assert.equal(fresh?.stale, false);
    await d.testAgeWorker({ id, ms: 3001 });
    const ghost = body<{ workers: WorkerView[] }>(await inject({ method: 'GET', url: '/v1/workers' })).workers.find((w) => w.id === id);
    assert.equal(ghost?.stale, true);
    assert.ok(ghost.heartbeatAgeMs >= 3001, `${ghost.heartbeatAgeMs}`);
    assert.deepEqual([ghost.host, ghost.pid, ghost.running], ['ghost-host', 999999, 2], 'what it last reported');
    await d.workerRemove({ id });
  });

  it('needs the read scope', async () => {
    const { inject } = s.api({ http: { tokens } });
    assert.equal((await inject({ method: 'GET', url: '/v1/workers' })).statusCode, 401);
    const refused = await inject({ method: 'GET', url: '/v1/workers', headers: bearer(SUBMIT) });
    assert.equal(refused.statusCode, 403);
    assert.equal((await inject({ method: 'GET', url: '/v1/workers', headers: bearer(READ) })).statusCode, 200);
  });

  it('a store that fails is a 503 problem, with no store message in it', async () => {
    const { inject, offload } = s.api();
    await offload.migrate();
    offload.driver.workerList = () => Promise.reject(new OffloadError('OFFLOAD_STORE', 'postgres store: connection refused at 10.0.0.7'));
    const res = await inject({ method: 'GET', url: '/v1/workers' });
    assert.equal(res.statusCode, 503);
    const p = body<Problem>(res);
    assert.equal(p.code, 'OFFLOAD_STORE');
    assert.doesNotMatch(p.detail, /10\.0\.0\.7/);
  });
});
