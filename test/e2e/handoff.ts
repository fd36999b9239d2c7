/**
 * Handing a job over at enqueue (Producer.offer), run once per store: an idle worker of the
 * enqueuing process takes the job in its own insert, so the handler starts before `enqueue`
 * returns. Every case where that must not happen is here too: a busy worker, a paused queue, a
 * caller's transaction, a replayed key; and a stop while the insert is out leaves nothing running.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { defineTask, isOffloadError, type Offload } from '../../src/index.ts';
import type { Driver } from '../../src/storage/driver.ts';
import type { TestStore } from '../stores.ts';
import { client, deferred, storeLifecycle } from './helpers.ts';

/**
 * Resolves once the worker's first claim has answered and no job of it runs. Its workers run with
 * prefetch 0, so a claim in flight (after a job ends) reserves half the slots at most, and a job
 * can be handed over meanwhile.
 */
async function idle(o: Offload): Promise<void> {
  for (;;) {
    const w = (await o.stats()).workers;
    if (w !== null && w.lastClaimAt !== null && w.running === 0) return;
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** The store's driver with its inserts held until `open` is called (a slow insert, on demand). */
function gatedInserts(d: Driver): { driver: Driver; open: () => void; held: Promise<void> } {
  const gate = deferred();
  const held = deferred();
  const driver = new Proxy(d, {
    get(target, key) {
      if (key === 'jobInsertMany') {
        return async (p: Parameters<Driver['jobInsertMany']>[0]) => {
          held.resolve();
          await gate.promise;
          return target.jobInsertMany(p);
        };
      }
      const v: unknown = Reflect.get(target, key, target);
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
  return { driver, open: gate.resolve, held: held.promise };
}

export function handoffSuite(make: () => TestStore): void {
  const store = make();
  describe(`hand-over at enqueue: ${store.name}`, () => {
    const { use, name } = storeLifecycle(store);

    function recording() {
      const started: string[] = [];
      const task = defineTask({
        name: name('quick'),
        handler: (_p: { i?: number }, ctx) => {
          started.push(ctx.jobId);
          return { attempt: ctx.attempt };
        },
      });
      return { started, task };
    }

    it('an idle worker starts the job before enqueue returns, as its first attempt', async () => {
      const { started, task } = recording();
      const o = use(client(store, { tasks: [task] }));
      await o.start({ concurrency: 2, prefetch: 0 });
      await idle(o);
      const { job, created } = await o.enqueue(task, { i: 1 });
      assert.equal(created, true);
      assert.deepEqual(started, [job.id], 'the handler ran before enqueue returned');
      assert.equal(job.state, 'running');
      const done = await o.jobs.waitFor(job.id);
      assert.deepEqual([done.state, done.attempt, done.result], ['completed', 1, { attempt: 1 }]);
      assert.equal(done.workerId, (await o.stats()).workers?.id);
    });

    it('a worker with no free slot leaves the job to a claim', async () => {
      const { started, task } = recording();
      const gate = deferred();
      const holding = deferred();
      const hold = defineTask({
        name: name('hold'),
        handler: async () => {
          holding.resolve();
          await gate.promise;
        },
      });
      const o = use(client(store, { tasks: [task, hold] }));
      await o.start({ concurrency: 1 });
      await idle(o);
      const holder = await o.enqueue(hold, {});
      await holding.promise;
      const { job } = await o.enqueue(task, {});
      assert.equal(job.state, 'available');
      assert.deepEqual(started, []);
      gate.resolve();
      await o.jobs.waitFor(holder.job.id);
      assert.equal((await o.jobs.waitFor(job.id)).state, 'completed');
    });

    it("a paused queue's job is not handed over", async () => {
      const { started, task } = recording();
      const o = use(client(store, { tasks: [task] }));
      const queue = name('paused');
      await o.queues.pause(queue);
      await o.start({ concurrency: 2, prefetch: 0, queues: [queue] });
      await idle(o);
      const { job } = await o.enqueue(task, {}, { queue });
      assert.deepEqual([job.state, job.attempt, started.length], ['available', 0, 0]);
      await o.queues.resume(queue);
      assert.equal((await o.jobs.waitFor(job.id)).state, 'completed');
    });

    it('a replayed idempotency key returns the existing job and runs nothing again', async () => {
      const { started, task } = recording();
      const o = use(client(store, { tasks: [task] }));
      await o.start({ concurrency: 2, prefetch: 0 });
      await idle(o);
      const first = await o.enqueue(task, { i: 1 }, { idempotencyKey: 'once' });
      await o.jobs.waitFor(first.job.id);
      await idle(o);
      const again = await o.enqueue(task, { i: 1 }, { idempotencyKey: 'once' });
      assert.deepEqual([again.created, again.job.id, again.job.state], [false, first.job.id, 'completed']);
      assert.deepEqual(started, [first.job.id]);
    });

    it('a handed-over job takes no room in a bounded backlog', async () => {
      const { started, task } = recording();
      const queue = name('bounded');
      const o = use(client(store, { tasks: [task], queues: { [queue]: { maxBacklog: 1 } } }));
      await o.start({ concurrency: 2, prefetch: 0, queues: [queue] });
      await idle(o);
      // Back to back, well within one refresh of the backlog count: each would count as waiting
      // (and the second be refused) if a running job kept its room.
      for (let i = 0; i < 4; i++) {
        const { job } = await o.enqueue(task, { i }, { queue });
        assert.equal(job.state, 'running');
        await o.jobs.waitFor(job.id);
        await idle(o);
      }
      assert.equal(started.length, 4);
    });

    it('a stop while the insert is out waits for it and hands the job back unstarted', async () => {
      const { started, task } = recording();
      const gated = gatedInserts(store.open());
      const o = use(createWith(gated.driver, task));
      await o.start({ concurrency: 2, prefetch: 0 });
      await idle(o);
      const enqueued = o.enqueue(task, {});
      await gated.held;
      let stopped = false;
      const stopping = o.stop({ graceMs: 1000 }).then(() => void (stopped = true));
      await new Promise((r) => setTimeout(r, 50));
      assert.equal(stopped, false, 'the stop waits for the insert that holds a slot');
      gated.open();
      const { job } = await enqueued;
      await stopping;
      const after = await o.jobs.get(job.id);
      assert.deepEqual([after?.state, after?.attempt, started.length], ['available', 0, 0]);
    });

    it('an enqueue in a caller transaction is never handed over (where the store has them)', async (t) => {
      const { started, task } = recording();
      const o = use(client(store, { tasks: [task] }));
      if (!o.driver.capabilities.callerTransactions) {
        await assert.rejects(o.enqueue(task, {}, { tx: {} }), (err: unknown) => isOffloadError(err, 'OFFLOAD_UNSUPPORTED'));
        t.diagnostic(`${store.name}: no caller transactions (embedded store); the refusal is what is tested`);
        return;
      }
      await o.start({ concurrency: 2, prefetch: 0 });
      await idle(o);
      const { default: postgresjs } = await import('postgres');
      const { PG_URL } = await import('../stores.ts');
      const sql = postgresjs(PG_URL, { max: 1, onnotice: () => {} });
      try {
        const { job } = await sql.begin(async (tx) => {
          const r = await o.enqueue(task, {}, { tx });
          assert.deepEqual([r.job.state, started.length], ['available', 0], 'nothing starts before the caller commits');
          return r;
        });
        assert.equal((await o.jobs.waitFor(job.id)).state, 'completed');
      } finally {
        await sql.end();
      }
    });

    function createWith(driver: Driver, task: ReturnType<typeof recording>['task']): Offload {
      return client({ ...store, open: () => driver }, { tasks: [task] });
    }
  });
}
