/**
 * Flow control through the public API, once per store: admission control (maxBacklog), start
 * deadlines (ttlMs / expiresAt), paused queues, and the event-loop guard (blocking detection and
 * claiming held back while the loop is overloaded).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { defineTask, isOffloadError, type Offload, type OverloadDetails } from '../../src/index.ts';
import type { TestStore } from '../stores.ts';
import { client, deferred, nextEvent, storeLifecycle } from './helpers.ts';

const count = async (o: Offload, task: string) => (await o.jobs.list({ task, limit: 1000 })).jobs.length;
const refused = (err: unknown) => isOffloadError(err, 'OFFLOAD_INVALID_OPTIONS');

export function flowControlSuite(make: () => TestStore): void {
  const store = make();
  describe(`flow control: ${store.name}`, () => {
    const { use, name } = storeLifecycle(store);

    it('a full backlog refuses enqueues with OFFLOAD_OVERLOADED and a positive retryAfterMs, storing nothing', async () => {
      const queue = name('bounded');
      const task = defineTask({ name: name('bounded-task'), queue, handler: () => 'done' });
      const o = use(client(store, { tasks: [task], queues: { [queue]: { maxBacklog: 5 } } }));
      const rejected = nextEvent(o, 'job:rejected');
      await Promise.all(Array.from({ length: 5 }, (_, i) => o.enqueue(task, { i })));
      await assert.rejects(o.enqueue(task, { i: 5 }), (err: unknown) => {
        assert.ok(isOffloadError(err, 'OFFLOAD_OVERLOADED'));
        const d = err.details as OverloadDetails;
        assert.deepEqual([d.queue, d.task, d.maxBacklog, d.waiting], [queue, task.name, 5, 5]);
        assert.ok(d.retryAfterMs > 0);
        return true;
      });
      assert.deepEqual(await rejected, { task: task.name, queue, reason: 'backlog' });
      await assert.rejects(o.enqueueMany(task, [{ a: 1 }, { a: 2 }]), (err: unknown) => isOffloadError(err, 'OFFLOAD_OVERLOADED'));
      assert.equal(await count(o, task.name), 5, 'nothing stored beyond the bound');
      const stats = await o.queues.get(queue);
      assert.deepEqual([stats.waiting, stats.maxBacklog], [5, 5]);
    });

    it('a replayed idempotency key does not use backlog room; room comes back as jobs drain', async () => {
      const queue = name('drain');
      const task = defineTask({ name: name('drain-task'), queue, handler: () => 'done' });
      const o = use(client(store, { tasks: [task], queues: { [queue]: { maxBacklog: 2 } }, admissionRefreshMs: 0 }));
      const first = await o.enqueue(task, { n: 1 }, { idempotencyKey: 'k1' });
      const replay = await o.enqueue(task, { n: 1 }, { idempotencyKey: 'k1' });
      assert.equal(replay.created, false);
      await o.enqueue(task, { n: 2 });
      await assert.rejects(o.enqueue(task, { n: 3 }), (err: unknown) => isOffloadError(err, 'OFFLOAD_OVERLOADED'));
      // Full now: a replay still answers with its job (a client retrying after a lost answer
      // learns it exists), another payload with the key still conflicts, a new key is refused.
      const full = await o.enqueue(task, { n: 1 }, { idempotencyKey: 'k1' });
      assert.deepEqual([full.created, full.job.id], [false, first.job.id]);
      await assert.rejects(o.enqueue(task, { n: 9 }, { idempotencyKey: 'k1' }), (err: unknown) => isOffloadError(err, 'OFFLOAD_IDEMPOTENCY_CONFLICT'));
      await assert.rejects(o.enqueue(task, { n: 1 }, { idempotencyKey: 'k2' }), (err: unknown) => isOffloadError(err, 'OFFLOAD_OVERLOADED'));
      await o.start({ concurrency: 2 });
      await o.jobs.waitFor(first.job.id);
      const all = (await o.jobs.list({ task: task.name })).jobs;
      await Promise.all(all.map((j) => o.jobs.waitFor(j.id)));
      await o.stop();
      // Two jobs finished just now: the drain rate is measured, and the queue has room again.
      const stats = await o.queues.get(queue);
      assert.ok(stats.drainPerSec > 0);
      assert.equal(stats.waiting, 0);
      const again = await o.enqueue(task, { n: 4 });
      assert.equal(again.created, true);
    });

    it('a job whose start deadline passes while it waits never runs and ends cancelled, reason expired', async () => {
      let ran = 0;
      const task = defineTask({ name: name('stale'), handler: () => void ran++ });
      const o = use(client(store, { tasks: [task], expireIntervalMs: 20 }));
      const { job } = await o.enqueue(task, {}, { ttlMs: 60_000 });
      assert.ok(job.expiresAt !== null && job.expiresAt.getTime() > job.createdAt.getTime());
      // Stale without waiting: the job is aged two minutes, past its deadline by the store's clock.
      await o.driver.testAgeJob({ id: job.id, ms: 120_000 });
      const expired = nextEvent(o, 'job:expired', (e) => e.job.id === job.id);
      await o.start();
      const e = await expired;
      assert.deepEqual([e.job.state, e.job.cancelReason], ['cancelled', 'expired']);
      const done = await o.jobs.waitFor(job.id);
      assert.deepEqual([done.state, done.cancelReason, done.attempt], ['cancelled', 'expired', 0]);
      assert.equal(ran, 0, 'the handler never ran');
      await o.stop();
    });

    it("a start deadline is judged by the store's clock, whatever this host's clock says", { timeout: 30_000 }, async () => {
      // The host's clock an hour ahead of the database's, then an hour behind (as with PostgreSQL on
      // another machine): a job with a minute to start runs once, at once, and is never handed back.
      const realNow = Date.now;
      try {
        for (const skewMs of [3_600_000, -3_600_000]) {
          Date.now = () => realNow() + skewMs;
          const task = defineTask({ name: name('skew'), handler: (p: { skewMs: number }) => p.skewMs });
          const o = use(client(store, { tasks: [task] }));
          let released = 0;
          o.on('job:released', () => void released++);
          const { job } = await o.enqueue(task, { skewMs }, { ttlMs: 60_000 });
          await o.start();
          const done = await o.jobs.waitFor(job.id);
          assert.deepEqual([done.state, done.result, done.attempt, released], ['completed', skewMs, 1, 0]);
          await o.stop();
        }
      } finally {
        Date.now = realNow;
      }
    });

    it('a short retry backoff runs when it is due, not at the next poll', { timeout: 20_000 }, async () => {
      let attempts = 0;
      const flaky = defineTask({
        name: name('flaky'),
        retry: { attempts: 2, backoff: 'fixed', baseMs: 50, maxMs: 50 },
        handler: () => {
          if (++attempts === 1) throw new Error('first attempt fails');
          return 'second';
        },
      });
      // A poll a minute apart: only the wake-up at the retry's due time can run it within the test.
      const o = use(client(store, { tasks: [flaky], pollMs: 60_000 }));
      const { job } = await o.enqueue(flaky, {});
      await o.start();
      const done = await o.jobs.waitFor(job.id);
      assert.deepEqual([done.state, done.result, done.attempt], ['completed', 'second', 2]);
      await o.stop();
    });

    it('refuses deadlines the job cannot meet', async () => {
      const task = defineTask({ name: name('deadline'), handler: () => null });
      const o = use(client(store, { tasks: [task] }));
      await assert.rejects(o.enqueue(task, {}, { expiresAt: new Date(Date.now() - 1) }), refused);
      await assert.rejects(o.enqueue(task, {}, { delayMs: 5000, ttlMs: 1000 }), refused);
      await assert.rejects(o.enqueue(task, {}, { ttlMs: 1000, expiresAt: new Date(Date.now() + 5000) }), refused);
      await assert.rejects(o.enqueue(task, {}, { expiresAt: new Date('nope') }), refused);
      await assert.rejects(o.enqueue(task, {}, { ttlMs: -5 }), refused);
      assert.equal(await count(o, task.name), 0);
    });

    it('a paused queue is not worked until it is resumed, by a client in another process', async () => {
      const queue = name('pausable');
      const ran = deferred<string>();
      const task = defineTask({ name: name('paused-task'), queue, handler: (_p: unknown, ctx) => ran.resolve(ctx.jobId) });
      const probe = defineTask({ name: name('probe'), queue: name('unpaused'), handler: () => 'probe' });
      const worker = use(client(store, { tasks: [task, probe], pollMs: 20 }));
      const admin = use(client(store, { tasks: [task, probe] }));
      const paused = await admin.queues.pause(queue);
      assert.equal(paused.paused, true);
      const { job } = await admin.enqueue(task, {});
      await worker.start();
      // A job of another queue, enqueued after ours, completes: claims ran, and passed ours over.
      const other = await admin.enqueue(probe, {});
      assert.equal((await worker.jobs.waitFor(other.job.id)).state, 'completed');
      assert.equal((await worker.jobs.get(job.id))?.state, 'available');
      assert.equal((await worker.queues.get(queue)).paused, true, 'the pause is stored, seen by every client');
      await admin.queues.resume(queue);
      assert.equal(await ran.promise, job.id);
      assert.equal((await worker.jobs.waitFor(job.id)).state, 'completed');
      await worker.stop();
    });

    it('a main-thread handler that holds the loop 500 ms is reported by name and claiming pauses', async () => {
      const spin = defineTask({
        name: name('spin'),
        handler: () => {
          const end = Date.now() + 500;
          while (Date.now() < end) {
            // CPU work on the main thread: the mistake the guard exists to catch.
          }
          return 'spun';
        },
      });
      const later = defineTask({ name: name('later'), handler: () => 'later' });
      const warnings: string[] = [];
      const logger = { debug() {}, info() {}, error() {}, warn: (_o: unknown, msg?: string) => void warnings.push(msg ?? ''), child: () => logger };
      const o = use(client(store, { tasks: [spin, later], logger, loop: { maxDelayMs: 100, blockedMs: 200 } }));
      const blocked = nextEvent(o, 'loop:blocked');
      const overloaded = nextEvent(o, 'loop:overloaded');
      const { job } = await o.enqueue(spin, {});
      await o.start({ concurrency: 1 });
      const b = await blocked;
      assert.ok(b.durationMs >= 200, `held ${b.durationMs} ms`);
      assert.deepEqual(b.tasks, [spin.name]);
      assert.ok(warnings.some((w) => w.includes(spin.name) && w.includes("kind: 'thread'")), 'the warning names the task and the cure');
      await overloaded;
      assert.equal(o.loop().overloaded, true);
      const stats = await o.stats();
      assert.deepEqual([stats.workers?.claiming, stats.workers?.pausedBy], [false, 'loop']);
      assert.ok(stats.workers?.lastClaimAt instanceof Date, 'the claim that took the spinning job answered');
      assert.equal(stats.workers.claimFailuresInARow, 0);
      // While overloaded nothing new is claimed; once the loop recovers the next job runs.
      const next = await o.enqueue(later, {});
      assert.equal((await o.jobs.get(next.job.id))?.state, 'available');
      await nextEvent(o, 'loop:recovered');
      assert.equal((await o.jobs.waitFor(next.job.id)).state, 'completed');
      assert.equal((await o.jobs.waitFor(job.id)).result, 'spun');
      await o.stop();
    });
  });
}
