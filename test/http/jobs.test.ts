/**
 * Reading and controlling jobs over HTTP: GET one, list with filters and pages, cancel, retry,
 * delete, with every refusal, on both stores.
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { defineTask } from '../../src/index.ts';
import { deferred, nextEvent } from '../e2e/helpers.ts';
import { body, httpSuite, type Problem } from './harness.ts';

interface JobBody {
  id: string;
  state: string;
  attempt: number;
  maxAttempts: number;
  queue: string;
  task: string;
  progress: unknown;
  result: unknown;
  errors: Array<Record<string, unknown>>;
  cancelReason: string | null;
  cancelRequestedAt: string | null;
  attemptedAt: string | null;
  finishedAt: string | null;
  workerId: string | null;
  waitMs: number | null;
  runMs: number | null;
}

const noRetryDelay = { attempts: 3, backoff: 'fixed', baseMs: 0, maxMs: 0 } as const;

httpSuite('GET /v1/jobs/:id', (s) => {
  it('shows state, every failed attempt with its error (no stack), progress, result and times', async () => {
    const flaky = defineTask({
      name: s.unique('flaky'),
      retry: noRetryDelay,
      async handler(_p: unknown, ctx) {
        await ctx.progress({ attempt: ctx.attempt });
        if (ctx.attempt < 3) throw Object.assign(new Error(`boom ${ctx.attempt}`), { code: 'E_FLAKY' });
        return { ok: true };
      },
    });
    const { inject, offload } = s.api({ offload: { tasks: [flaky] } });
    const created = body<JobBody>(await inject({ method: 'POST', url: '/v1/jobs', payload: { task: flaky.name, payload: { n: 1 } } }));
    assert.equal(created.waitMs, null);
    assert.equal(created.runMs, null);
    await offload.start({ concurrency: 1 });
    await offload.jobs.waitFor(created.id);
    const res = await inject({ method: 'GET', url: `/v1/jobs/${created.id}` });
    assert.equal(res.statusCode, 200);
    const job = body<JobBody>(res);
    assert.equal(job.state, 'completed');
    assert.equal(job.attempt, 3);
    assert.deepEqual(job.result, { ok: true });
    assert.deepEqual(job.progress, { attempt: 3 });
    assert.deepEqual(job.errors.map((e) => [e['attempt'], e['message'], e['code'], e['name']]), [
      [1, 'boom 1', 'E_FLAKY', 'Error'],
      [2, 'boom 2', 'E_FLAKY', 'Error'],
    ]);
    assert.ok(job.errors.every((e) => !('stack' in e) && typeof e['at'] === 'string'));
    assert.ok(job.attemptedAt !== null && job.finishedAt !== null && job.workerId !== null);
    assert.ok(typeof job.waitMs === 'number' && job.waitMs >= 0);
    assert.ok(typeof job.runMs === 'number' && job.runMs >= 0);
    await offload.stop();
  });

  it('404 for an unknown id, whatever its form', async () => {
    const { inject } = s.api();
    for (const id of ['999999999', 'abc', '99999999999999999999999']) {
      const res = await inject({ method: 'GET', url: `/v1/jobs/${id}` });
      assert.equal(res.statusCode, 404, id);
      assert.equal(body<Problem>(res).code, 'OFFLOAD_JOB_NOT_FOUND');
    }
  });
});

httpSuite('GET /v1/jobs', (s) => {
  it('filters by state, task and queue; pages with a cursor and a Link header', async () => {
    const a = defineTask({ name: s.unique('list.a'), handler: () => null });
    const b = defineTask({ name: s.unique('list.b'), queue: s.unique('list-q'), handler: () => null });
    const { inject } = s.api({ offload: { tasks: [a, b] } });
    const submit = async (task: string, extra: Record<string, unknown> = {}) =>
      body<JobBody>(await inject({ method: 'POST', url: '/v1/jobs', payload: { task, ...extra } })).id;
    const ids = [await submit(a.name), await submit(a.name), await submit(a.name, { delayMs: 60_000 }), await submit(b.name)];

    const list = async (query: string) => {
      const res = await inject({ method: 'GET', url: `/v1/jobs?${query}` });
      assert.equal(res.statusCode, 200, res.body);
      return { ...body<{ jobs: JobBody[]; nextCursor: string | null }>(res), link: res.headers['link'] };
    };
    assert.deepEqual((await list(`task=${a.name}`)).jobs.map((j) => j.id), [ids[2], ids[1], ids[0]]);
    assert.deepEqual((await list(`task=${a.name}&state=scheduled`)).jobs.map((j) => j.id), [ids[2]]);
    // Comma-separated and repeated states mean the same.
    assert.deepEqual((await list(`task=${a.name}&state=scheduled,available`)).jobs.length, 3);
    assert.deepEqual((await list(`task=${a.name}&state=scheduled&state=available`)).jobs.length, 3);
    assert.deepEqual((await list(`queue=${b.queue}`)).jobs.map((j) => j.id), [ids[3]]);

    const first = await list(`task=${a.name}&limit=2`);
    assert.deepEqual(first.jobs.map((j) => j.id), [ids[2], ids[1]]);
    assert.equal(first.nextCursor, ids[1]);
    assert.equal(first.link, `</v1/jobs?task=${encodeURIComponent(a.name)}&limit=2&cursor=${ids[1]}>; rel="next"`);
    const next = await inject({ method: 'GET', url: /<([^>]+)>/.exec(first.link ?? '')![1]! });
    const second = body<{ jobs: JobBody[]; nextCursor: string | null }>(next);
    assert.deepEqual(second.jobs.map((j) => j.id), [ids[0]]);
    assert.equal(second.nextCursor, null);
    assert.equal(next.headers['link'], undefined);
  });

  it('400 for an unknown state, a bad limit or cursor, an unknown parameter', async () => {
    const { inject } = s.api();
    for (const [query, pointer] of [
      ['state=lost', '/state/0'],
      ['state=available,lost', '/state/1'],
      ['limit=0', '/limit'],
      ['limit=1001', '/limit'],
      ['limit=ten', '/limit'],
      ['cursor=abc', '/cursor'],
      ['sort=asc', '/sort'],
    ] as const) {
      const res = await inject({ method: 'GET', url: `/v1/jobs?${query}` });
      assert.equal(res.statusCode, 400, query);
      const p = body<Problem>(res);
      assert.equal(p.code, 'OFFLOAD_HTTP_BAD_REQUEST');
      assert.deepEqual(p.errors?.map((e) => [e.in, e.pointer]), [['query', pointer]], query);
    }
  });
});

httpSuite('POST /v1/jobs/:id/cancel, /retry, DELETE /v1/jobs/:id', (s) => {
  it('cancel: a waiting job at once, with the reason; a final one is 409; an unknown one 404', async () => {
    const t = defineTask({ name: s.unique('later'), handler: () => null });
    const { inject } = s.api({ offload: { tasks: [t] } });
    const job = body<JobBody>(await inject({ method: 'POST', url: '/v1/jobs', payload: { task: t.name, delayMs: 60_000 } }));
    const res = await inject({ method: 'POST', url: `/v1/jobs/${job.id}/cancel`, payload: { reason: 'customer left' } });
    assert.equal(res.statusCode, 200);
    assert.equal(body<JobBody>(res).state, 'cancelled');
    assert.equal(body<JobBody>(res).cancelReason, 'customer left');
    // Cancelling a cancelled job returns it unchanged.
    assert.equal((await inject({ method: 'POST', url: `/v1/jobs/${job.id}/cancel` })).statusCode, 200);
    assert.equal((await inject({ method: 'POST', url: '/v1/jobs/987654321/cancel' })).statusCode, 404);
    const long = await inject({ method: 'POST', url: `/v1/jobs/${job.id}/cancel`, payload: { reason: 'x'.repeat(501) } });
    assert.equal(long.statusCode, 422);
    const unknown = await inject({ method: 'POST', url: `/v1/jobs/${job.id}/cancel`, payload: { why: 'x' } });
    assert.equal(unknown.statusCode, 422);
  });

  it('cancel: a running job has its cancel requested, then ends cancelled; cancelling a completed job is 409', async () => {
    const started = deferred();
    const slow = defineTask({
      name: s.unique('slow'),
      handler: (_p: unknown, ctx) =>
        new Promise((resolve) => {
          started.resolve();
          ctx.signal.addEventListener('abort', () => resolve('aborted'));
        }),
    });
    const quick = defineTask({ name: s.unique('quick'), handler: () => 'done' });
    const { inject, offload } = s.api({ offload: { tasks: [slow, quick], cancelCheckMs: 10 } });
    await offload.start({ concurrency: 2 });
    const job = body<JobBody>(await inject({ method: 'POST', url: '/v1/jobs', payload: { task: slow.name } }));
    await started.promise;
    const cancelled = nextEvent(offload, 'job:cancelled', (p) => p.job.id === job.id);
    const res = await inject({ method: 'POST', url: `/v1/jobs/${job.id}/cancel`, payload: { reason: 'stop it' } });
    assert.equal(res.statusCode, 200);
    assert.equal(body<JobBody>(res).state, 'running');
    assert.ok(body<JobBody>(res).cancelRequestedAt !== null);
    await cancelled;
    const after = body<JobBody>(await inject({ method: 'GET', url: `/v1/jobs/${job.id}` }));
    assert.equal(after.state, 'cancelled');
    assert.equal(after.cancelReason, 'stop it');

    const done = body<JobBody>(await inject({ method: 'POST', url: '/v1/jobs', payload: { task: quick.name } }));
    await offload.jobs.waitFor(done.id);
    const refused = await inject({ method: 'POST', url: `/v1/jobs/${done.id}/cancel` });
    assert.equal(refused.statusCode, 409);
    assert.equal(body<Problem>(refused).code, 'OFFLOAD_INVALID_STATE');
    assert.equal(body<Problem>(refused).state, 'completed');
    await offload.stop();
  });

  it('retry: redrives a discarded job with a fresh budget; an available one is 409; an unknown one 404', async () => {
    const doomed = defineTask({
      name: s.unique('doomed'),
      retry: { attempts: 1 },
      handler: () => {
        throw new Error('always');
      },
    });
    const { inject, offload } = s.api({ offload: { tasks: [doomed] } });
    const job = body<JobBody>(await inject({ method: 'POST', url: '/v1/jobs', payload: { task: doomed.name } }));
    const conflict = await inject({ method: 'POST', url: `/v1/jobs/${job.id}/retry` });
    assert.equal(conflict.statusCode, 409);
    assert.equal(body<Problem>(conflict).state, 'available');
    await offload.start();
    assert.equal((await offload.jobs.waitFor(job.id)).state, 'discarded');
    await offload.stop();
    const res = await inject({ method: 'POST', url: `/v1/jobs/${job.id}/retry` });
    assert.equal(res.statusCode, 200);
    const redriven = body<JobBody>(res);
    assert.equal(redriven.state, 'available');
    assert.equal(redriven.attempt, 0);
    assert.equal(redriven.errors.length, 1);
    assert.equal((await inject({ method: 'POST', url: '/v1/jobs/987654321/retry' })).statusCode, 404);
  });

  it('delete: 204 and gone; a running job is 409; an unknown one 404', async () => {
    const started = deferred();
    const release = deferred();
    const hold = defineTask({
      name: s.unique('hold'),
      handler: async () => {
        started.resolve();
        await release.promise;
        return null;
      },
    });
    const { inject, offload } = s.api({ offload: { tasks: [hold] } });
    const waiting = body<JobBody>(await inject({ method: 'POST', url: '/v1/jobs', payload: { task: hold.name, delayMs: 60_000 } }));
    const res = await inject({ method: 'DELETE', url: `/v1/jobs/${waiting.id}` });
    assert.equal(res.statusCode, 204);
    assert.equal(res.body, '');
    assert.equal((await inject({ method: 'GET', url: `/v1/jobs/${waiting.id}` })).statusCode, 404);
    assert.equal((await inject({ method: 'DELETE', url: `/v1/jobs/${waiting.id}` })).statusCode, 404);

    await offload.start();
    const running = body<JobBody>(await inject({ method: 'POST', url: '/v1/jobs', payload: { task: hold.name } }));
    await started.promise;
    const refused = await inject({ method: 'DELETE', url: `/v1/jobs/${running.id}` });
    assert.equal(refused.statusCode, 409);
    assert.equal(body<Problem>(refused).state, 'running');
    release.resolve();
    await offload.jobs.waitFor(running.id);
    await offload.stop();
  });
});
