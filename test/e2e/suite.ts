/**
 * The runtime suite: what a user sees through the public API, run once per store.
 */
import assert from 'node:assert/strict';
import { fork } from 'node:child_process';
import { describe, it } from 'node:test';
import { z } from 'zod';
import { cancel, createOffload, defineTask, isOffloadError, snooze, type InvalidPayloadError, type Job, type Offload } from '../../src/index.ts';
import type { TestStore } from '../stores.ts';
import { client, deferred, nextEvent, overriding, silent, storeLifecycle } from './helpers.ts';

async function countJobs(o: Offload, task: string): Promise<number> {
  return (await o.jobs.list({ task, limit: 1000 })).jobs.length;
}

export function runtimeSuite(make: () => TestStore): void {
  const store = make();
  describe(`runtime: ${store.name}`, () => {
    const { use, name } = storeLifecycle(store);

    describe('enqueue: bad input gives a typed error and stores nothing', () => {
      const resize = defineTask({
        name: 'images.resize',
        schema: z.object({ url: z.url(), width: z.number().int().positive() }),
        handler: () => 'ok',
      });

      it('names every invalid field', async () => {
        const o = use(client(store, { tasks: [resize] }));
        await assert.rejects(o.enqueue(resize, { url: 'nope', width: -3 }), (err: unknown) => {
          assert.ok(isOffloadError(err, 'OFFLOAD_INVALID_PAYLOAD'));
          assert.match(err.message, /url/);
          assert.match(err.message, /width/);
          assert.deepEqual((err as InvalidPayloadError).issues.map((i) => i.path).toSorted(), ['url', 'width']);
          return true;
        });
        assert.equal(await countJobs(o, 'images.resize'), 0);
      });

      it('refuses an unknown task name', async () => {
        const o = use(client(store, { tasks: [resize] }));
        await assert.rejects(o.enqueue('images.crop', {}), (err: unknown) => isOffloadError(err, 'OFFLOAD_UNKNOWN_TASK') && /images\.resize/.test(err.message));
        assert.equal(await countJobs(o, 'images.crop'), 0);
      });

      it('refuses an oversized or unserializable payload', async () => {
        const blob = defineTask({ name: name('blob'), handler: () => null });
        const o = use(client(store, { tasks: [blob], maxPayloadBytes: 1024 }));
        await assert.rejects(o.enqueue(blob, { data: 'x'.repeat(2000) }), (err: unknown) => isOffloadError(err, 'OFFLOAD_PAYLOAD_TOO_LARGE'));
        await assert.rejects(o.enqueue(blob, { n: 10n }), (err: unknown) => isOffloadError(err, 'OFFLOAD_INVALID_PAYLOAD'));
        assert.equal(await countJobs(o, blob.name), 0);
      });

      it('refuses unknown options with a suggestion', async () => {
        const o = use(client(store, { tasks: [resize] }));
        await assert.rejects(o.enqueue(resize, { url: 'https://x.test/a.png', width: 1 }, { delay: 5 } as never), (err: unknown) =>
          isOffloadError(err, 'OFFLOAD_INVALID_OPTIONS') && /did you mean 'delayMs'/.test(err.message),
        );
        await assert.rejects(o.enqueue(resize, { url: 'https://x.test/a.png', width: 1 }, { runAt: new Date(), delayMs: 1 }), (err: unknown) => isOffloadError(err, 'OFFLOAD_INVALID_OPTIONS'));
        assert.equal(await countJobs(o, 'images.resize'), 0);
      });

      it('enqueueMany is all or nothing: one bad payload stores none', async () => {
        const o = use(client(store, { tasks: [resize] }));
        const good = { url: 'https://x.test/a.png', width: 10 };
        await assert.rejects(o.enqueueMany(resize, [good, good, { url: 'bad', width: 1 }]), (err: unknown) => isOffloadError(err, 'OFFLOAD_INVALID_PAYLOAD') && /\[2\]/.test(err.message));
        assert.equal(await countJobs(o, 'images.resize'), 0);
        const made = await o.enqueueMany(resize, [good, good]);
        assert.deepEqual(made.map((m) => m.created), [true, true]);
        assert.equal(await countJobs(o, 'images.resize'), 2);
      });
    });

    it('idempotency: 50 concurrent enqueues with one key make exactly one job; another payload conflicts', async () => {
      const charge = defineTask({ name: name('charge'), handler: () => null });
      const a = use(client(store, { tasks: [charge] }));
      const b = use(client(store, { tasks: [charge] }));
      const results = await Promise.all(Array.from({ length: 50 }, (_, i) => (i % 2 ? a : b).enqueue(charge, { amount: 10, currency: 'EUR' }, { idempotencyKey: 'order-42' })));
      assert.equal(results.filter((r) => r.created).length, 1);
      assert.equal(new Set(results.map((r) => r.job.id)).size, 1);
      // Key order does not make a payload different.
      const replay = await a.enqueue(charge, { currency: 'EUR', amount: 10 }, { idempotencyKey: 'order-42' });
      assert.equal(replay.created, false);
      await assert.rejects(a.enqueue(charge, { amount: 11, currency: 'EUR' }, { idempotencyKey: 'order-42' }), (err: unknown) =>
        isOffloadError(err, 'OFFLOAD_IDEMPOTENCY_CONFLICT') && (err.details as { existingJobId: string }).existingJobId === replay.job.id,
      );
      assert.equal(await countJobs(a, charge.name), 1);
    });

    it('runs a job to completion with its result and progress', async () => {
      const add = defineTask({
        name: name('math.add'),
        schema: z.object({ a: z.number(), b: z.number() }),
        async handler({ a, b }, ctx) {
          await ctx.progress({ step: 'adding' });
          return { sum: a + b, attempt: ctx.attempt };
        },
      });
      const o = use(client(store, { tasks: [add] }));
      const { job, created } = await o.enqueue(add, { a: 2, b: 3 });
      assert.equal(created, true);
      await o.start({ concurrency: 4 });
      const done = await o.jobs.waitFor(job.id);
      assert.equal(done.state, 'completed');
      assert.deepEqual(done.result, { sum: 5, attempt: 1 });
      assert.deepEqual(done.progress, { step: 'adding' });
      assert.ok(done.finishedAt !== null && done.attemptedAt !== null);
      await o.stop();
    });

    it('a handler may return a plain value, a promise or any thenable: each is its result', async () => {
      const plain = defineTask({ name: name('plain'), handler: () => 'plain' });
      const promised = defineTask({ name: name('promised'), handler: () => new Promise((resolve) => setTimeout(() => resolve('later'), 5)) });
      // Thenables on purpose: a handler may return any promise-like value, not only a Promise.
      // oxlint-disable-next-line unicorn/no-thenable
      const thenable = defineTask({ name: name('thenable'), handler: () => ({ then: (resolve: (v: unknown) => void) => resolve('adopted') }) });
      const refusing = defineTask({
        name: name('refusing'),
        retry: { attempts: 1 },
        // oxlint-disable-next-line unicorn/no-thenable
        handler: () => ({ then: (_: unknown, reject: (e: unknown) => void) => reject(new Error('thenable refused')) }),
      });
      const o = use(client(store, { tasks: [plain, promised, thenable, refusing] }));
      const ids = [(await o.enqueue(plain, {})).job.id, (await o.enqueue(promised, {})).job.id, (await o.enqueue(thenable, {})).job.id];
      const refused = (await o.enqueue(refusing, {})).job.id;
      await o.start({ concurrency: 4 });
      const done = await Promise.all(ids.map((id) => o.jobs.waitFor(id)));
      assert.deepEqual(done.map((j) => [j.state, j.result]), [['completed', 'plain'], ['completed', 'later'], ['completed', 'adopted']]);
      const dead = await o.jobs.waitFor(refused);
      assert.deepEqual([dead.state, dead.errors[0]?.message], ['discarded', 'thenable refused']);
      await o.stop();
    });

    it('retries with backoff, keeps every error, discards, then redrives with retry()', async () => {
      let failing = true;
      const flaky = defineTask({
        name: name('flaky'),
        retry: { attempts: 3, backoff: 'exponential', baseMs: 20, maxMs: 40 },
        handler: () => {
          if (failing) throw new Error('downstream is down');
          return 'finally';
        },
      });
      const o = use(client(store, { tasks: [flaky], pollMs: 20 }));
      const failures: Array<{ nextState: string; delayMs: number | null }> = [];
      o.on('job:failed', (e) => failures.push({ nextState: e.nextState, delayMs: e.delayMs }));
      const { job } = await o.enqueue(flaky, {});
      await o.start();
      const dead = await o.jobs.waitFor(job.id);
      assert.equal(dead.state, 'discarded');
      assert.equal(dead.attempt, 3);
      assert.deepEqual(dead.errors.map((e) => [e.attempt, e.message]), [[1, 'downstream is down'], [2, 'downstream is down'], [3, 'downstream is down']]);
      assert.ok(dead.errors.every((e) => typeof e.stack === 'string' && e.stack.includes('downstream is down')));
      assert.deepEqual(failures.map((f) => f.nextState), ['retryable', 'retryable', 'discarded']);
      assert.ok(failures[0]!.delayMs! <= 20 && failures[1]!.delayMs! <= 40, 'full jitter stays under the cap');
      failing = false;
      const redriven = await o.jobs.retry(job.id);
      assert.equal(redriven.state, 'available');
      const done = await o.jobs.waitFor(job.id);
      assert.deepEqual([done.state, done.result, done.errors.length], ['completed', 'finally', 3]);
      await assert.rejects(o.jobs.retry(job.id), (err: unknown) => isOffloadError(err, 'OFFLOAD_INVALID_STATE'));
      await assert.rejects(o.jobs.retry('123456789'), (err: unknown) => isOffloadError(err, 'OFFLOAD_JOB_NOT_FOUND'));
      await o.stop();
    });

    it('snooze reschedules without using an attempt; cancel(reason) ends the job', async () => {
      let calls = 0;
      const poll = defineTask({
        name: name('poll'),
        retry: { attempts: 1 },
        handler: () => {
          calls++;
          if (calls < 3) throw snooze(10);
          return calls;
        },
      });
      const stopper = defineTask({ name: name('stopper'), handler: () => { throw cancel('order was deleted'); } });
      const o = use(client(store, { tasks: [poll, stopper], pollMs: 20 }));
      const a = await o.enqueue(poll, {});
      const b = await o.enqueue(stopper, {});
      await o.start();
      const doneA = await o.jobs.waitFor(a.job.id);
      assert.deepEqual([doneA.state, doneA.result, doneA.attempt, doneA.errors.length], ['completed', 3, 1, 0]);
      const doneB = await o.jobs.waitFor(b.job.id);
      assert.deepEqual([doneB.state, doneB.cancelReason, doneB.attempt], ['cancelled', 'order was deleted', 1]);
      await o.stop();
    });

    it('cancels a waiting job before it runs', async () => {
      let ran = false;
      const later = defineTask({ name: name('later'), handler: () => { ran = true; } });
      const o = use(client(store, { tasks: [later] }));
      const { job } = await o.enqueue(later, {}, { delayMs: 60_000 });
      const c = await o.jobs.cancel(job.id, 'changed my mind');
      assert.deepEqual([c.state, c.cancelReason], ['cancelled', 'changed my mind']);
      await o.start();
      await o.stop();
      assert.equal(ran, false);
      await assert.rejects(o.jobs.cancel('123456789'), (err: unknown) => isOffloadError(err, 'OFFLOAD_JOB_NOT_FOUND'));
    });

    it('cancels a running job from another client: its signal is aborted and it ends cancelled', async () => {
      const started = deferred<string>();
      const aborted = deferred<unknown>();
      const longTask = defineTask({
        name: name('long'),
        handler: async (_p: unknown, ctx) => {
          started.resolve(ctx.jobId);
          await new Promise<void>((resolve) => ctx.signal.addEventListener('abort', () => resolve()));
          aborted.resolve(ctx.signal.reason);
          return 'ignored';
        },
      });
      const worker = use(client(store, { tasks: [longTask] }));
      const other = use(client(store, { tasks: [longTask] }));
      const event = nextEvent(worker, 'job:cancelled');
      const { job } = await other.enqueue(longTask, {});
      await worker.start();
      assert.equal(await started.promise, job.id);
      const flagged = await other.jobs.cancel(job.id, 'user pressed stop');
      assert.equal(flagged.state, 'running');
      assert.ok(isOffloadError(await aborted.promise, 'OFFLOAD_CANCELLED'));
      const done = await other.jobs.waitFor(job.id);
      assert.deepEqual([done.state, done.cancelReason, done.result], ['cancelled', 'user pressed stop', null]);
      assert.equal((await event).reason, 'user pressed stop', 'the event tells the reason the store keeps');
      await worker.stop();
    });

    it('a cancel requested while an attempt ends on its own (a failure) still ends the job, without running it again', async () => {
      let ran = 0;
      const other = use(client(store));
      const failing = defineTask({
        name: name('fails-as-cancelled'),
        retry: { attempts: 5, backoff: 'fixed', baseMs: 10, maxMs: 10 },
        handler: async (_p: unknown, ctx) => {
          ran++;
          // The request is written; the attempt fails before its signal is aborted.
          await other.jobs.cancel(ctx.jobId, 'stop retrying');
          throw new Error('failed before the cancel arrived');
        },
      });
      const worker = use(client(store, { tasks: [failing] }));
      const { job } = await worker.enqueue(failing, {});
      await worker.start();
      const done = await worker.jobs.waitFor(job.id);
      assert.deepEqual([done.state, done.cancelReason, ran], ['cancelled', 'stop retrying', 1]);
      await worker.stop();
    });

    it('times out a handler that ignores its signal, failing the attempt', async () => {
      const stuck = defineTask({ name: name('stuck'), timeoutMs: 50, retry: { attempts: 1 }, handler: () => new Promise(() => {}) });
      const o = use(client(store, { tasks: [stuck] }));
      const { job } = await o.enqueue(stuck, {});
      await o.start();
      const done = await o.jobs.waitFor(job.id);
      assert.equal(done.state, 'discarded');
      assert.equal(done.errors[0]?.code, 'OFFLOAD_TIMEOUT');
      await o.stop();
    });

    it('an oversized result fails the job with a typed error and stores no result', async () => {
      const big = defineTask({ name: name('big'), retry: { attempts: 5 }, handler: () => 'y'.repeat(5000) });
      const o = use(client(store, { tasks: [big], maxResultBytes: 1000 }));
      const { job } = await o.enqueue(big, {});
      await o.start();
      const done = await o.jobs.waitFor(job.id);
      assert.deepEqual([done.state, done.result, done.attempt], ['discarded', null, 1], 'not retried: it would fail the same way');
      assert.equal(done.errors[0]?.code, 'OFFLOAD_RESULT_TOO_LARGE');
      await o.stop();
    });

    it('a lost lease aborts the handler and its late result is not recorded', async () => {
      const started = deferred<string>();
      const aborted = deferred<unknown>();
      let attempts = 0;
      const slow = defineTask({
        name: name('slow'),
        handler: async (_p: unknown, ctx) => {
          attempts++;
          if (ctx.attempt > 1) return 'second';
          started.resolve(ctx.jobId);
          await new Promise<void>((resolve) => ctx.signal.addEventListener('abort', () => resolve()));
          aborted.resolve(ctx.signal.reason);
          return 'late';
        },
      });
      const o = use(client(store, { tasks: [slow], heartbeatMs: 20, pollMs: 20 }));
      const { job } = await o.enqueue(slow, {});
      const lost = nextEvent(o, 'job:lease-lost', (e) => e.job.id === job.id);
      await o.start();
      await started.promise;
      await o.driver.testSetLeaseExpiry({ id: job.id, inMs: -1 });
      await o.maintenance.rescue();
      assert.ok(isOffloadError(await aborted.promise, 'OFFLOAD_LEASE_LOST'));
      await lost;
      const done = await o.jobs.waitFor(job.id);
      assert.deepEqual([done.state, done.result, done.attempt], ['completed', 'second', 2]);
      assert.equal(done.errors[0]?.code, 'OFFLOAD_LEASE_EXPIRED');
      assert.equal(attempts, 2);
      await o.stop();
    });

    it('start and stop called without waiting for each other run in call order', async () => {
      let runs = 0;
      const t = defineTask({ name: name('lifecycle'), handler: () => void runs++ });
      const o = use(client(store, { tasks: [t] }));
      // A stop while a start is under way: once both resolve, nothing runs and nothing is left.
      const started = o.start();
      await o.stop({ graceMs: 0 });
      await started;
      assert.equal((await o.stats()).workers, null, 'no workers after the stop');
      const { job } = await o.enqueue(t, {});
      await new Promise((r) => setTimeout(r, 300));
      assert.deepEqual([(await o.jobs.get(job.id))?.state, runs], ['available', 0]);
      // A start while a stop is under way: once both resolve, the workers run.
      await o.start();
      const stopping = o.stop({ graceMs: 0 });
      await o.start();
      await stopping;
      assert.notEqual((await o.stats()).workers, null, 'workers after the second start');
      assert.equal((await o.jobs.waitFor(job.id)).state, 'completed');
      await o.stop();
      // After close, start refuses.
      await o.close();
      await assert.rejects(o.start(), (err: unknown) => isOffloadError(err, 'OFFLOAD_CLOSED'));
    });

    it('a failed LISTEN for cancel requests leaves the worker running on its periodic checks', async () => {
      const t = defineTask({ name: name('no-listen'), handler: () => 'ran' });
      const d = overriding(store.open(), { onCancelRequested: () => () => Promise.reject(new Error('LISTEN refused')) });
      const o = use(createOffload({ store: d, tasks: [t], logger: silent }));
      const reported = nextEvent(o, 'error', (e) => /LISTEN refused/.test(e.error.message));
      await o.start();
      assert.match((await reported).component, /lease-keeper/);
      const { job } = await o.enqueue(t, {});
      assert.deepEqual([(await o.jobs.waitFor(job.id)).state], ['completed']);
      await o.stop();
    });

    it('graceful stop under load leaves nothing running and charges no attempt', async () => {
      const hold = defineTask({
        name: name('hold'),
        // Ignores its signal on purpose: stop must not depend on handlers cooperating.
        handler: () => new Promise(() => {}),
      });
      const o = use(client(store, { tasks: [hold] }));
      await o.enqueueMany(hold, Array.from({ length: 60 }, (_, i) => ({ i })));
      let running = 0;
      const allStarted = deferred();
      o.on('job:started', () => {
        if (++running === 20) allStarted.resolve();
      });
      await o.start({ concurrency: 20 });
      await allStarted.promise;
      await o.stop({ graceMs: 50 });
      const jobs = (await o.jobs.list({ task: hold.name, limit: 1000 })).jobs;
      assert.equal(jobs.length, 60);
      assert.deepEqual(jobs.filter((j) => j.state === 'running'), []);
      assert.ok(jobs.every((j) => j.state === 'available' && j.attempt === 0 && j.errors.length === 0));
    });

    it('a worker process killed with SIGKILL mid-job has its job completed by another worker', async () => {
      const work = defineTask({ name: 'chaos.work', handler: () => 'recovered' });
      const o = use(client(store, { tasks: [work], leaseMs: 1000, rescueIntervalMs: 100, pollMs: 50 }));
      const { job } = await o.enqueue(work, {});
      const child = fork(new URL('../fixtures/kill-child.ts', import.meta.url), [store.spec], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
      const started = await new Promise<{ started: string; attempt: number }>((resolve, reject) => {
        child.on('message', (m: { started?: string; attempt?: number }) => {
          if (m.started !== undefined) resolve(m as { started: string; attempt: number });
        });
        child.on('exit', (code) => reject(new Error(`child exited early with ${code}`)));
      });
      assert.equal(started.started, job.id);
      const exited = new Promise((resolve) => child.on('exit', resolve));
      child.kill('SIGKILL');
      await exited;
      assert.equal((await o.jobs.get(job.id))?.state, 'running', 'the dead worker still holds the lease');
      await o.start();
      const done = await o.jobs.waitFor(job.id);
      assert.deepEqual([done.state, done.result, done.attempt], ['completed', 'recovered', 2]);
      assert.equal(done.errors[0]?.code, 'OFFLOAD_LEASE_EXPIRED');
      await o.stop();
    });

    it('several workers on one store run every job exactly once', async () => {
      const seen = new Map<number, number>();
      const count = defineTask({ name: name('count'), handler: (p: { i: number }) => void seen.set(p.i, (seen.get(p.i) ?? 0) + 1) });
      const workers = [use(client(store, { tasks: [count] })), use(client(store, { tasks: [count] })), use(client(store, { tasks: [count] }))];
      const made = await workers[0]!.enqueueMany(count, Array.from({ length: 300 }, (_, i) => ({ i })));
      await Promise.all(workers.map((w) => w.start({ concurrency: 8 })));
      await Promise.all(made.map((m) => workers[0]!.jobs.waitFor(m.job.id)));
      assert.equal(seen.size, 300);
      assert.ok([...seen.values()].every((n) => n === 1));
      await Promise.all(workers.map((w) => w.stop()));
    });

    it('waitFor times out with a typed error while the job waits', async () => {
      const idle = defineTask({ name: name('idle'), handler: () => null });
      const o = use(client(store, { tasks: [idle] }));
      const { job } = await o.enqueue(idle, {}, { delayMs: 60_000 });
      await assert.rejects(o.jobs.waitFor(job.id, { timeoutMs: 30 }), (err: unknown) => isOffloadError(err, 'OFFLOAD_TIMEOUT'));
    });

    it('lists with filters and pages; deletes only jobs that are not running', async () => {
      const listed = defineTask({ name: name('listed'), handler: () => null });
      const o = use(client(store, { tasks: [listed] }));
      const made = await o.enqueueMany(listed, Array.from({ length: 5 }, (_, i) => ({ i })));
      const p1 = await o.jobs.list({ task: listed.name, limit: 2 });
      const p2 = await o.jobs.list({ task: listed.name, limit: 2, cursor: p1.nextCursor! });
      const p3 = await o.jobs.list({ task: listed.name, limit: 2, cursor: p2.nextCursor! });
      const ids = [...p1.jobs, ...p2.jobs, ...p3.jobs].map((j: Job) => j.id);
      assert.deepEqual(ids, made.map((m) => m.job.id).toReversed());
      assert.equal(p3.nextCursor, null);
      await assert.rejects(o.jobs.list({ state: 'done' as never }), (err: unknown) => isOffloadError(err, 'OFFLOAD_INVALID_OPTIONS'));
      await assert.rejects(o.jobs.list({ cursor: 'abc' }), (err: unknown) => isOffloadError(err, 'OFFLOAD_INVALID_OPTIONS'));
      await o.jobs.delete(made[0]!.job.id);
      assert.equal(await o.jobs.get(made[0]!.job.id), null);
      await assert.rejects(o.jobs.delete(made[0]!.job.id), (err: unknown) => isOffloadError(err, 'OFFLOAD_JOB_NOT_FOUND'));
    });

    it('prunes final jobs after their retention', async () => {
      const short = defineTask({ name: name('short'), handler: () => 'done' });
      const o = use(client(store, { tasks: [short], retention: { completedMs: 3_600_000 } }));
      const { job } = await o.enqueue(short, {});
      await o.start();
      await o.jobs.waitFor(job.id);
      await o.stop();
      await o.maintenance.prune();
      assert.equal((await o.jobs.get(job.id))?.state, 'completed', 'kept: not yet past its retention');
      await o.driver.testAgeJob({ id: job.id, ms: 2 * 3_600_000 });
      assert.ok((await o.maintenance.prune()) >= 1);
      assert.equal(await o.jobs.get(job.id), null);
    });

    it('enqueue inside a caller transaction (where the store supports it)', async (t) => {
      const txTask = defineTask({ name: name('tx'), handler: () => 'ok' });
      const o = use(client(store, { tasks: [txTask] }));
      if (!o.driver.capabilities.callerTransactions) {
        await assert.rejects(o.enqueue(txTask, {}, { tx: {} }), (err: unknown) => isOffloadError(err, 'OFFLOAD_UNSUPPORTED'));
        t.diagnostic(`${store.name}: no caller transactions (embedded store); the refusal is what is tested`);
        return;
      }
      const { default: postgresjs } = await import('postgres');
      const { PG_URL } = await import('../stores.ts');
      const sql = postgresjs(PG_URL, { max: 1, onnotice: () => {} });
      try {
        await assert.rejects(
          sql.begin(async (tx) => {
            await o.enqueue(txTask, { rolled: 'back' }, { tx });
            throw new Error('the caller rolls back');
          }),
          /the caller rolls back/,
        );
        assert.equal(await countJobs(o, txTask.name), 0);
        const kept = await sql.begin((tx) => o.enqueue(txTask, { kept: true }, { tx }));
        assert.equal((await o.jobs.get(kept.job.id))?.state, 'available');
      } finally {
        await sql.end();
      }
    });
  });
}
