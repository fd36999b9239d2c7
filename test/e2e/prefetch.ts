/**
 * Claiming ahead (src/runtime/local-queue.ts), run once per store: jobs claimed before a slot is
 * free are `running` in the store while they wait here, so every way out of the wait must leave
 * them right: a stop, a cancel, a start deadline, a lost lease, and a long wait that lets another
 * process have them.
 *
 * The shape of each test: one short job first (the turnover measurement that turns claiming ahead
 * on), then a job that holds the only slot, then the jobs that end up waiting behind it.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { defineTask, isOffloadError, type Offload } from '../../src/index.ts';
import type { TestStore } from '../stores.ts';
import { client, deferred, nextEvent, overriding, storeLifecycle } from './helpers.ts';

/** Resolves once the process holds `n` claimed jobs waiting for a slot; fails after 15 s, saying how many do. */
async function waitingReaches(o: Offload, n: number): Promise<void> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const w = (await o.stats()).workers;
    if (w !== null && w.waiting >= n) return;
    if (Date.now() > deadline) assert.fail(`${w?.waiting ?? 'no'} jobs wait for a slot after 15 s, not ${n} (running: ${w?.running ?? 0})`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

export function prefetchSuite(make: () => TestStore): void {
  const store = make();
  describe(`claiming ahead: ${store.name}`, () => {
    const { use, name } = storeLifecycle(store);

    /** Tasks for one test: `quick` jobs record who ran them; `hold` keeps its slot until `gate` opens. */
    function tasks() {
      const ran: string[] = [];
      const gate = deferred();
      const holding = deferred();
      const quick = defineTask({
        name: name('quick'),
        handler: (_p: { i: number }, ctx) => {
          ran.push(ctx.jobId);
        },
      });
      const hold = defineTask({
        name: name('hold'),
        // Ignores its signal on purpose: only the gate (or a stop past its grace) ends it.
        handler: async () => {
          holding.resolve();
          await gate.promise;
        },
      });
      return { ran, gate, holding, quick, hold };
    }

    /** Enqueues one quick job, the holder, then `tail` quick jobs behind it; starts at concurrency 1. */
    async function behindHolder(o: Offload, t: ReturnType<typeof tasks>, tail: Array<Parameters<Offload['enqueue']>[2]>, prefetch?: number) {
      const first = (await o.enqueue(t.quick, { i: -1 })).job;
      const holder = (await o.enqueue(t.hold, {})).job;
      const waiting = [];
      for (const [i, opts] of tail.entries()) waiting.push((await o.enqueue(t.quick, { i }, opts)).job);
      await o.start(prefetch === undefined ? { concurrency: 1 } : { concurrency: 1, prefetch });
      await t.holding.promise;
      await o.jobs.waitFor(first.id);
      return { first, holder, waiting };
    }

    it('claims ahead once a short job has run, and a stop hands the waiting jobs back uncharged', async () => {
      const t = tasks();
      const o = use(client(store, { tasks: [t.quick, t.hold], pollMs: 50 }));
      const { waiting } = await behindHolder(o, t, Array.from({ length: 20 }, () => ({})));
      await waitingReaches(o, 20);
      const inStore = await o.jobs.list({ task: t.quick.name, state: 'running', limit: 100 });
      assert.deepEqual(inStore.jobs.map((j) => j.id).toSorted(), waiting.map((j) => j.id).toSorted(), 'a job waiting for a slot is leased (running) in the store');
      await o.stop({ graceMs: 50 });
      const after = (await o.jobs.list({ task: t.quick.name, limit: 100 })).jobs.filter((j) => waiting.some((w) => w.id === j.id));
      assert.equal(after.length, 20);
      assert.deepEqual(
        after.filter((j) => j.state !== 'available' || j.attempt !== 0 || j.errors.length !== 0),
        [],
        'every waiting job is available again with no attempt charged',
      );
      assert.equal(t.ran.length, 1, 'only the first quick job ran');
    });

    it('a freed slot starts the next waiting job at once, not a turn of the event loop later', async () => {
      const t = tasks();
      let turned = false;
      const seen: boolean[] = [];
      const release = defineTask({
        name: name('release'),
        handler: async () => {
          t.holding.resolve();
          await t.gate.promise;
          // Fires on the next turn of the event loop: a job started on that turn would see it set.
          setImmediate(() => (turned = true));
        },
      });
      const next = defineTask({ name: name('next'), handler: () => void seen.push(turned) });
      const o = use(client(store, { tasks: [t.quick, release, next], pollMs: 50 }));
      const first = (await o.enqueue(t.quick, { i: -1 })).job;
      await o.enqueue(release, {});
      const after = (await o.enqueue(next, {})).job;
      await o.start({ concurrency: 1 });
      await t.holding.promise;
      await o.jobs.waitFor(first.id);
      await waitingReaches(o, 1);
      t.gate.resolve();
      await o.jobs.waitFor(after.id);
      assert.deepEqual(seen, [false], 'the waiting job ran in the same turn as the release of its slot');
      await o.stop();
    });

    it('same-turn starts stop after a few ms of synchronous work, so timers and I/O get their turn', async () => {
      const t = tasks();
      // A turn counter: every turn of the event loop moves it on.
      let turn = 0;
      let ticking = true;
      const tick = () => {
        turn++;
        if (ticking) setImmediate(tick);
      };
      setImmediate(tick);
      const turns: number[] = [];
      const busy = defineTask({
        name: name('busy'),
        handler: () => {
          turns.push(turn);
          const until = performance.now() + 3; // synchronous work past the 2 ms chain budget
          while (performance.now() < until);
        },
      });
      const o = use(client(store, { tasks: [t.quick, t.hold, busy], pollMs: 50 }));
      const first = (await o.enqueue(t.quick, { i: -1 })).job;
      await o.enqueue(t.hold, {});
      const jobs = [];
      for (let i = 0; i < 6; i++) jobs.push((await o.enqueue(busy, {})).job);
      await o.start({ concurrency: 1 });
      await t.holding.promise;
      await o.jobs.waitFor(first.id);
      await waitingReaches(o, 6);
      t.gate.resolve();
      for (const j of jobs) await o.jobs.waitFor(j.id);
      ticking = false;
      await o.stop();
      assert.equal(turns.length, 6);
      // Each job outlasts the budget alone, so a chain is two jobs: the one a turn starts and one
      // chained after it. The counter moves once per loop iteration, and a claim coming back may
      // start one more in the same iteration's I/O phase: at most three per count. All six waiting
      // jobs would start in one count if starts chained without a budget.
      const perTurn = new Map<number, number>();
      for (const x of turns) perTurn.set(x, (perTurn.get(x) ?? 0) + 1);
      assert.ok(Math.max(...perTurn.values()) <= 3, `jobs per turn: ${JSON.stringify([...perTurn])}`);
    });

    it('stops claiming while 2 x (concurrency + prefetch) outcomes wait to be written, and goes on once they are', async () => {
      const t = tasks();
      const writes = deferred();
      const slow = overriding(store.open(), {
        jobCompleteMany: (real) => async (p) => {
          await writes.promise;
          return real.jobCompleteMany(p);
        },
      });
      const o = use(client({ ...store, open: () => slow }, { tasks: [t.quick], pollMs: 20, loop: false }));
      const jobs = (await o.enqueueMany(t.quick, Array.from({ length: 12 }, (_, i) => ({ i })))).map((r) => r.job);
      // Bound: 2 x (2 + 0) = 4 outcomes. Claims of one job each, two in flight at most, may each
      // bring one more after the bound is reached.
      await o.start({ concurrency: 2, prefetch: 0 });
      const deadline = Date.now() + 15_000;
      while (t.ran.length < 4 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
      // Many polls pass while nothing is written; none of them may start more.
      await new Promise((r) => setTimeout(r, 200));
      const ranUnwritten = t.ran.length;
      writes.resolve();
      assert.ok(ranUnwritten >= 4 && ranUnwritten <= 6, `${ranUnwritten} jobs ran while no outcome was written`);
      for (const j of jobs) assert.equal((await o.jobs.waitFor(j.id)).state, 'completed');
      assert.equal(t.ran.length, 12);
    });

    it('prefetch: 0 claims only for free slots', async () => {
      const t = tasks();
      const o = use(client(store, { tasks: [t.quick, t.hold], pollMs: 20 }));
      await behindHolder(o, t, Array.from({ length: 5 }, () => ({})), 0);
      // Several polls pass while the holder runs; none of them may claim.
      await new Promise((r) => setTimeout(r, 150));
      assert.equal((await o.stats()).workers?.waiting, 0);
      assert.equal((await o.jobs.list({ task: t.quick.name, state: 'available', limit: 100 })).jobs.length, 5);
      t.gate.resolve();
      await o.stop();
    });

    it('refuses a bad prefetch with a clear error', async () => {
      const t = tasks();
      const o = use(client(store, { tasks: [t.quick, t.hold] }));
      for (const bad of [-1, 1.5, 'many', 1e9]) {
        await assert.rejects(o.start({ concurrency: 1, prefetch: bad as number }), (err: unknown) => {
          assert.ok(isOffloadError(err, 'OFFLOAD_INVALID_OPTIONS'));
          assert.match(err.message, /prefetch/);
          return true;
        });
      }
    });

    it('a waiting job whose cancel is requested ends cancelled without running', async () => {
      const t = tasks();
      const o = use(client(store, { tasks: [t.quick, t.hold], pollMs: 50, cancelCheckMs: 50 }));
      const { waiting } = await behindHolder(o, t, Array.from({ length: 5 }, () => ({})));
      await waitingReaches(o, 5);
      const victim = waiting[2]!;
      const cancelled = nextEvent(o, 'job:cancelled', (e) => e.job.id === victim.id);
      await o.jobs.cancel(victim.id);
      await cancelled;
      assert.equal((await o.jobs.get(victim.id))?.state, 'cancelled');
      t.gate.resolve();
      for (const w of waiting.filter((j) => j.id !== victim.id)) assert.equal((await o.jobs.waitFor(w.id)).state, 'completed');
      assert.ok(!t.ran.includes(victim.id), 'the cancelled job never ran');
      await o.stop();
    });

    it('a waiting job past its start deadline is handed back, never run, and expires', async () => {
      const t = tasks();
      const o = use(client(store, { tasks: [t.quick, t.hold], pollMs: 50, expireIntervalMs: 50 }));
      const { waiting } = await behindHolder(o, t, [{ ttlMs: 300 }, {}]);
      await waitingReaches(o, 2);
      const late = waiting[0]!;
      const released = nextEvent(o, 'job:released', (e) => e.job.id === late.id);
      // Past the deadline, within the wait limit (1 s): the holder ends, the late job's turn comes.
      await new Promise((r) => setTimeout(r, 400));
      t.gate.resolve();
      await released;
      const done = await o.jobs.waitFor(late.id);
      assert.deepEqual([done.state, done.cancelReason], ['cancelled', 'expired']);
      assert.ok(!t.ran.includes(late.id), 'a job past its deadline never runs');
      assert.equal((await o.jobs.waitFor(waiting[1]!.id)).state, 'completed');
      await o.stop();
    });

    it('a waiting job whose lease was lost is dropped: it runs once, under its new lease', async () => {
      const t = tasks();
      const o = use(client(store, { tasks: [t.quick, t.hold], pollMs: 50 }));
      const { waiting } = await behindHolder(o, t, [{}]);
      await waitingReaches(o, 1);
      const x = waiting[0]!;
      const driver = await o.ready();
      // A heartbeat landing between the two calls extends the lease again: then try once more.
      for (;;) {
        await driver.testSetLeaseExpiry({ id: x.id, inMs: -1000 });
        const rescued = await o.maintenance.rescue();
        if (rescued.retried.includes(x.id)) break;
      }
      // Claimed again under a new token, while the entry of the lost lease may still be waiting.
      for (;;) {
        const j = await o.jobs.get(x.id);
        if (j?.state === 'running' && j.attempt === 2) break;
        await new Promise((r) => setTimeout(r, 20));
      }
      t.gate.resolve();
      const done = await o.jobs.waitFor(x.id);
      assert.deepEqual([done.state, done.attempt, done.errors[0]?.code], ['completed', 2, 'OFFLOAD_LEASE_EXPIRED']);
      assert.equal(t.ran.filter((id) => id === x.id).length, 1, 'the job ran once, not once per lease');
      await o.stop();
    });

    it('jobs that waited too long go back to the store, and another process runs them', async () => {
      const t = tasks();
      const a = use(client(store, { tasks: [t.quick, t.hold], pollMs: 50 }));
      const { waiting } = await behindHolder(a, t, Array.from({ length: 10 }, () => ({})));
      await waitingReaches(a, 10);
      // B has no code for the holder, so it can only take the waiting jobs once A lets them go.
      const b = use(client(store, { tasks: [t.quick], pollMs: 50 }));
      await b.start({ concurrency: 5 });
      const bId = (await b.stats()).workers!.id;
      for (const w of waiting) {
        const done = await b.jobs.waitFor(w.id);
        assert.deepEqual([done.state, done.workerId, done.attempt], ['completed', bId, 1]);
      }
      assert.equal((await a.stats()).workers?.waiting, 0, 'A stopped claiming ahead while its slot is held');
      t.gate.resolve();
      await b.stop();
      await a.stop();
    });
  });
}
