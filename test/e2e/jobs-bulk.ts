/**
 * Bulk actions and search by idempotency key through the public API, once per store: retry,
 * cancel and delete of a filtered set in batches, their counts, budget, signal and refusals.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { defineTask, isOffloadError, type BulkProgress, type Offload } from '../../src/index.ts';
import type { TestStore } from '../stores.ts';
import { client, deferred, nextEvent, storeLifecycle } from './helpers.ts';

/** Resolves once `n` jobs of `task` reached `event`. */
function count(o: Offload, event: 'job:completed' | 'job:failed' | 'job:cancelled', task: string, n: number): Promise<void> {
  let seen = 0;
  return new Promise((resolve) => {
    const off = o.on(event, (p) => {
      if (p.job.task !== task || ++seen < n) return;
      off();
      resolve();
    });
  });
}

async function states(o: Offload, task: string): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  let cursor: string | null = null;
  do {
    const page = await o.jobs.list({ task, limit: 1000, ...(cursor === null ? {} : { cursor }) });
    for (const j of page.jobs) out[j.state] = (out[j.state] ?? 0) + 1;
    cursor = page.nextCursor;
  } while (cursor !== null);
  return out;
}

/** The call fails with OFFLOAD_INVALID_OPTIONS and a message matching `message`. */
function refused(call: Promise<unknown>, message: RegExp): Promise<void> {
  return assert.rejects(call, (err: unknown) => isOffloadError(err, 'OFFLOAD_INVALID_OPTIONS') && message.test(err.message));
}

export function jobsBulkSuite(make: () => TestStore): void {
  const store = make();
  describe(`jobs in bulk: ${store.name}`, () => {
    const { use, name } = storeLifecycle(store);

    it('search by idempotency key finds exactly the jobs with that key, across tasks', async () => {
      const a = defineTask({ name: name('search.a'), handler: () => null });
      const b = defineTask({ name: name('search.b'), handler: () => null });
      const o = use(client(store, { tasks: [a, b] }));
      const key = `order-${name('k')}`;
      const ja = (await o.enqueue(a, { n: 1 }, { idempotencyKey: key })).job;
      const jb = (await o.enqueue(b, { n: 2 }, { idempotencyKey: key })).job;
      await o.enqueue(a, { n: 3 }, { idempotencyKey: `${key}0` });
      await o.enqueue(a, { n: 4 });
      const found = await o.jobs.list({ idempotencyKey: key });
      assert.deepEqual(found.jobs.map((j) => j.id), [jb.id, ja.id]);
      assert.deepEqual((await o.jobs.list({ idempotencyKey: key, task: a.name })).jobs.map((j) => j.id), [ja.id]);
      const paged = await o.jobs.list({ idempotencyKey: key, limit: 1 });
      assert.deepEqual([paged.jobs.map((j) => j.id), paged.nextCursor], [[jb.id], jb.id]);
      assert.deepEqual((await o.jobs.list({ idempotencyKey: key, cursor: paged.nextCursor! })).jobs.map((j) => j.id), [ja.id]);
      await assert.rejects(o.jobs.list({ idempotencyKey: '' }), (err: unknown) => isOffloadError(err, 'OFFLOAD_INVALID_OPTIONS'));
      await assert.rejects(o.jobs.list({ idempotencyKey: 'x'.repeat(513) }), (err: unknown) => isOffloadError(err, 'OFFLOAD_INVALID_OPTIONS'));
    });

    it('retries 2 500 discarded jobs in batches, reports counts and progress, and they all complete', async () => {
      let failing = true;
      const flaky = defineTask({
        name: name('bulk.flaky'),
        retry: { attempts: 1 },
        handler: () => {
          if (failing) throw new Error('down');
          return 'ok';
        },
      });
      const o = use(client(store, { tasks: [flaky] }));
      const discarded = count(o, 'job:failed', flaky.name, 2500);
      await o.enqueueMany(flaky, Array.from({ length: 2500 }, (_, i) => ({ i })));
      await o.start({ concurrency: 200 });
      await discarded;
      assert.deepEqual(await states(o, flaky.name), { discarded: 2500 });
      assert.deepEqual(await o.jobs.count({ task: flaky.name }, { action: 'retry' }), { count: 2500, capped: false });
      assert.deepEqual(await o.jobs.count({ task: flaky.name }, { action: 'retry', upTo: 1000 }), { count: 1000, capped: true });

      failing = false;
      const completed = count(o, 'job:completed', flaky.name, 2500);
      const progress: BulkProgress[] = [];
      const result = await o.jobs.retryMany({ task: flaky.name, state: 'discarded' }, { onProgress: (p) => progress.push(p) });
      assert.deepEqual(result, { action: 'retry', changed: 2500, requested: 0, batches: 5, stoppedBy: 'done' });
      assert.deepEqual(progress.map((p) => p.changed), [500, 1000, 1500, 2000, 2500]);
      await completed;
      assert.deepEqual(await states(o, flaky.name), { completed: 2500 });
      // Completed jobs are not retried: nothing left for the same filter without a state.
      assert.deepEqual(await o.jobs.retryMany({ task: flaky.name }), { action: 'retry', changed: 0, requested: 0, batches: 0, stoppedBy: 'done' });
    });

    it('refuses a bad filter or bad options with a clear error, and changes nothing', async () => {
      const t = defineTask({ name: name('bulk.refuse'), handler: () => null });
      const o = use(client(store, { tasks: [t] }));
      await o.enqueueMany(t, [{}, {}, {}], { delayMs: 60_000 });
      const before = await states(o, t.name);
      await refused(o.jobs.retryMany({}), /a filter is required/);
      await refused(o.jobs.deleteMany(undefined as never), /a filter is required/);
      await refused(o.jobs.cancelMany({ tsak: t.name } as never), /did you mean 'task'/);
      await refused(o.jobs.retryMany({ task: t.name, state: 'failed' as never }), /unknown state 'failed'/);
      await refused(o.jobs.retryMany({ task: t.name, state: [] }), /empty list/);
      await refused(o.jobs.retryMany({ task: t.name, state: ['completed', 'running'] }), /retry applies to .* none of them/);
      await refused(o.jobs.deleteMany({ task: t.name, state: 'running' }), /delete applies to/);
      await refused(o.jobs.cancelMany({ task: t.name, state: 'completed' }), /cancel applies to/);
      await refused(o.jobs.retryMany({ task: t.name }, { max: 0 }), /max/);
      await refused(o.jobs.retryMany({ task: t.name }, { max: 1_000_001 }), /max/);
      await refused(o.jobs.retryMany({ task: t.name }, { batchSize: 5000 }), /batchSize/);
      await refused(o.jobs.retryMany({ task: t.name }, { signal: 'stop' as never }), /signal/);
      await refused(o.jobs.retryMany({ task: t.name }, { onProgress: 1 as never }), /onProgress/);
      await refused(o.jobs.cancelMany({ task: t.name }, { reason: '' }), /reason/);
      await refused(o.jobs.deleteMany({ idempotencyKey: '' }), /idempotencyKey/);
      await refused(o.jobs.deleteMany({ task: '' }), /task/);
      await refused(o.jobs.count({ task: t.name }, { action: 'purge' as never }), /action/);
      assert.deepEqual(await states(o, t.name), before);
    });

    it('stops at the max budget, and on the signal between batches', async () => {
      const t = defineTask({ name: name('bulk.budget'), handler: () => null });
      const o = use(client(store, { tasks: [t] }));
      await o.enqueueMany(t, Array.from({ length: 10 }, () => ({})), { delayMs: 60_000 });
      const capped = await o.jobs.cancelMany({ task: t.name }, { max: 3, batchSize: 2 });
      assert.deepEqual([capped.changed, capped.batches, capped.stoppedBy], [3, 2, 'max']);
      const abort = new AbortController();
      const stopped = await o.jobs.cancelMany({ task: t.name }, { batchSize: 2, signal: abort.signal, onProgress: () => abort.abort() });
      assert.deepEqual([stopped.changed, stopped.batches, stopped.stoppedBy], [2, 1, 'signal']);
      assert.deepEqual(await states(o, t.name), { cancelled: 5, scheduled: 5 });
    });

    it('acts only on jobs that existed when the run started', async () => {
      const t = defineTask({ name: name('bulk.snapshot'), handler: () => null });
      const o = use(client(store, { tasks: [t] }));
      await o.enqueueMany(t, Array.from({ length: 4 }, () => ({})), { delayMs: 60_000 });
      const late: { id?: Promise<string> } = {};
      const r = await o.jobs.cancelMany(
        { task: t.name, state: 'scheduled' },
        // Enqueued while the run is under way: a newer job than the run's bound.
        { batchSize: 2, onProgress: () => void (late.id ??= o.enqueue(t, {}, { delayMs: 60_000 }).then((e) => e.job.id)) },
      );
      assert.equal(r.changed, 4);
      assert.ok(late.id !== undefined);
      assert.equal((await o.jobs.get(await late.id))?.state, 'scheduled');
    });

    it('cancel in bulk ends waiting jobs at once and stops running ones through their worker', async () => {
      const started = deferred();
      const slow = defineTask({
        name: name('bulk.slow'),
        handler: async (_p, ctx) => {
          started.resolve();
          await new Promise((resolve) => ctx.signal.addEventListener('abort', resolve, { once: true }));
          ctx.signal.throwIfAborted();
        },
      });
      const o = use(client(store, { tasks: [slow], cancelCheckMs: 20 }));
      const { job: running } = await o.enqueue(slow, {});
      await o.start({ concurrency: 1 });
      await started.promise;
      const waiting = await o.enqueueMany(slow, [{}, {}], { delayMs: 60_000 });
      const cancelled = nextEvent(o, 'job:cancelled', (p) => p.job.id === running.id);
      const r = await o.jobs.cancelMany({ task: slow.name }, { reason: 'incident 42' });
      assert.deepEqual([r.changed, r.requested, r.stoppedBy], [2, 1, 'done']);
      for (const w of waiting) assert.deepEqual([(await o.jobs.get(w.job.id))?.state, (await o.jobs.get(w.job.id))?.cancelReason], ['cancelled', 'incident 42']);
      await cancelled;
      const done = await o.jobs.waitFor(running.id, { timeoutMs: 10_000 });
      assert.deepEqual([done.state, done.cancelReason], ['cancelled', 'incident 42']);
    });

    it('delete in bulk removes final and waiting jobs, never a running one', async () => {
      const started = deferred();
      const release = deferred();
      const t = defineTask({
        name: name('bulk.delete'),
        handler: async (p: { hold?: boolean }) => {
          if (p.hold !== true) return null;
          started.resolve();
          await release.promise;
          return null;
        },
      });
      const o = use(client(store, { tasks: [t] }));
      const finished = count(o, 'job:completed', t.name, 3);
      await o.enqueueMany(t, [{}, {}, {}]);
      await o.start({ concurrency: 4 });
      await finished;
      const { job: held } = await o.enqueue(t, { hold: true });
      await started.promise;
      await o.enqueueMany(t, [{}, {}], { delayMs: 60_000 });
      assert.deepEqual(await o.jobs.count({ task: t.name }), { count: 6, capped: false });
      assert.deepEqual(await o.jobs.count({ task: t.name }, { action: 'delete' }), { count: 5, capped: false });
      const r = await o.jobs.deleteMany({ task: t.name });
      assert.deepEqual([r.changed, r.stoppedBy], [5, 'done']);
      assert.deepEqual(await states(o, t.name), { running: 1 });
      release.resolve();
      assert.equal((await o.jobs.waitFor(held.id, { timeoutMs: 10_000 })).state, 'completed');
    });
  });
}
