/**
 * Handing a job over at enqueue (Producer.offer), run once per store: an idle worker of the
 * enqueuing process takes the job in its own insert, so the handler starts without a claim, on
 * the turn after `enqueue` returns, in the worker's async context. Every case where that must not
 * happen is here too: a busy worker, a paused queue, a caller's transaction, a replayed key; a stop
 * while the insert is out leaves nothing running, and an insert error after its commit gives the
 * lease back.
 */
import assert from 'node:assert/strict';
import { AsyncLocalStorage } from 'node:async_hooks';
import { describe, it } from 'node:test';
import { defineTask, isOffloadError, type Offload } from '../../src/index.ts';
import type { Driver } from '../../src/storage/driver.ts';
import type { TestStore } from '../stores.ts';
import { client, deferred, overriding, storeLifecycle } from './helpers.ts';

/**
 * Resolves once no job of the worker runs and a claim has answered (since `after`, when given:
 * a finished job wakes the producer, whose claim must be over before it counts as idle again).
 */
async function idle(o: Offload, after: Date | null = null): Promise<void> {
  for (;;) {
    const w = (await o.stats()).workers;
    if (w !== null && w.lastClaimAt !== null && w.running === 0 && (after === null || w.lastClaimAt >= after)) return;
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** The store's driver, counting its claims. */
function countingClaims(d: Driver): { driver: Driver; claims: () => number } {
  let n = 0;
  const driver = overriding(d, {
    jobClaim: (real) => (p) => {
      n++;
      return real.jobClaim(p);
    },
  });
  return { driver, claims: () => n };
}

/** The store's driver whose inserts commit and then report an error (a connection lost on the way back). */
function insertsFailAfterCommit(d: Driver): Driver {
  return overriding(d, {
    jobInsertMany: (real) => async (p) => {
      await real.jobInsertMany(p);
      throw new Error('connection lost after the commit');
    },
  });
}

/** The store's driver with its inserts held until `open` is called (a slow insert, on demand). */
function gatedInserts(d: Driver): { driver: Driver; open: () => void; held: Promise<void> } {
  const gate = deferred();
  const held = deferred();
  const driver = overriding(d, {
    jobInsertMany: (real) => async (p) => {
      held.resolve();
      await gate.promise;
      return real.jobInsertMany(p);
    },
  });
  return { driver, open: gate.resolve, held: held.promise };
}

export function handoffSuite(make: () => TestStore): void {
  const store = make();
  describe(`hand-over at enqueue: ${store.name}`, () => {
    const { use, name } = storeLifecycle(store);

    const als = new AsyncLocalStorage<string>();

    function recording() {
      const started: string[] = [];
      const contexts: Array<string | undefined> = [];
      const first = deferred();
      const task = defineTask({
        name: name('quick'),
        handler: (_p: { i?: number }, ctx) => {
          started.push(ctx.jobId);
          contexts.push(als.getStore());
          first.resolve();
          return { attempt: ctx.attempt };
        },
      });
      return { started, contexts, first, task };
    }

    it('an idle worker takes the job in its insert: started without a claim, after enqueue returned, as its first attempt', async () => {
      const { started, first, task } = recording();
      const counted = countingClaims(store.open());
      // No poll in the window: every claim here would be the producer's answer to a wake-up.
      const o = use(client({ ...store, open: () => counted.driver }, { tasks: [task], pollMs: 60_000, loop: false }));
      await o.start({ concurrency: 2, prefetch: 0 });
      await idle(o);
      const claims = counted.claims();
      const { job, created } = await o.enqueue(task, { i: 1 });
      assert.deepEqual([created, job.state, job.attempt], [true, 'running', 1]);
      assert.deepEqual(started, [], 'the handler does not run inside enqueue');
      await first.promise;
      assert.deepEqual(started, [job.id]);
      assert.equal(counted.claims(), claims, 'no claim took it');
      const done = await o.jobs.waitFor(job.id);
      assert.deepEqual([done.state, done.attempt, done.result], ['completed', 1, { attempt: 1 }]);
      assert.equal(done.workerId, (await o.stats()).workers?.id);
    });

    it("a handed-over job runs in the worker's async context, not the enqueuing caller's", async () => {
      const { contexts, first, task } = recording();
      const o = use(client(store, { tasks: [task], loop: false }));
      await o.start({ concurrency: 2, prefetch: 0 });
      await idle(o);
      const { job } = await als.run('the request', () => o.enqueue(task, {}));
      assert.equal(job.state, 'running');
      await first.promise;
      assert.deepEqual(contexts, [undefined]);
    });

    it('an insert that reports an error after its commit gives the lease back: the job runs, no attempt lost', async () => {
      const { started, task } = recording();
      const o = use(client({ ...store, open: () => insertsFailAfterCommit(store.open()) }, { tasks: [task], loop: false }));
      await o.start({ concurrency: 2, prefetch: 0 });
      await idle(o);
      await assert.rejects(o.enqueue(task, { i: 7 }, { idempotencyKey: 'lost-reply' }), /connection lost after the commit/);
      const [job] = (await o.jobs.list({ task: task.name })).jobs;
      assert.ok(job !== undefined, 'the insert did commit');
      const done = await o.jobs.waitFor(job.id);
      assert.deepEqual([done.state, done.attempt, started], ['completed', 1, [job.id]]);
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
      const o = use(client(store, { tasks: [task, hold], loop: false }));
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

    it("a paused queue's job is not handed over; claimed after the resume, in the worker's context", async () => {
      const { started, contexts, task } = recording();
      const o = use(client(store, { tasks: [task], loop: false }));
      const queue = name('paused');
      await o.queues.pause(queue);
      await o.start({ concurrency: 2, prefetch: 0, queues: [queue] });
      await idle(o);
      const { job } = await o.enqueue(task, {}, { queue });
      assert.deepEqual([job.state, job.attempt, started.length], ['available', 0, 0]);
      // The enqueue woke the producer (its insert claimed nothing): once that claim is over, the
      // resume's wake-up is what claims, and the claim runs in the producer's context, not the resumer's.
      await idle(o, new Date());
      await als.run('the resume', () => o.queues.resume(queue));
      assert.equal((await o.jobs.waitFor(job.id)).state, 'completed');
      assert.deepEqual(contexts, [undefined]);
    });

    it('a replayed idempotency key returns the existing job and runs nothing again', async () => {
      const { started, task } = recording();
      const o = use(client(store, { tasks: [task], loop: false }));
      await o.start({ concurrency: 2, prefetch: 0 });
      await idle(o);
      const first = await o.enqueue(task, { i: 1 }, { idempotencyKey: 'once' });
      await idle(o, (await o.jobs.waitFor(first.job.id)).finishedAt);
      const again = await o.enqueue(task, { i: 1 }, { idempotencyKey: 'once' });
      assert.deepEqual([again.created, again.job.id, again.job.state], [false, first.job.id, 'completed']);
      assert.deepEqual(started, [first.job.id]);
    });

    it('a handed-over job takes no room in a bounded backlog', async () => {
      const gate = deferred();
      let running = 0;
      const hold = defineTask({
        name: name('held'),
        handler: async () => {
          running++;
          await gate.promise;
        },
      });
      const queue = name('bounded');
      const o = use(client(store, { tasks: [hold], queues: { [queue]: { maxBacklog: 1 } }, loop: false }));
      await o.start({ concurrency: 4, prefetch: 0, queues: [queue] });
      await idle(o);
      // Back to back, well within one refresh of the backlog count, and no job ends meanwhile (so
      // no claim makes the worker busy): each would count as waiting, and the second be refused,
      // if a running job kept its room.
      const jobs = [];
      for (let i = 0; i < 3; i++) {
        const { job } = await o.enqueue(hold, { i }, { queue });
        assert.equal(job.state, 'running');
        jobs.push(job);
      }
      await new Promise((r) => setImmediate(r));
      assert.equal(running, 3);
      gate.resolve();
      for (const job of jobs) assert.equal((await o.jobs.waitFor(job.id)).state, 'completed');
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
      assert.equal(job.state, 'running', 'inserted claimed');
      await stopping;
      const after = await o.jobs.get(job.id);
      assert.deepEqual([after?.state, after?.attempt, started.length], ['available', 0, 0]);
    });

    it('an enqueue in a caller transaction is never handed over (where the store has them)', async (t) => {
      const { started, task } = recording();
      const o = use(client(store, { tasks: [task], loop: false }));
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
      return client({ ...store, open: () => driver }, { tasks: [task], loop: false });
    }
  });
}
