/**
 * Liveness, readiness, load shedding under a blocked event loop, and the queue routes, on both
 * stores. The loop tests wait on the client's loop events, never on sleeps.
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { defineTask } from '../../src/index.ts';
import { deferred, nextEvent } from '../e2e/helpers.ts';
import { body, httpSuite, type Problem } from './harness.ts';

/** Holds the event loop for `ms`: what a CPU-bound handler on the main thread does. */
function blockLoop(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    // busy on purpose
  }
}

/**
 * Awaits a loop event. The loop monitor's timer is unreferenced (it never keeps a process alive),
 * so while a test waits on it something must: a referenced timer that does nothing else.
 */
async function awaitLoop<T>(event: Promise<T>): Promise<T> {
  const hold = setInterval(() => {}, 1000);
  try {
    return await event;
  } finally {
    clearInterval(hold);
  }
}

interface Ready {
  status: string;
  checks: { store: string; loop: { overloaded: boolean }; workers: { claiming: boolean; concurrency: number } | null };
}

httpSuite('health and readiness', (s) => {
  it('/healthz answers ok without touching the store, even once the store is closed', async () => {
    const { inject, offload } = s.api();
    await offload.close();
    const res = await inject({ method: 'GET', url: '/healthz' });
    assert.equal(res.statusCode, 200);
    assert.deepEqual(body(res), { status: 'ok' });
  });

  it('/readyz: ready with the store answering; workers reported once started', async () => {
    const t = defineTask({ name: s.unique('r'), handler: () => null });
    const { inject, offload } = s.api({ offload: { tasks: [t] } });
    const idle = body<Ready>(await inject({ method: 'GET', url: '/readyz' }));
    assert.equal(idle.status, 'ready');
    assert.equal(idle.checks.store, 'ok');
    assert.equal(idle.checks.workers, null);
    await offload.start({ concurrency: 3 });
    const res = await inject({ method: 'GET', url: '/readyz' });
    assert.equal(res.statusCode, 200);
    assert.deepEqual(body<Ready>(res).checks.workers && { claiming: body<Ready>(res).checks.workers!.claiming, concurrency: body<Ready>(res).checks.workers!.concurrency }, { claiming: true, concurrency: 3 });
    await offload.stop();
  });

  it('/readyz: 503 when the store cannot be used', async () => {
    const { inject, offload } = s.api();
    await offload.close();
    const res = await inject({ method: 'GET', url: '/readyz' });
    assert.equal(res.statusCode, 503);
    const p = body<Problem>(res);
    assert.equal(p.code, 'OFFLOAD_HTTP_NOT_READY');
    assert.equal((p.checks as Ready['checks']).store, 'error');
    assert.equal(res.headers['retry-after'], '1');
  });

  it('/readyz: 503 when the store answers but refuses the claims (connected, not claiming)', async () => {
    const t = defineTask({ name: s.unique('refused-claims'), handler: () => null });
    const { inject, offload } = s.api({ offload: { tasks: [t], pollMs: 20 } });
    // Reads work, claims fail: what a store without write access, or a broken claim, looks like.
    offload.driver.jobClaim = () => Promise.reject(new Error('claims refused'));
    let failed = 0;
    const threeFailures = new Promise<void>((resolve) => {
      const off = offload.on('error', (e) => {
        if (e.component === 'producer' && ++failed === 3) {
          off();
          resolve();
        }
      });
    });
    await offload.start();
    await threeFailures;
    const res = await inject({ method: 'GET', url: '/readyz' });
    assert.equal(res.statusCode, 503);
    const p = body<Problem>(res);
    assert.equal(p.code, 'OFFLOAD_HTTP_NOT_READY');
    assert.match(p.detail ?? '', /claims failed/);
    assert.equal((p.checks as Ready['checks']).store, 'ok', 'the store itself answers');
    await offload.stop({ graceMs: 0 });
  });

  it('/readyz: 503 when the store does not answer within readyTimeoutMs', async () => {
    const { inject, offload } = s.api({ http: { readyTimeoutMs: 50 } });
    // A store that does not answer until the test is over: the check must give up, not hang the probe.
    const answer = deferred();
    const real = offload.stats.bind(offload);
    offload.stats = async () => (await answer.promise, real());
    const res = await inject({ method: 'GET', url: '/readyz' });
    answer.resolve();
    assert.equal(res.statusCode, 503);
    assert.equal((body<Problem>(res).checks as Ready['checks']).store, 'timeout');
  });

  it('a blocked event loop: submits get 503 with Retry-After before their body is read; health stays up; then it recovers', async () => {
    const t = defineTask({ name: s.unique('shed'), handler: () => null });
    const { inject, offload } = s.api({ offload: { tasks: [t], loop: {} } });
    // The first request loads the plugin, which starts the loop monitor.
    assert.equal((await inject({ method: 'GET', url: '/healthz' })).statusCode, 200);
    const overloaded = nextEvent(offload, 'loop:overloaded');
    blockLoop(400);
    await awaitLoop(overloaded);
    // A malformed body is not even parsed: the refusal comes first.
    const shed = await inject({ method: 'POST', url: '/v1/jobs', headers: { 'content-type': 'application/json' }, payload: '{not json' });
    assert.equal(shed.statusCode, 503);
    assert.equal(shed.headers['retry-after'], '1');
    const p = body<Problem>(shed);
    assert.equal(p.code, 'OFFLOAD_HTTP_LOOP_OVERLOADED');
    assert.ok((p.loop as { delayP99Ms: number }).delayP99Ms > 100);
    assert.equal((await inject({ method: 'GET', url: '/v1/jobs' })).statusCode, 503);
    assert.equal((await inject({ method: 'GET', url: '/healthz' })).statusCode, 200);
    const ready = await inject({ method: 'GET', url: '/readyz' });
    assert.equal(ready.statusCode, 503);
    assert.equal(((body<Problem>(ready).checks as Ready['checks']).loop).overloaded, true);

    await awaitLoop(nextEvent(offload, 'loop:recovered'));
    assert.equal((await inject({ method: 'POST', url: '/v1/jobs', payload: { task: t.name } })).statusCode, 202);
    assert.equal((await inject({ method: 'GET', url: '/readyz' })).statusCode, 200);
  });

  it('shedLoad: false serves through an overload', async () => {
    const t = defineTask({ name: s.unique('noshed'), handler: () => null });
    const { inject, offload } = s.api({ offload: { tasks: [t], loop: {} }, http: { shedLoad: false } });
    offload.loop();
    const overloaded = nextEvent(offload, 'loop:overloaded');
    blockLoop(400);
    await awaitLoop(overloaded);
    assert.equal((await inject({ method: 'POST', url: '/v1/jobs', payload: { task: t.name } })).statusCode, 202);
    await awaitLoop(nextEvent(offload, 'loop:recovered'));
  });
});

interface Queue {
  name: string;
  paused: boolean;
  counts: Record<string, number>;
  waiting: number;
  drainPerSec: number;
  estimatedWaitMs: number | null;
  maxBacklog: number | null;
}

httpSuite('queues', (s) => {
  it('GET /v1/queues: depth by state, waiting, drain rate, estimate and bound', async () => {
    const queue = s.unique('mail');
    const t = defineTask({ name: s.unique('send'), queue, handler: () => null });
    const { inject } = s.api({ offload: { tasks: [t], queues: { [queue]: { maxBacklog: 100 } } } });
    await inject({ method: 'POST', url: '/v1/jobs:batch', payload: { task: t.name, payloads: [1, 2] } });
    await inject({ method: 'POST', url: '/v1/jobs', payload: { task: t.name, delayMs: 60_000 } });
    const res = await inject({ method: 'GET', url: '/v1/queues' });
    assert.equal(res.statusCode, 200);
    const q = body<{ queues: Queue[] }>(res).queues.find((x) => x.name === queue);
    assert.ok(q !== undefined);
    assert.equal(q.counts['available'], 2);
    assert.equal(q.counts['scheduled'], 1);
    assert.equal(q.waiting, 3);
    assert.equal(q.maxBacklog, 100);
    assert.equal(q.paused, false);
    assert.equal(q.drainPerSec, 0);
    assert.equal(q.estimatedWaitMs, null);
  });

  it('pause and resume: stored for every client sharing the store, reported, and work resumes', async () => {
    const queue = s.unique('reports');
    const t = defineTask({ name: s.unique('report'), queue, handler: () => 'ok' });
    const { inject, offload } = s.api({ offload: { tasks: [t] } });
    const paused = await inject({ method: 'POST', url: `/v1/queues/${queue}/pause` });
    assert.equal(paused.statusCode, 200);
    assert.equal(body<Queue>(paused).paused, true);
    const list = body<{ queues: Queue[] }>(await inject({ method: 'GET', url: '/v1/queues' }));
    assert.equal(list.queues.find((q) => q.name === queue)?.paused, true);
    // Another client sharing the store sees the pause too.
    const other = s.client({ tasks: [t] });
    assert.equal((await other.queues.list()).find((q) => q.name === queue)?.paused, true);

    const job = body<{ id: string }>(await inject({ method: 'POST', url: '/v1/jobs', payload: { task: t.name } }));
    await offload.start();
    const resumed = await inject({ method: 'POST', url: `/v1/queues/${queue}/resume` });
    assert.equal(resumed.statusCode, 200);
    assert.equal(body<Queue>(resumed).paused, false);
    assert.equal((await offload.jobs.waitFor(job.id)).state, 'completed');
    await offload.stop();
  });

  it('400 for a queue name that is not one', async () => {
    const { inject } = s.api();
    const res = await inject({ method: 'POST', url: '/v1/queues/-bad!/pause' });
    assert.equal(res.statusCode, 400);
    assert.deepEqual(body<Problem>(res).errors?.map((e) => [e.in, e.pointer]), [['path', '/name']]);
  });
});
