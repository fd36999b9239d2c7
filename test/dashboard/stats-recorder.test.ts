/**
 * The stats recorder on both stores, ticked by the test (tick() is the timer's work, like
 * runOnce() of the periodic services): counts and durations from real jobs, depth from the
 * store, the ring bound, listeners, and a store that stops answering.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { createOffload, defineTask, isOffloadError, type Offload } from '../../src/index.ts';
import { StatsRecorder } from '../../src/http/dashboard/stats-recorder.ts';
import type { StatsSampleEvent } from '../../src/http/dashboard/protocol.ts';
import { nextEvent, silent } from '../e2e/helpers.ts';
import { STORES } from '../stores.ts';
import { CALM_LOOP } from './harness.ts';

for (const make of STORES) {
  const store = make();
  describe(`StatsRecorder: ${store.name}`, () => {
    const clients: Offload[] = [];
    const recorders: StatsRecorder[] = [];
    let n = 0;
    after(async () => {
      await Promise.all(recorders.map((r) => r.stop()));
      await Promise.all(clients.map((c) => c.close({ graceMs: 0 })));
      await store.dispose();
    });
    const setup = (options: ConstructorParameters<typeof StatsRecorder>[1] = {}) => {
      const queue = `rec.${++n}`;
      // A second queue that takes one waiting job, no more.
      const bound = `${queue}.bound`;
      let fail = false;
      const task = defineTask({
        name: `rec.task.${n}`,
        queue,
        retry: { attempts: 2, backoff: 'fixed', baseMs: 60_000, maxMs: 60_000 },
        handler: () => (fail ? Promise.reject(new Error('planned')) : Promise.resolve('done')),
      });
      const offload = createOffload({ store: store.open(), logger: silent, loop: CALM_LOOP, tasks: [task], queues: { [bound]: { maxBacklog: 1 } } });
      clients.push(offload);
      // A long interval: the test ticks; the timer never does.
      const recorder = new StatsRecorder(offload, { intervalMs: 60_000, ...options });
      recorders.push(recorder);
      return { offload, recorder, task, queue, bound, failNext: (v: boolean) => (fail = v) };
    };

    it('a tick counts the jobs of the interval: completed, failed attempts, rejected enqueues; then starts over', async () => {
      const { offload, recorder, task, queue, bound, failNext } = setup();
      recorder.start();
      await offload.start({ concurrency: 2, queues: [queue] });
      const jobs = await Promise.all([0, 1, 2].map(async (i) => (await offload.enqueue(task, { i })).job));
      await Promise.all(jobs.map((j) => offload.jobs.waitFor(j.id)));
      failNext(true);
      const failed = nextEvent(offload, 'job:failed');
      await offload.enqueue(task, { i: 3 });
      await failed;
      await offload.enqueue(task, {}, { queue: bound });
      await assert.rejects(offload.enqueue(task, {}, { queue: bound }), (err) => isOffloadError(err, 'OFFLOAD_OVERLOADED'));

      const s = recorder.tick();
      assert.deepEqual([s.completed, s.failed, s.rejected], [3, 1, 1]);
      assert.ok(s.waitMs !== null && s.waitMs.p50 >= 0 && s.waitMs.p99 >= s.waitMs.p95 && s.waitMs.p95 >= s.waitMs.p50);
      assert.ok(s.runMs !== null && s.runMs.p99 >= s.runMs.p50);
      assert.equal(typeof s.loop.p99, 'number');
      const next = recorder.tick();
      assert.deepEqual([next.completed, next.failed, next.rejected, next.waitMs, next.runMs], [0, 0, 0, null, null]);
    });

    it('depth comes from a read of the store: null for an interval without a completed read', async () => {
      const { offload, recorder, task, queue } = setup();
      await offload.enqueue(task, {});
      await offload.enqueue(task, {}, { delayMs: 600_000 });
      const before = recorder.tick();
      assert.equal(before.depth, null, 'never read');
      assert.equal(recorder.current().readAt, null);
      await recorder.refresh();
      const s = recorder.tick();
      assert.ok(s.depth !== null);
      assert.ok(s.depth.available >= 1 && s.depth.scheduled >= 1);
      assert.equal(recorder.current().queues.find((q) => q.name === queue)?.counts.available, 1);
      assert.equal(recorder.tick().depth, null, 'no read since: not repeated as if fresh');
    });

    it('reads the store every tick while a page listens, every idleReadEvery ticks otherwise', async () => {
      // Every read stamps readAt from this clock, so a new readAt is a new read.
      let clock = 0;
      const { recorder } = setup({ idleReadEvery: 3, now: () => ++clock });
      const readAt = () => recorder.current().readAt;
      const tickAndSettle = async () => {
        const s = recorder.tick();
        await recorder.whenRead();
        return s;
      };
      await tickAndSettle();
      const first = readAt();
      assert.notEqual(first, null, 'never read yet: the first tick reads');
      await tickAndSettle();
      await tickAndSettle();
      assert.equal(readAt(), first, 'two idle ticks: no read');
      await tickAndSettle();
      const third = readAt();
      assert.notEqual(third, first, 'the third idle tick reads');

      const events: StatsSampleEvent[] = [];
      const off = recorder.subscribe((e) => events.push(e));
      const seen = new Set<number | null>([third]);
      for (let i = 0; i < 3; i++) {
        await tickAndSettle();
        seen.add(readAt());
      }
      assert.equal(seen.size, 4, 'one read per tick while listened to');
      assert.equal(events.length, 3);
      assert.ok(events.slice(1).every((e) => e.sample.depth !== null), 'each listened tick has the read the one before started');
      assert.deepEqual(events.map((e) => e.current.readAt).slice(1), [...seen].slice(1, 3));
      off();
      await tickAndSettle();
      assert.equal(events.length, 3, 'unsubscribed');
    });

    it('keeps at most its capacity, oldest first, and hands it out as the history', () => {
      let now = 1000;
      const { recorder } = setup({ capacity: 3, now: () => now });
      for (let i = 0; i < 5; i++) {
        now += 1000;
        recorder.tick();
      }
      const h = recorder.history();
      assert.equal(h.intervalMs, 60_000);
      assert.deepEqual(h.samples.map((s) => s.t), [4000, 5000, 6000]);
    });

    it('start and stop are idempotent; after stop, events are no longer counted', async () => {
      const { offload, recorder, task, queue } = setup();
      recorder.start();
      recorder.start();
      assert.equal(recorder.running, true);
      await recorder.stop();
      await recorder.stop();
      assert.equal(recorder.running, false);
      await offload.start({ concurrency: 1, queues: [queue] });
      const { job } = await offload.enqueue(task, {});
      await offload.jobs.waitFor(job.id);
      assert.equal(recorder.tick().completed, 0);
    });

    it('a store that stops answering is reported by its code, not its message; the last good picture stays', async () => {
      const { offload, recorder } = setup();
      await recorder.refresh();
      assert.equal(recorder.current().storeError, null);
      assert.notEqual(recorder.tick().depth, null);
      const readAt = recorder.current().readAt;
      await offload.close({ graceMs: 0 });
      await recorder.refresh();
      const c = recorder.current();
      assert.match(c.storeError ?? '', /^the job store did not answer \(OFFLOAD_[A-Z_]+\)$/);
      assert.equal(c.readAt, readAt, 'the last good read stays');
      assert.equal(recorder.tick().depth, null, 'the failed read gives no depth');
    });
  });
}
