/**
 * The worker registry part of the conformance suite (called by suite.ts inside its describe, on
 * the same store): one row per worker process, heartbeats upserted by the database clock, ages
 * computed by the database, removal on graceful stop, pruning of rows dead past a retention.
 *
 * Tests share the store with the rest of the suite: each uses ids of its own and filters the
 * list by them.
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import type { Driver, WorkerBeat, WorkerRow } from '../driver.ts';
import type { SuiteStore } from './suite.ts';

export function beat(id: string, over: Partial<WorkerBeat> = {}): WorkerBeat {
  return {
    id,
    host: 'host-a',
    pid: 4242,
    version: '0.1.0',
    queues: ['default', 'emails'],
    concurrency: 10,
    running: 3,
    heartbeatMs: 5000,
    threads: { size: 4, threads: 2, busy: 1, queued: 0, retired: 5 },
    loop: { delayP99Ms: 12.5, utilization: 0.25, overloaded: false },
    ...over,
  };
}

const HOUR = 3_600_000;

/** This test's rows, in list order. */
async function listed(d: Driver, ids: readonly string[]): Promise<WorkerRow[]> {
  return (await d.workerList({ limit: 1000 })).filter((r) => ids.includes(r.id));
}

export function workerRegistryTests(ctx: () => { d: Driver; store: SuiteStore }): void {
  let n = 0;
  const fresh = (base: string) => `${base}:${process.pid}:w${++n}`;

  it('workers: a heartbeat registers a row with every field; ages come from the database clock', async () => {
    const { d } = ctx();
    const id = fresh('reg');
    await d.workerHeartbeat({ worker: beat(id) });
    const [row] = await listed(d, [id]);
    assert.ok(row);
    const { startedAt, heartbeatAt, heartbeatAgeMs, ...rest } = row;
    assert.deepEqual(rest, beat(id));
    assert.ok(startedAt instanceof Date && heartbeatAt instanceof Date);
    assert.equal(startedAt.getTime(), heartbeatAt.getTime(), 'the first beat starts the row');
    assert.ok(heartbeatAgeMs >= 0 && heartbeatAgeMs < 5000, `a fresh beat is young (${heartbeatAgeMs})`);
    assert.ok(Math.abs(heartbeatAt.getTime() - Date.now()) < 5000, 'heartbeat_at is the database now');

    await d.testAgeWorker({ id, ms: 60_000 });
    const [aged] = await listed(d, [id]);
    assert.ok(aged !== undefined && aged.heartbeatAgeMs >= 60_000 && aged.heartbeatAgeMs < 65_000, `aged by 60 s (${aged?.heartbeatAgeMs})`);
  });

  it('workers: a later beat updates the figures and the heartbeat, and keeps started_at', async () => {
    const { d } = ctx();
    const id = fresh('upd');
    await d.workerHeartbeat({ worker: beat(id) });
    await d.testAgeWorker({ id, ms: HOUR });
    const [before] = await listed(d, [id]);
    await d.workerHeartbeat({ worker: beat(id, { running: 9, concurrency: 12, queues: ['other'], threads: null, loop: null, version: '0.2.0', heartbeatMs: 250 }) });
    const rows = await listed(d, [id]);
    assert.equal(rows.length, 1, 'one row per id');
    const after = rows[0]!;
    assert.deepEqual([after.running, after.concurrency, after.queues, after.threads, after.loop, after.version, after.heartbeatMs], [9, 12, ['other'], null, null, '0.2.0', 250]);
    assert.equal(after.startedAt.getTime(), before!.startedAt.getTime(), 'started_at is the first beat');
    assert.ok(after.heartbeatAgeMs < 5000, `the beat reset the age (${after.heartbeatAgeMs})`);
    assert.ok(after.heartbeatAt.getTime() - after.startedAt.getTime() >= HOUR - 5000);
  });

  it('workers: every connection sees every process, concurrent beats of one id make one row', async () => {
    const { d, store } = ctx();
    const others = [store.open(), store.open()];
    const ids = [fresh('x'), fresh('y'), fresh('z')];
    await Promise.all([
      ...ids.map((id, i) => others[i % 2]!.workerHeartbeat({ worker: beat(id, { host: `host-${i}`, pid: 100 + i }) })),
      ...Array.from({ length: 10 }, (_, i) => [d, ...others][i % 3]!.workerHeartbeat({ worker: beat(ids[0]!, { host: 'host-0', pid: 100, running: i }) })),
    ]);
    const rows = await listed(d, ids);
    assert.deepEqual(rows.map((r) => r.id), ids, 'ordered by host, pid, id');
    assert.deepEqual(rows.map((r) => [r.host, r.pid]), [['host-0', 100], ['host-1', 101], ['host-2', 102]]);
    assert.equal((await others[1]!.workerList({ limit: 1000 })).filter((r) => ids.includes(r.id)).length, 3);
  });

  it('workers: the list is bounded by its limit', async () => {
    const { d } = ctx();
    // Hosts that sort first, so these rows lead the list whatever other tests left.
    const ids = [fresh('!a'), fresh('!b'), fresh('!c')];
    for (const [i, id] of ids.entries()) await d.workerHeartbeat({ worker: beat(id, { host: `!${i}` }) });
    assert.deepEqual((await d.workerList({ limit: 2 })).map((r) => r.id), ids.slice(0, 2));
    for (const id of ids) await d.workerRemove({ id });
  });

  it('workers: remove deletes the row once; a later beat registers it again', async () => {
    const { d, store } = ctx();
    const id = fresh('rm');
    await d.workerHeartbeat({ worker: beat(id) });
    assert.equal(await store.open().workerRemove({ id }), true);
    assert.equal(await d.workerRemove({ id }), false, 'removing twice finds nothing');
    assert.deepEqual(await listed(d, [id]), []);
    await d.workerHeartbeat({ worker: beat(id) });
    assert.equal((await listed(d, [id])).length, 1);
  });

  it('workers: prune deletes rows silent longer than the retention, and only those', async () => {
    const { d } = ctx();
    const [dead, old, live] = [fresh('dead'), fresh('old-start'), fresh('live')];
    for (const id of [dead, old, live]) await d.workerHeartbeat({ worker: beat(id) });
    await d.testAgeWorker({ id: dead, ms: 2 * HOUR });
    // Started long ago but beating now: alive, whatever its age.
    await d.testAgeWorker({ id: old, ms: 2 * HOUR });
    await d.workerHeartbeat({ worker: beat(old) });
    const pruned = await d.workerPrune({ deadMs: HOUR });
    assert.ok(pruned.includes(dead), 'the dead row is pruned');
    assert.ok(!pruned.includes(old) && !pruned.includes(live));
    assert.deepEqual((await listed(d, [dead, old, live])).map((r) => r.id).toSorted(), [old, live].toSorted());
    assert.deepEqual((await d.workerPrune({ deadMs: HOUR })).filter((id) => [dead, old, live].includes(id)), [], 'pruned once');
  });
}
