/**
 * The worker registry through the public API, once per store: processes register when they
 * start, beat, leave on a graceful stop; a SIGKILLed process's row stays, goes stale by the
 * database clock and is pruned after the retention; a store that refuses the registry's writes
 * gives `error` events and never stops the workers.
 *
 * Beats are periodic, so a few checks wait for a condition on `workers.list()` (read again until
 * it holds, with a deadline), never for a guessed time.
 */
import assert from 'node:assert/strict';
import { fork } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { createOffload, defineTask, type Offload, type OffloadOptions, type WorkerInfo } from '../../src/index.ts';
import type { Driver } from '../../src/storage/driver.ts';
import type { TestStore } from '../stores.ts';
import { client, deferred, nextEvent, silent, storeLifecycle } from './helpers.ts';

const VERSION = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

/** Reads the registry until `match` holds for it; fails after `timeoutMs`. */
async function listUntil(o: Offload, match: (ws: WorkerInfo[]) => boolean, what: string, timeoutMs = 10_000): Promise<WorkerInfo[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ws = await o.workers.list();
    if (match(ws)) return ws;
    if (Date.now() > deadline) assert.fail(`${what}: not within ${timeoutMs} ms; registry: ${JSON.stringify(ws.map((w) => [w.id, w.heartbeatAgeMs, w.stale]))}`);
    await sleep(20);
  }
}

/** A store whose registry methods fail while `failing` names them (the rest passes through). */
function flakyRegistry(d: Driver): { driver: Driver; failing: Set<string> } {
  const failing = new Set<string>();
  const driver = new Proxy(d, {
    get(target, prop, receiver) {
      const v = Reflect.get(target, prop, receiver) as unknown;
      if (typeof prop === 'string' && prop.startsWith('worker') && typeof v === 'function') {
        return (...args: unknown[]) => (failing.has(prop) ? Promise.reject(new Error(`store down: ${prop}`)) : (v as (...a: unknown[]) => unknown).apply(target, args));
      }
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
  return { driver, failing };
}

export function registrySuite(make: () => TestStore): void {
  const store = make();
  describe(`worker registry: ${store.name}`, () => {
    const { use, name } = storeLifecycle(store);

    it('two started clients both appear with their figures; one stops and disappears, the other stays', async () => {
      const hold = deferred();
      const task = defineTask({ name: name('reg.hold'), queue: name('reg-q'), handler: () => hold.promise });
      const reader = use(client(store, { tasks: [task] }));
      const a = use(client(store, { tasks: [task], heartbeatMs: 50 }));
      const b = use(client(store, { tasks: [task], heartbeatMs: 50, loop: false }));
      await a.start({ concurrency: 3 });
      await b.start({ concurrency: 5, queues: [task.queue, 'other'] });
      // Registered by start(): no beat to wait for.
      const both = (await reader.workers.list()).filter((w) => w.id === a.workerId || w.id === b.workerId);
      assert.equal(both.length, 2);
      const wa = both.find((w) => w.id === a.workerId)!;
      const wb = both.find((w) => w.id === b.workerId)!;
      assert.deepEqual([wa.host, wa.pid, wa.version, wa.queues, wa.concurrency, wa.heartbeatMs, wa.stale], [hostname(), process.pid, VERSION, [task.queue], 3, 50, false]);
      assert.deepEqual([wb.queues, wb.concurrency, wb.loop], [[task.queue, 'other'], 5, null], 'b runs without the loop monitor');
      assert.equal(typeof wa.loop?.delayP99Ms, 'number');
      assert.equal(wa.threads, null, 'no thread task: no pool');
      assert.ok(wa.startedAt.getTime() <= wa.heartbeatAt.getTime());

      // A job held by a: its next beats report it running.
      const started = nextEvent(a, 'job:started');
      await b.stop();
      const { job } = await a.enqueue(task, {});
      await started;
      const after = await listUntil(reader, (ws) => ws.some((w) => w.id === a.workerId && w.running === 1), 'a reports its running job');
      assert.equal(after.some((w) => w.id === b.workerId), false, 'a stopped client removed its row');
      hold.resolve();
      await a.jobs.waitFor(job.id);
      await a.stop();
      assert.deepEqual((await reader.workers.list()).filter((w) => w.id === a.workerId), []);
    });

    it('a SIGKILLed worker process keeps its row, stale by the database clock, until it is pruned', async () => {
      const child = fork(new URL('../fixtures/kill-child.ts', import.meta.url), [store.spec], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
      await new Promise<void>((resolve, reject) => {
        child.on('message', (m: { ready?: boolean }) => m.ready === true && resolve());
        child.on('exit', (code) => reject(new Error(`child exited early with ${code}`)));
      });
      const reader = use(client(store));
      const mine = (ws: WorkerInfo[]) => ws.find((w) => w.pid === child.pid && w.host === hostname());
      const alive = mine(await reader.workers.list());
      assert.ok(alive, 'the child registered when it started');
      assert.equal(alive.stale, false);
      assert.deepEqual([alive.heartbeatMs, alive.concurrency, alive.queues], [333, 1, ['default']], 'its heartbeat is a third of its 1 s lease');

      const exited = new Promise((resolve) => child.on('exit', resolve));
      child.kill('SIGKILL');
      await exited;
      // Nothing ran to remove the row: it ages until three beats (1 s) have been missed.
      const stale = mine(await listUntil(reader, (ws) => mine(ws)?.stale === true, 'the dead row turns stale'));
      assert.ok(stale !== undefined && stale.heartbeatAgeMs > 3 * 333, `stale after three missed beats (${stale?.heartbeatAgeMs} ms)`);

      // An hour and more later, a live worker's registry prunes it.
      await reader.driver.testAgeWorker({ id: stale.id, ms: 2 * 3_600_000 });
      const task = defineTask({ name: name('reg.pruner'), handler: () => null });
      const live = use(client(store, { tasks: [task], heartbeatMs: 50, pruneIntervalMs: 10 }));
      const pruned = nextEvent(live, 'workers:pruned', (p) => p.ids.includes(stale.id));
      await live.start();
      assert.ok((await pruned).ids.includes(stale.id));
      const now = await reader.workers.list();
      assert.equal(mine(now), undefined, 'pruned');
      assert.ok(now.some((w) => w.id === live.workerId), 'the pruning worker is listed');
      await live.stop();
    });

    it('a store refusing the registry: error events, never a crash; jobs still run; registration comes back', async () => {
      const { driver, failing } = flakyRegistry(store.open());
      const task = defineTask({ name: name('reg.flaky'), handler: (p: { n: number }) => p.n * 2 });
      const o = use(createOn(driver, task));
      const reader = use(client(store));
      failing.add('workerHeartbeat');
      const firstError = nextEvent(o, 'error', (e) => e.component === 'worker-registry');
      await o.start({ concurrency: 2 });
      assert.match((await firstError).error.message, /store down: workerHeartbeat/, 'start() reports the failed registration and goes on');
      assert.equal((await reader.workers.list()).some((w) => w.id === o.workerId), false, 'not registered');
      // Beats keep failing (each an error event) while the workers run jobs.
      const again = nextEvent(o, 'error', (e) => e.component === 'worker-registry');
      const { job } = await o.enqueue(task, { n: 21 });
      assert.equal((await o.jobs.waitFor(job.id)).result, 42);
      await again;
      // The store comes back: the next beat registers the process.
      failing.delete('workerHeartbeat');
      await listUntil(reader, (ws) => ws.some((w) => w.id === o.workerId && !w.stale), 'registered once beats succeed');
      // A removal that fails at stop: stop() still resolves, the row is left to go stale.
      failing.add('workerRemove');
      const removeError = nextEvent(o, 'error', (e) => e.component === 'worker-registry');
      const id = o.workerId!;
      await o.stop();
      assert.match((await removeError).error.message, /store down: workerRemove/);
      assert.ok((await reader.workers.list()).some((w) => w.id === id), 'the row stays after a failed removal');
      await reader.driver.workerRemove({ id });
    });

    it('a failing prune is an error event; the beat of the same round was stored', async () => {
      const { driver, failing } = flakyRegistry(store.open());
      const task = defineTask({ name: name('reg.noprune'), handler: () => null });
      const o = use(createOn(driver, task, { pruneIntervalMs: 10 }));
      const reader = use(client(store));
      failing.add('workerPrune');
      const err = nextEvent(o, 'error', (e) => e.component === 'worker-registry');
      await o.start();
      assert.match((await err).error.message, /store down: workerPrune/);
      assert.ok((await reader.workers.list()).some((w) => w.id === o.workerId), 'registered despite the prune failure');
      await o.stop();
      assert.equal((await reader.workers.list()).some((w) => w.id === o.workerId), false);
    });

    it('start and stop stay idempotent with the registry; a restart registers a new id', async () => {
      const task = defineTask({ name: name('reg.restart'), handler: () => null });
      const o = use(client(store, { tasks: [task], heartbeatMs: 50 }));
      await o.start();
      await o.start();
      const first = o.workerId;
      await o.stop();
      await o.stop();
      await o.start();
      assert.notEqual(o.workerId, first);
      const ws = await o.workers.list();
      assert.deepEqual(ws.filter((w) => w.id === first || w.id === o.workerId).map((w) => w.id), [o.workerId]);
      await o.stop();
    });
  });
}

function createOn(driver: Driver, task: NonNullable<OffloadOptions['tasks']>[number], extra: { pruneIntervalMs?: number } = {}): Offload {
  return createOffload({ store: driver, logger: silent, tasks: [task], heartbeatMs: 50, ...extra });
}
