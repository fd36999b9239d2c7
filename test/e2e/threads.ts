/**
 * Thread tasks through the public API, once per store: CPU work off the event loop, hard
 * timeouts, memory limits, cancellation, and threads that die or fail to load.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { defineTask, isOffloadError } from '../../src/index.ts';
import { broken } from '../fixtures/thread-broken.ts';
import { crunch, exitThread, failing, hog, quick, spinForever, spinTimed, unclonable, untilAborted } from '../fixtures/thread-tasks.ts';
import type { TestStore } from '../stores.ts';
import { client, nextEvent, storeLifecycle } from './helpers.ts';

const tasks = [crunch, spinForever, untilAborted, hog, exitThread, quick, broken, failing, unclonable];

export function threadsSuite(make: () => TestStore): void {
  const store = make();
  describe(`thread tasks: ${store.name}`, () => {
    const { use } = storeLifecycle(store);

    it('runs a 2 s CPU job on a thread while the main loop keeps its timers on time', async () => {
      const o = use(client(store, { tasks, threads: { size: 1 } }));
      const blocked: number[] = [];
      o.on('loop:blocked', (e) => void blocked.push(e.durationMs));
      // A main-thread timer every 10 ms: its worst lateness is the loop's worst delay.
      let last = performance.now();
      let worst = 0;
      const timer = setInterval(() => {
        const now = performance.now();
        worst = Math.max(worst, now - last - 10);
        last = now;
      }, 10);
      try {
        const { job } = await o.enqueue(crunch, { ms: 2000 });
        await o.start({ concurrency: 2 });
        const done = await o.jobs.waitFor(job.id);
        assert.equal(done.state, 'completed');
        const result = done.result as { rounds: number; onMainThread: boolean };
        assert.ok(result.rounds > 1000, 'the work ran');
        assert.deepEqual(done.progress, { rounds: result.rounds }, 'progress crossed from the thread and was stored');
      } finally {
        clearInterval(timer);
      }
      // Run inline, the job would hold the loop for 2000 ms.
      assert.ok(worst < 200, `main-thread timer was at most ${worst.toFixed(1)} ms late`);
      assert.deepEqual(blocked, []);
      await o.stop();
    });

    it('a timeout terminates a handler that ignores its signal, and the pool keeps serving', async () => {
      const o = use(client(store, { tasks: [spinTimed, quick], threads: { size: 1, terminateGraceMs: 100 } }));
      const { job } = await o.enqueue(spinTimed, {});
      await o.start();
      const done = await o.jobs.waitFor(job.id);
      assert.equal(done.state, 'discarded');
      assert.equal(done.errors[0]?.code, 'OFFLOAD_TIMEOUT');
      assert.match(done.errors[0]?.message ?? '', /terminated/);
      const next = await o.enqueue(quick, { n: 21 });
      assert.deepEqual((await o.jobs.waitFor(next.job.id)).result, { doubled: 42 });
      assert.ok((await o.stats()).threads!.retired >= 1, 'the spinning thread was replaced');
      await o.stop();
    });

    it('a job over the memory limit fails with a clear error; the next job is fine', async () => {
      const o = use(client(store, { tasks, threads: { size: 1, maxMemoryMb: 32 } }));
      const { job } = await o.enqueue(hog, {});
      await o.start();
      const done = await o.jobs.waitFor(job.id);
      assert.equal(done.state, 'discarded');
      assert.equal(done.errors[0]?.code, 'OFFLOAD_THREAD_OUT_OF_MEMORY');
      assert.match(done.errors[0]?.message ?? '', /32 MB/);
      const next = await o.enqueue(quick, { n: 1 });
      assert.equal((await o.jobs.waitFor(next.job.id)).state, 'completed');
      await o.stop();
    });

    it('cancels a running thread job, whether its handler honours the signal or not', async () => {
      const o = use(client(store, { tasks, threads: { size: 2, terminateGraceMs: 100 }, cancelCheckMs: 20 }));
      const polite = await o.enqueue(untilAborted, {});
      const stubborn = await o.enqueue(spinForever, {});
      const started = nextEvent(o, 'job:started', (e) => e.job.id === stubborn.job.id);
      // Progress from inside its thread: the polite handler is running there.
      const running = nextEvent(o, 'job:progress', (e) => e.job.id === polite.job.id);
      await o.start({ concurrency: 2 });
      await started;
      await running;
      await o.jobs.cancel(polite.job.id, 'no longer wanted');
      await o.jobs.cancel(stubborn.job.id, 'no longer wanted either');
      const [a, b] = await Promise.all([o.jobs.waitFor(polite.job.id), o.jobs.waitFor(stubborn.job.id)]);
      assert.deepEqual([a.state, a.cancelReason], ['cancelled', 'no longer wanted']);
      assert.deepEqual([b.state, b.cancelReason], ['cancelled', 'no longer wanted either']);
      const next = await o.enqueue(quick, { n: 2 });
      assert.equal((await o.jobs.waitFor(next.job.id)).state, 'completed', 'the pool serves after terminating a thread');
      await o.stop();
    });

    it("a handler's error crosses with its code and stack and is retried; a result that cannot cross fails clearly", async () => {
      const o = use(client(store, { tasks, threads: { size: 1 } }));
      const f = await o.enqueue(failing, {});
      const u = await o.enqueue(unclonable, {});
      await o.start();
      const done = await o.jobs.waitFor(f.job.id);
      assert.equal(done.state, 'discarded');
      assert.deepEqual(
        done.errors.map((e) => [e.attempt, e.code, e.message]),
        [
          [1, 'E_REFUSED', 'refused on attempt 1'],
          [2, 'E_REFUSED', 'refused on attempt 2'],
        ],
      );
      assert.match(done.errors[0]?.stack ?? '', /thread-tasks\.ts/, 'the stack points into the task module');
      const bad = await o.jobs.waitFor(u.job.id);
      assert.equal(bad.state, 'discarded');
      assert.match(bad.errors[0]?.message ?? '', /could not be cloned/);
      await o.stop();
    });

    it('a thread that exits or whose module fails to load fails only its own job', async () => {
      const o = use(client(store, { tasks, threads: { size: 2 } }));
      const exits = await o.enqueue(exitThread, {});
      const fails = await o.enqueue(broken, {});
      const fine = await o.enqueueMany(quick, [{ n: 1 }, { n: 2 }, { n: 3 }]);
      await o.start({ concurrency: 4 });
      const e = await o.jobs.waitFor(exits.job.id);
      assert.deepEqual([e.state, e.errors[0]?.code], ['discarded', 'OFFLOAD_THREAD_CRASHED']);
      assert.match(e.errors[0]?.message ?? '', /exit code 3/);
      const f = await o.jobs.waitFor(fails.job.id);
      assert.equal(f.state, 'discarded');
      assert.match(f.errors[0]?.message ?? '', /fails to load in a thread/);
      for (const r of fine) assert.equal((await o.jobs.waitFor(r.job.id)).state, 'completed');
      await o.stop();
    });
  });
}

const refused = (err: unknown) => isOffloadError(err, 'OFFLOAD_INVALID_OPTIONS');

describe('defineTask: thread tasks', () => {
  it('needs a module, refuses one on a main-thread task, and normalises paths to file URLs', () => {
    assert.throws(() => defineTask({ name: 'a', kind: 'thread', handler: () => 1 }), refused);
    assert.throws(() => defineTask({ name: 'a', module: import.meta.url, handler: () => 1 }), refused);
    assert.throws(() => defineTask({ name: 'a', kind: 'thread', module: 'relative/path.js', handler: () => 1 }), refused);
    assert.throws(() => defineTask({ name: 'a', kind: 'gpu' as never, module: import.meta.url, handler: () => 1 }), refused);
    assert.equal(defineTask({ name: 'a', kind: 'thread', module: '/srv/app/tasks.js', handler: () => 1 }).module, 'file:///srv/app/tasks.js');
    assert.equal(defineTask({ name: 'a', kind: 'thread', module: new URL(import.meta.url), handler: () => 1 }).module, import.meta.url);
  });
});
