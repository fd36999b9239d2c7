/**
 * The shared conformance suite every driver must pass. A driver change starts here: write the
 * test, then make every driver pass it. Drivers differ only by capability flags, and each skip
 * states its reason.
 *
 * `makeStore` returns a fresh database; `open()` gives another driver on it, as another process
 * would have (another connection, and for SQLite another store thread).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sourcesOf, WAITING_STATES } from '../../core/state-machine.ts';
import { JOB_STATES, type JobState } from '../../types.ts';
import type { Driver, JobCompletion, JobInsert } from '../driver.ts';
import { workerRegistryTests } from './workers.ts';

export interface SuiteStore {
  open(): Driver;
  dispose(): Promise<void>;
}

export function insert(over: Partial<JobInsert> = {}): JobInsert {
  return {
    task: 't',
    queue: 'default',
    payload: '{"n":1}',
    priority: 0,
    maxAttempts: 3,
    timeoutMs: null,
    runAt: null,
    delayMs: 0,
    idempotencyKey: null,
    fingerprint: null,
    expiresAt: null,
    ttlMs: null,
    traceContext: null,
    ...over,
  };
}

const claimArgs = { queues: ['default'], tasks: ['t'], workerId: 'w1', leaseMs: 30_000 };

/** A claim for an insert (JobInsert.claim), with a token of its own. */
const insertClaim = () => ({ token: `handed-${Math.random()}`, leaseMs: 30_000, workerId: 'w9' });

export function completion(id: string, token: string, over: Partial<JobCompletion> = {}): JobCompletion {
  return { id, token, state: 'completed', delayMs: null, refund: 0, result: '{"ok":true}', error: null, cancelReason: null, ...over };
}

/**
 * The driver's kept counts (jobCounts) against counts of the table itself (jobCount scans it), for
 * every (queue, state) they name and, per state, over all queues (a queue they miss shows there).
 */
export async function assertCountsMatchTable(d: Driver): Promise<void> {
  const kept = await d.jobCounts();
  const byFilter = (queue: string | null, state: JobState) => d.jobCount({ filter: { states: [state], task: null, queue, idempotencyKey: null }, cap: 1_000_000 });
  for (const c of kept) assert.equal(c.count, await byFilter(c.queue, c.state), `${c.queue}/${c.state}`);
  for (const state of JOB_STATES) {
    const total = kept.filter((c) => c.state === state).reduce((n, c) => n + c.count, 0);
    assert.equal(total, await byFilter(null, state), `all queues/${state}`);
  }
}

const error = (attempt: number) => ({ name: 'Error', code: undefined, message: `boom ${attempt}`, stack: 'Error: boom', details: undefined, attempt });

export function driverSuite(name: string, makeStore: () => SuiteStore): void {
  describe(`driver conformance: ${name}`, () => {
    let store: SuiteStore;
    let d: Driver;

    before(async () => {
      store = makeStore();
      d = store.open();
      await d.migrate();
    });
    after(async () => {
      await store.dispose();
    });

    /** Claims every due job so each test starts from an empty queue of its own task. */
    const fresh = (() => {
      let n = 0;
      return () => `t${++n}`;
    })();

    it('migrates again, concurrently, from several drivers', async () => {
      const others = [store.open(), store.open(), store.open()];
      await Promise.all(others.map((o) => o.migrate()));
      await d.migrate();
    });

    it('inserts and reads back a job with every field', async () => {
      const task = fresh();
      const [out] = await d.jobInsertMany({ jobs: [insert({ task, payload: '{"a":[1,2],"b":"x"}', priority: 5, timeoutMs: 1234 })], atomic: false });
      assert.equal(out?.kind, 'created');
      const job = await d.jobGet({ id: out.job.id });
      assert.ok(job);
      assert.deepEqual(job.payload, { a: [1, 2], b: 'x' });
      assert.equal(job.state, 'available');
      assert.equal(job.priority, 5);
      assert.equal(job.timeoutMs, 1234);
      assert.equal(job.attempt, 0);
      assert.equal(job.maxAttempts, 3);
      assert.deepEqual(job.errors, []);
      assert.ok(job.createdAt instanceof Date && job.runAt instanceof Date);
      assert.deepEqual([job.expiresAt, job.traceContext], [null, null]);
      const [traced] = await d.jobInsertMany({
        jobs: [insert({ task, traceContext: '{"traceparent":"00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"}', ttlMs: 60_000 })],
        atomic: true,
      });
      assert.deepEqual(traced?.job.traceContext, { traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' });
      const ttl = traced.job.expiresAt!.getTime() - traced.job.createdAt.getTime();
      assert.ok(ttl >= 59_000 && ttl <= 61_000, `expires_at is now + ttlMs by the database clock (${ttl})`);
      assert.equal(await d.jobGet({ id: '999999999' }), null);
      assert.equal(await d.jobGet({ id: 'not-an-id' }), null);
    });

    it('a future job is scheduled and not claimed before its time', async () => {
      const task = fresh();
      const [a] = await d.jobInsertMany({ jobs: [insert({ task, delayMs: 60_000 }), insert({ task, runAt: new Date(Date.now() + 60_000) })], atomic: false });
      assert.equal(a?.job.state, 'scheduled');
      assert.deepEqual(await d.jobClaim({ ...claimArgs, tasks: [task], limit: 10 }), []);
    });

    it('claims by priority, then run time, only of the given queues and tasks', async () => {
      const task = fresh();
      const outs = await d.jobInsertMany({
        jobs: [insert({ task, priority: 3 }), insert({ task, priority: -1 }), insert({ task, queue: 'other' }), insert({ task: 'not-mine' }), insert({ task, priority: 0 })],
        atomic: false,
      });
      const claimed = await d.jobClaim({ ...claimArgs, tasks: [task], limit: 10 });
      assert.deepEqual(claimed.map((c) => c.job.priority), [-1, 0, 3]);
      for (const c of claimed) {
        assert.equal(c.job.state, 'running');
        assert.equal(c.job.attempt, 1);
        assert.equal(c.job.workerId, 'w1');
        assert.ok(c.job.leaseExpiresAt !== null && c.job.leaseExpiresAt.getTime() > Date.now());
      }
      assert.equal(new Set(claimed.map((c) => c.token)).size, 3, 'every lease has its own token');
      const other = await d.jobClaim({ ...claimArgs, queues: ['other'], tasks: [task], limit: 10 });
      assert.deepEqual(other.map((c) => c.job.id), [outs[2]!.job.id]);
    });

    it('an insert with a claim is running under that lease, fenced like a claimed job', async () => {
      const task = fresh();
      const claim = { token: 'handed-1', leaseMs: 30_000, workerId: 'w9' };
      const insertedAfter = Date.now();
      const [handed, plain] = await d.jobInsertMany({ jobs: [insert({ task, claim }), insert({ task })], atomic: false });
      assert.equal(handed?.kind, 'created');
      assert.equal(handed.job.state, 'running');
      assert.equal(handed.job.attempt, 1);
      assert.equal(handed.job.workerId, 'w9');
      assert.ok(handed.job.attemptedAt !== null && handed.job.attemptedAt.getTime() >= insertedAfter - 1000);
      const lease = handed.job.leaseExpiresAt!.getTime() - handed.job.attemptedAt.getTime();
      assert.ok(lease >= 29_000 && lease <= 31_000, `leased for leaseMs by the database clock (${lease})`);
      assert.equal(plain?.job.state, 'available', 'a job without a claim in the same batch is not claimed');
      assert.equal(plain.job.attempt, 0);
      // A claim passes the handed job over; the other one is still there to take.
      assert.deepEqual((await d.jobClaim({ ...claimArgs, tasks: [task], limit: 10 })).map((c) => c.job.id), [plain.job.id]);
      assert.deepEqual(await d.jobHeartbeatMany({ leases: [{ id: handed.job.id, token: 'handed-1' }], leaseMs: 30_000 }).then((h) => h.map((l) => l.id)), [handed.job.id]);
      assert.deepEqual(await d.jobCompleteMany({ completions: [completion(handed.job.id, 'someone-else')] }), [false], 'another token is refused');
      assert.deepEqual(await d.jobCompleteMany({ completions: [completion(handed.job.id, 'handed-1')] }), [true]);
      assert.equal((await d.jobGet({ id: handed.job.id }))?.state, 'completed');
    });

    it('jobUnclaim gives a lease back without its attempt, once', async () => {
      const task = fresh();
      const [handed] = await d.jobInsertMany({ jobs: [insert({ task, claim: { token: 'handed-3', leaseMs: 30_000, workerId: 'w9' } })], atomic: false });
      assert.equal(await d.jobUnclaim({ token: 'handed-3' }), true);
      const job = await d.jobGet({ id: handed!.job.id });
      assert.deepEqual([job?.state, job?.attempt, job?.leaseExpiresAt], ['available', 0, null]);
      assert.equal(await d.jobUnclaim({ token: 'handed-3' }), false, 'a second call finds no lease');
      assert.deepEqual(await d.jobCompleteMany({ completions: [completion(handed!.job.id, 'handed-3')] }), [false], 'the lease is gone');
      const [claimed] = await d.jobClaim({ ...claimArgs, tasks: [task], limit: 1 });
      assert.deepEqual([claimed?.job.id, claimed?.job.attempt], [handed!.job.id, 1], 'claimable again, its attempt counted once');
      assert.equal(await d.jobUnclaim({ token: 'no-such-token' }), false);
      assert.deepEqual(await d.jobCompleteMany({ completions: [completion(claimed!.job.id, claimed!.token)] }), [true]);
      assert.equal(await d.jobUnclaim({ token: claimed!.token }), false, 'a finished job is not running: nothing to give back');
      assert.equal((await d.jobGet({ id: claimed!.job.id }))?.state, 'completed');
    });

    it('an insert with a claim is not claimed when not due, past its start deadline, its queue is paused, or its key exists', async () => {
      const task = fresh();
      const queue = `${task}-paused`;
      await d.queuePause({ name: queue });
      try {
        const [later, paused, late] = await d.jobInsertMany({
          jobs: [insert({ task, delayMs: 60_000, claim: insertClaim() }), insert({ task, queue, claim: insertClaim() }), insert({ task, expiresAt: new Date(Date.now() - 60_000), claim: insertClaim() })],
          atomic: false,
        });
        assert.equal(later?.job.state, 'scheduled');
        assert.equal(paused?.job.state, 'available');
        assert.equal(late?.job.state, 'available', 'past its start deadline: left for the expirer');
        for (const j of [later.job, paused.job, late.job]) assert.deepEqual([j.attempt, j.workerId, j.leaseExpiresAt], [0, null, null]);
      } finally {
        await d.queueResume({ name: queue });
      }
      const key = { idempotencyKey: 'k', fingerprint: 'f' };
      const [first] = await d.jobInsertMany({ jobs: [insert({ task, ...key })], atomic: false });
      const [again] = await d.jobInsertMany({ jobs: [insert({ task, ...key, claim: insertClaim() })], atomic: false });
      assert.equal(again?.kind, 'existing');
      assert.equal(again.job.id, first?.job.id);
      assert.equal((await d.jobGet({ id: first!.job.id }))?.state, 'available', 'a replayed key claims nothing');
    });

    it('an expired lease from an insert with a claim is rescued with its attempt counted', async () => {
      const task = fresh();
      const [handed] = await d.jobInsertMany({ jobs: [insert({ task, claim: { token: 'handed-2', leaseMs: 30_000, workerId: 'w9' } })], atomic: false });
      await d.testSetLeaseExpiry({ id: handed!.job.id, inMs: -1000 });
      const rescued = await d.jobRescueExpired({ limit: 100 });
      assert.ok(rescued.retried.includes(handed!.job.id));
      const job = await d.jobGet({ id: handed!.job.id });
      assert.deepEqual([job?.state, job?.attempt], ['retryable', 1]);
      assert.deepEqual(await d.jobCompleteMany({ completions: [completion(handed!.job.id, 'handed-2')] }), [false], 'the lost lease is fenced off');
    });

    it('a claim over several queues takes the best jobs across all of them, in order, up to its limit', async () => {
      const task = fresh();
      const [qa, qb, qc] = [`${task}-a`, `${task}-b`, `${task}-c`];
      await d.jobInsertMany({
        jobs: [
          ...Array.from({ length: 3 }, () => insert({ task, queue: qa, priority: 5 })),
          ...Array.from({ length: 2 }, () => insert({ task, queue: qb, priority: 1 })),
          ...Array.from({ length: 2 }, () => insert({ task, queue: qc, priority: 3 })),
        ],
        atomic: true,
      });
      const first = await d.jobClaim({ ...claimArgs, queues: [qa, qb, qc], tasks: [task], limit: 3 });
      assert.deepEqual(
        first.map((c) => [c.job.queue, c.job.priority]),
        [
          [qb, 1],
          [qb, 1],
          [qc, 3],
        ],
      );
      const rest = await d.jobClaim({ ...claimArgs, queues: [qa, qb, qc], tasks: [task], limit: 10 });
      assert.deepEqual(
        rest.map((c) => [c.job.queue, c.job.priority]),
        [
          [qc, 3],
          [qa, 5],
          [qa, 5],
          [qa, 5],
        ],
      );
      assert.deepEqual(await d.jobClaim({ ...claimArgs, queues: [qa, qb, qc], tasks: [task], limit: 10 }), []);
    });

    it('concurrent claimers on separate connections never receive the same job', async () => {
      const task = fresh();
      const total = 400;
      await d.jobInsertMany({ jobs: Array.from({ length: total }, (_, i) => insert({ task, payload: `{"i":${i}}` })), atomic: true });
      const claimers = [d, store.open(), store.open(), store.open()];
      const seen: string[] = [];
      await Promise.all(
        claimers.flatMap((c, ci) =>
          [0, 1].map(async () => {
            for (;;) {
              const got = await c.jobClaim({ ...claimArgs, tasks: [task], workerId: `w${ci}`, limit: 7 });
              if (got.length === 0) return;
              seen.push(...got.map((g) => g.job.id));
            }
          }),
        ),
      );
      assert.equal(seen.length, total);
      assert.equal(new Set(seen).size, total, 'no job was handed out twice');
    });

    it('refuses every write of a lost lease, and accepts the new holder', async () => {
      const task = fresh();
      await d.jobInsertMany({ jobs: [insert({ task })], atomic: false });
      const [first] = await d.jobClaim({ ...claimArgs, tasks: [task], limit: 1 });
      assert.ok(first);
      await d.testSetLeaseExpiry({ id: first.job.id, inMs: -1000 });
      const rescued = await d.jobRescueExpired({ limit: 100 });
      assert.ok(rescued.retried.includes(first.job.id));
      const [second] = await d.jobClaim({ ...claimArgs, tasks: [task], limit: 1 });
      assert.equal(second?.job.id, first.job.id);
      assert.equal(second.job.attempt, 2);
      assert.notEqual(second.token, first.token);
      // The first holder comes back late: everything it says is refused.
      assert.deepEqual(await d.jobCompleteMany({ completions: [completion(first.job.id, first.token)] }), [false]);
      assert.equal(await d.jobProgress({ id: first.job.id, token: first.token, progress: '50' }), false);
      assert.deepEqual(await d.jobHeartbeatMany({ leases: [{ id: first.job.id, token: first.token }], leaseMs: 30_000 }), []);
      // The current holder is heard.
      assert.equal(await d.jobProgress({ id: second.job.id, token: second.token, progress: '50' }), true);
      const beat = await d.jobHeartbeatMany({ leases: [{ id: second.job.id, token: second.token }], leaseMs: 30_000 });
      assert.deepEqual(beat, [{ id: second.job.id, token: second.token, cancelRequested: false, cancelReason: null }]);
      assert.deepEqual(await d.jobCompleteMany({ completions: [completion(second.job.id, second.token)] }), [true]);
      const done = await d.jobGet({ id: first.job.id });
      assert.equal(done?.state, 'completed');
      assert.deepEqual(done.result, { ok: true });
      assert.equal(done.progress, 50);
      // Completing twice is refused too: the lease ended with the first completion.
      assert.deepEqual(await d.jobCompleteMany({ completions: [completion(second.job.id, second.token)] }), [false]);
    });

    it('rescues expired leases: retryable, discarded when attempts are used up, cancelled when requested', async () => {
      const task = fresh();
      await d.jobInsertMany({ jobs: [insert({ task, maxAttempts: 3 }), insert({ task, maxAttempts: 1 }), insert({ task, maxAttempts: 3 }), insert({ task, maxAttempts: 3 })], atomic: false });
      const [a, b, c, live] = await d.jobClaim({ ...claimArgs, tasks: [task], limit: 4 });
      assert.ok(a && b && c && live);
      await d.jobCancel({ id: c.job.id, waitingFrom: WAITING_STATES, reason: 'stop it' });
      for (const j of [a, b, c]) await d.testSetLeaseExpiry({ id: j.job.id, inMs: -1 });
      const r = await d.jobRescueExpired({ limit: 100 });
      assert.deepEqual(r, { retried: [a.job.id], discarded: [b.job.id], cancelled: [c.job.id] });
      const ra = await d.jobGet({ id: a.job.id });
      assert.equal(ra?.state, 'retryable');
      assert.equal(ra.attempt, 1, 'the lost attempt counts');
      assert.equal(ra.errors.length, 1);
      assert.equal(ra.errors[0]?.code, 'OFFLOAD_LEASE_EXPIRED');
      assert.equal(ra.errors[0]?.attempt, 1);
      assert.ok(ra.errors[0]?.at instanceof Date);
      assert.equal(ra.leaseExpiresAt, null);
      const rb = await d.jobGet({ id: b.job.id });
      assert.equal(rb?.state, 'discarded');
      assert.ok(rb.finishedAt !== null);
      assert.equal((await d.jobGet({ id: c.job.id }))?.state, 'cancelled');
      assert.equal((await d.jobGet({ id: live.job.id }))?.state, 'running', 'a live lease is left alone');
      assert.deepEqual(await d.jobRescueExpired({ limit: 100 }), { retried: [], discarded: [], cancelled: [] });
    });

    it('claims and completes a job whose payload and result are tens of MiB, next to small ones', async () => {
      const task = fresh();
      // Past the 32 MiB up to which SQLite's claim hands a row over as JSON text (engine.ts).
      const big = JSON.stringify({ blob: 'x'.repeat(33 * 1024 * 1024) });
      await d.jobInsertMany({ jobs: [insert({ task }), insert({ task, payload: big }), insert({ task })], atomic: false });
      const claimed = await d.jobClaim({ ...claimArgs, tasks: [task], limit: 3 });
      assert.deepEqual(
        claimed.map((c) => (c.job.payload as { blob?: string }).blob?.length ?? null),
        [null, 33 * 1024 * 1024, null],
        'every job, in claim order, with its payload whole',
      );
      assert.ok(claimed.every((c) => c.job.state === 'running' && c.token.length > 0));
      const res = await d.jobCompleteMany({ completions: claimed.map((c, i) => completion(c.job.id, c.token, i === 1 ? { result: big } : {})) });
      assert.deepEqual(res, [true, true, true]);
      const done = await d.jobGet({ id: claimed[1]!.job.id });
      assert.equal((done!.result as { blob: string }).blob.length, 33 * 1024 * 1024);
    });

    it('completes a batch of distinct jobs, each fenced by its own token', async () => {
      const task = fresh();
      await d.jobInsertMany({ jobs: Array.from({ length: 6 }, () => insert({ task })), atomic: false });
      const [a, b, c, stale, retry, left] = await d.jobClaim({ ...claimArgs, tasks: [task], limit: 6 });
      assert.ok(a && b && c && stale && retry && left);
      const res = await d.jobCompleteMany({
        completions: [
          completion(a.job.id, a.token, { result: '{"n":1}' }),
          completion(b.job.id, b.token, { result: null }),
          // A lease token of another job of the same claim: refused, and that job is not touched.
          completion(stale.job.id, left.token, { result: '"x"' }),
          completion(retry.job.id, retry.token, { state: 'retryable', delayMs: 60_000, result: null, error: error(1) }),
          completion(c.job.id, c.token, { result: '"text with \\"quotes\\""' }),
        ],
      });
      assert.deepEqual(res, [true, true, false, true, true]);
      const get = async (id: string) => (await d.jobGet({ id }))!;
      const [ja, jb, jc] = [await get(a.job.id), await get(b.job.id), await get(c.job.id)];
      assert.deepEqual([ja.state, ja.result, ja.leaseExpiresAt], ['completed', { n: 1 }, null]);
      assert.deepEqual([jb.state, jb.result], ['completed', null]);
      assert.deepEqual([jc.state, jc.result], ['completed', 'text with "quotes"']);
      assert.ok(ja.finishedAt !== null);
      assert.equal((await get(retry.job.id)).state, 'retryable');
      for (const j of [stale, left]) {
        const row = await get(j.job.id);
        assert.deepEqual([row.state, row.result], ['running', null], 'a job whose token did not match stays as it was');
      }
      assert.deepEqual(await d.jobCompleteMany({ completions: [completion(stale.job.id, stale.token), completion(left.job.id, left.token)] }), [true, true]);
      assert.deepEqual(await d.jobCompleteMany({ completions: [completion(a.job.id, a.token), completion(b.job.id, b.token)] }), [false, false], 'a finished job refuses a second outcome');
    });

    it('ends attempts in every state of the outcome table in one batch', async () => {
      const task = fresh();
      await d.jobInsertMany({ jobs: Array.from({ length: 5 }, () => insert({ task })), atomic: false });
      const [ok, retry, snoozed, cancelled, discarded] = await d.jobClaim({ ...claimArgs, tasks: [task], limit: 5 });
      assert.ok(ok && retry && snoozed && cancelled && discarded);
      const res = await d.jobCompleteMany({
        completions: [
          completion(ok.job.id, ok.token, { result: '[1,2,3]' }),
          completion(retry.job.id, retry.token, { state: 'retryable', delayMs: 60_000, result: null, error: error(1) }),
          completion(snoozed.job.id, snoozed.token, { state: 'scheduled', delayMs: 60_000, refund: 1, result: null }),
          completion(cancelled.job.id, cancelled.token, { state: 'cancelled', result: null, cancelReason: 'no longer needed' }),
          completion(discarded.job.id, discarded.token, { state: 'discarded', result: null, error: error(1) }),
          completion(ok.job.id, 'not-the-token'),
        ],
      });
      assert.deepEqual(res, [true, true, true, true, true, false]);
      const get = async (id: string) => (await d.jobGet({ id }))!;
      const jOk = await get(ok.job.id);
      assert.deepEqual([jOk.state, jOk.result, jOk.leaseExpiresAt], ['completed', [1, 2, 3], null]);
      const jr = await get(retry.job.id);
      assert.equal(jr.state, 'retryable');
      assert.ok(jr.runAt.getTime() > Date.now() + 50_000, 'retry waits its backoff');
      assert.equal(jr.errors[0]?.message, 'boom 1');
      assert.equal(jr.attempt, 1);
      const js = await get(snoozed.job.id);
      assert.deepEqual([js.state, js.attempt, js.errors.length], ['scheduled', 0, 0]);
      const jc = await get(cancelled.job.id);
      assert.deepEqual([jc.state, jc.cancelReason], ['cancelled', 'no longer needed']);
      assert.ok(jc.finishedAt !== null);
      const jd = await get(discarded.job.id);
      assert.deepEqual([jd.state, jd.errors.length], ['discarded', 1]);
      // Nothing of these is claimable now: retry and snooze wait, the rest are final.
      assert.deepEqual(await d.jobClaim({ ...claimArgs, tasks: [task], limit: 10 }), []);
    });

    it('idempotency: 50 concurrent inserts of one key from several connections make one job', async () => {
      const task = fresh();
      const drivers = [d, store.open(), store.open()];
      const outs = await Promise.all(
        Array.from({ length: 50 }, (_, i) =>
          drivers[i % drivers.length]!.jobInsertMany({ jobs: [insert({ task, idempotencyKey: 'order-1', fingerprint: 'fp' })], atomic: false }),
        ),
      );
      const kinds = outs.map((o) => o[0]!.kind);
      assert.equal(kinds.filter((k) => k === 'created').length, 1);
      assert.equal(kinds.filter((k) => k === 'existing').length, 49);
      assert.equal(new Set(outs.map((o) => o[0]!.job.id)).size, 1);
      const [conflict] = await d.jobInsertMany({ jobs: [insert({ task, idempotencyKey: 'order-1', fingerprint: 'other' })], atomic: false });
      assert.equal(conflict?.kind, 'conflict');
      assert.equal((await d.jobList({ states: null, task, queue: null, beforeId: null, limit: 100 })).length, 1);
      // The same key in another task is another job.
      const [otherTask] = await d.jobInsertMany({ jobs: [insert({ task: `${task}-b`, idempotencyKey: 'order-1', fingerprint: 'fp' })], atomic: false });
      assert.equal(otherTask?.kind, 'created');
    });

    it('an atomic insert with a conflict inserts nothing; a non-atomic one inserts the rest', async () => {
      const task = fresh();
      await d.jobInsertMany({ jobs: [insert({ task, idempotencyKey: 'k', fingerprint: 'a' })], atomic: false });
      const atomic = await d.jobInsertMany({ jobs: [insert({ task }), insert({ task, idempotencyKey: 'k', fingerprint: 'b' }), insert({ task })], atomic: true });
      assert.deepEqual(atomic.map((o) => o.kind).filter((k) => k === 'conflict'), ['conflict']);
      assert.equal((await d.jobList({ states: null, task, queue: null, beforeId: null, limit: 100 })).length, 1);
      const loose = await d.jobInsertMany({ jobs: [insert({ task }), insert({ task, idempotencyKey: 'k', fingerprint: 'b' }), insert({ task, idempotencyKey: 'k2', fingerprint: 'c' }), insert({ task, idempotencyKey: 'k2', fingerprint: 'c' })], atomic: false });
      assert.deepEqual(loose.map((o) => o.kind), ['created', 'conflict', 'created', 'existing']);
      assert.equal(loose[2]!.job.id, loose[3]!.job.id);
      assert.equal((await d.jobList({ states: null, task, queue: null, beforeId: null, limit: 100 })).length, 3);
    });

    it('cancels waiting jobs at once and flags running ones for their worker', async () => {
      const task = fresh();
      const outs = await d.jobInsertMany({ jobs: [insert({ task }), insert({ task })], atomic: false });
      const waiting = await d.jobCancel({ id: outs[0]!.job.id, waitingFrom: WAITING_STATES, reason: 'not needed' });
      assert.deepEqual([waiting?.state, waiting?.cancelReason], ['cancelled', 'not needed']);
      const [running] = await d.jobClaim({ ...claimArgs, tasks: [task], limit: 5 });
      assert.equal(running?.job.id, outs[1]!.job.id);
      assert.deepEqual(await d.jobCancelRequested({ ids: [running.job.id] }), []);
      const flagged = await d.jobCancel({ id: running.job.id, waitingFrom: WAITING_STATES, reason: 'stop' });
      assert.equal(flagged?.state, 'running');
      assert.ok(flagged.cancelRequestedAt !== null);
      assert.deepEqual(await d.jobCancelRequested({ ids: [running.job.id, outs[0]!.job.id] }), [{ id: running.job.id, reason: 'stop' }]);
      const [beat] = await d.jobHeartbeatMany({ leases: [{ id: running.job.id, token: running.token }], leaseMs: 1000 });
      assert.deepEqual([beat?.cancelRequested, beat?.cancelReason], [true, 'stop']);
      assert.equal(await d.jobCancel({ id: '987654321', waitingFrom: WAITING_STATES, reason: 'x' }), null);
    });

    it('completes a result of seventeen million numbers (34 MiB) beside a small one, in one batch', { timeout: 120_000 }, async () => {
      // As jsonb on PostgreSQL, this value (from about sixteen million elements) asked for more
      // memory than one allocation may take and failed its whole batch, the small completion with it.
      const task = fresh();
      await d.jobInsertMany({ jobs: [insert({ task }), insert({ task })], atomic: false });
      const [big, small] = await d.jobClaim({ ...claimArgs, tasks: [task], limit: 2 });
      assert.ok(big && small);
      const result = `[${'0,'.repeat(17 * 2 ** 20 - 1)}0]`;
      const applied = await d.jobCompleteMany({ completions: [completion(big.job.id, big.token, { result }), completion(small.job.id, small.token)] });
      assert.deepEqual(applied, [true, true]);
      // Counted rather than read back: seventeen million numbers parsed would be the test's cost.
      assert.equal(await d.jobCount({ filter: { states: ['completed'], task, queue: null, idempotencyKey: null }, cap: 10 }), 2);
      assert.deepEqual((await d.jobGet({ id: small.job.id }))?.result, { ok: true });
    });

    it("a cancel racing an attempt's retryable outcome always takes effect: cancelled, or the request kept", async () => {
      const task = fresh();
      const other = store.open();
      const n = 40;
      await d.jobInsertMany({ jobs: Array.from({ length: n }, () => insert({ task })), atomic: false });
      const claimed = await d.jobClaim({ ...claimArgs, tasks: [task], limit: n });
      assert.equal(claimed.length, n);
      // Each cancel is sent with the outcome of the same job from another connection, so some land
      // before it, some after, some while it commits.
      const cancels = await Promise.all(
        claimed.map(async (c) => {
          const [job] = await Promise.all([
            d.jobCancel({ id: c.job.id, waitingFrom: WAITING_STATES, reason: 'race' }),
            other.jobCompleteMany({ completions: [completion(c.job.id, c.token, { state: 'retryable', delayMs: 60_000, result: null, error: error(1) })] }),
          ]);
          return job;
        }),
      );
      for (const [i, job] of cancels.entries()) {
        assert.ok(job !== null);
        // What the cancel answered, and what the job is now: ended, or still holding the request
        // (the worker that claims it next ends it without running it).
        const now = await d.jobGet({ id: claimed[i]!.job.id });
        for (const j of [job, now]) {
          assert.ok(j !== null && (j.state === 'cancelled' || j.cancelRequestedAt !== null), `${j?.state}, requested ${String(j?.cancelRequestedAt)}`);
        }
      }
    });

    it('retries only from the states the state machine allows, with a fresh attempt budget', async () => {
      const task = fresh();
      await d.jobInsertMany({ jobs: [insert({ task, maxAttempts: 1 }), insert({ task })], atomic: false });
      const [a, b] = await d.jobClaim({ ...claimArgs, tasks: [task], limit: 2 });
      assert.ok(a && b);
      await d.jobCompleteMany({ completions: [completion(a.job.id, a.token, { state: 'discarded', result: null, error: error(1) }), completion(b.job.id, b.token)] });
      const from = sourcesOf('available', 'retry');
      const retried = await d.jobRetry({ id: a.job.id, from });
      assert.deepEqual([retried?.state, retried?.attempt, retried?.errors.length, retried?.finishedAt], ['available', 0, 1, null]);
      assert.equal(await d.jobRetry({ id: b.job.id, from }), null, 'a completed job is not retried');
      const [again] = await d.jobClaim({ ...claimArgs, tasks: [task], limit: 2 });
      assert.equal(again?.job.id, a.job.id);
    });

    it('prunes final jobs past their retention, and only those', async () => {
      const task = fresh();
      await d.jobInsertMany({ jobs: Array.from({ length: 4 }, () => insert({ task })), atomic: false });
      const [c1, c2, x, dd] = await d.jobClaim({ ...claimArgs, tasks: [task], limit: 4 });
      assert.ok(c1 && c2 && x && dd);
      await d.jobCompleteMany({
        completions: [completion(c1.job.id, c1.token), completion(c2.job.id, c2.token), completion(x.job.id, x.token, { state: 'cancelled', result: null }), completion(dd.job.id, dd.token, { state: 'discarded', result: null, error: error(1) })],
      });
      const hour = 3_600_000;
      await d.testAgeJob({ id: c1.job.id, ms: 25 * hour });
      await d.testAgeJob({ id: x.job.id, ms: 25 * hour });
      await d.testAgeJob({ id: dd.job.id, ms: 25 * hour }); // discarded: kept for 7 days
      const waiting = (await d.jobInsertMany({ jobs: [insert({ task })], atomic: false }))[0]!.job;
      await d.testAgeJob({ id: waiting.id, ms: 30 * 24 * hour }); // old but not final: kept
      const n = await d.jobPrune({ completedMs: 24 * hour, cancelledMs: 24 * hour, discardedMs: 7 * 24 * hour, limit: 1000 });
      assert.equal(n, 2);
      assert.equal(await d.jobGet({ id: c1.job.id }), null);
      assert.equal(await d.jobGet({ id: x.job.id }), null);
      for (const id of [c2.job.id, dd.job.id, waiting.id]) assert.ok(await d.jobGet({ id }), `job ${id} kept`);
    });

    it('lists newest first with filters and keyset pagination', async () => {
      const task = fresh();
      const outs = await d.jobInsertMany({ jobs: Array.from({ length: 7 }, (_, i) => insert({ task, queue: i % 2 ? 'odd' : 'default' })), atomic: true });
      const ids = outs.map((o) => o.job.id).toReversed();
      const page1 = await d.jobList({ states: null, task, queue: null, beforeId: null, limit: 3 });
      assert.deepEqual(page1.map((j) => j.id), ids.slice(0, 3));
      const page2 = await d.jobList({ states: null, task, queue: null, beforeId: page1.at(-1)!.id, limit: 3 });
      assert.deepEqual(page2.map((j) => j.id), ids.slice(3, 6));
      const odd = await d.jobList({ states: ['available'], task, queue: 'odd', beforeId: null, limit: 100 });
      assert.equal(odd.length, 3);
      assert.deepEqual(await d.jobList({ states: ['completed'], task, queue: null, beforeId: null, limit: 100 }), []);
    });

    it('pages a filter of several states newest first across them, each job once', async () => {
      const task = fresh();
      const outs = await d.jobInsertMany({ jobs: Array.from({ length: 9 }, () => insert({ task })), atomic: true });
      // Claim all, then end them so that states interleave by id: available, discarded, completed, ...
      const claimed = (await d.jobClaim({ ...claimArgs, tasks: [task], limit: 9 })).toSorted((x, y) => Number(x.job.id) - Number(y.job.id));
      const states = ['available', 'discarded', 'completed'] as const;
      await d.jobCompleteMany({
        completions: claimed.map((c, i) =>
          states[i % 3] === 'completed'
            ? completion(c.job.id, c.token)
            : states[i % 3] === 'discarded'
              ? completion(c.job.id, c.token, { state: 'discarded', result: null, error: error(1) })
              : completion(c.job.id, c.token, { state: 'available', result: null, refund: 1, delayMs: 0 }),
        ),
      });
      const ids = outs.map((o) => o.job.id);
      const wanted = ids.filter((_, i) => states[i % 3] !== 'completed').toReversed();
      const seen: string[] = [];
      for (let cursor: string | null = null; ; ) {
        const page = await d.jobList({ states: ['discarded', 'available', 'available'], task, queue: null, beforeId: cursor, limit: 4 });
        if (page.length === 0) break;
        assert.ok(page.every((j) => j.state === 'available' || j.state === 'discarded'));
        seen.push(...page.map((j) => j.id));
        cursor = page.at(-1)!.id;
      }
      assert.deepEqual(seen, wanted);
      assert.deepEqual(await d.jobList({ states: [], task, queue: null, beforeId: null, limit: 4 }), [], 'an empty list of states matches nothing');
    });

    it('finds jobs by idempotency key across tasks, newest first, with keyset pages', async () => {
      const [a, b] = [fresh(), fresh()];
      const key = `key-${a}`;
      const outs = await d.jobInsertMany({
        jobs: [
          insert({ task: a, idempotencyKey: key, fingerprint: 'f' }),
          insert({ task: b, idempotencyKey: key, fingerprint: 'f' }),
          insert({ task: a, idempotencyKey: `${key}-other`, fingerprint: 'f' }),
          insert({ task: a }),
        ],
        atomic: true,
      });
      const [ja, jb] = [outs[0]!.job.id, outs[1]!.job.id];
      const both = await d.jobList({ states: null, task: null, queue: null, idempotencyKey: key, beforeId: null, limit: 10 });
      assert.deepEqual(both.map((j) => j.id), [jb, ja], 'exactly the jobs with that key, of every task, newest first');
      assert.deepEqual(both.map((j) => j.idempotencyKey), [key, key]);
      const page2 = await d.jobList({ states: null, task: null, queue: null, idempotencyKey: key, beforeId: jb, limit: 10 });
      assert.deepEqual(page2.map((j) => j.id), [ja]);
      const ofA = await d.jobList({ states: ['available'], task: a, queue: null, idempotencyKey: key, beforeId: null, limit: 10 });
      assert.deepEqual(ofA.map((j) => j.id), [ja], 'combines with the other filters');
      assert.deepEqual(await d.jobList({ states: null, task: null, queue: null, idempotencyKey: `${key}-missing`, beforeId: null, limit: 10 }), []);
      assert.deepEqual(await d.jobList({ states: null, task: null, queue: null, idempotencyKey: key.slice(0, -1), beforeId: null, limit: 10 }), [], 'an exact match, not a prefix');
    });

    it('bulk retry: batches walk ids downwards, fenced by state, narrowed by the filter', async () => {
      const task = fresh();
      await d.jobInsertMany({ jobs: Array.from({ length: 7 }, (_, i) => insert({ task, queue: i === 3 ? 'other-q' : 'default' })), atomic: true });
      const claimed = await d.jobClaim({ ...claimArgs, queues: ['default', 'other-q'], tasks: [task], limit: 7 });
      // Five discarded (one of them in other-q), one completed, one left running.
      const [keep, ...rest] = claimed.toSorted((a, b) => Number(a.job.id) - Number(b.job.id));
      const done = rest.pop()!;
      await d.jobCompleteMany({
        completions: [completion(done.job.id, done.token), ...rest.map((c) => completion(c.job.id, c.token, { state: 'discarded', result: null, error: error(1) }))],
      });
      const discarded = rest.map((c) => c.job.id).toSorted((a, b) => Number(b) - Number(a));
      const filter = { states: null, task, queue: null, idempotencyKey: null };
      const from = sourcesOf('available', 'retry');
      const first = await d.jobRetryMany({ filter, from, beforeId: null, limit: 3 });
      assert.deepEqual(first.ids, discarded.slice(0, 3), 'the 3 highest discarded ids; running and completed are fenced out');
      const second = await d.jobRetryMany({ filter, from, beforeId: first.ids.at(-1)!, limit: 3 });
      assert.deepEqual(second.ids, discarded.slice(3));
      assert.deepEqual(new Set([...first.queues, ...second.queues]), new Set(['default', 'other-q']));
      assert.deepEqual((await d.jobRetryMany({ filter, from, beforeId: second.ids.at(-1)!, limit: 3 })).ids, [], 'an empty batch ends the walk');
      for (const id of discarded) {
        const j = await d.jobGet({ id });
        assert.deepEqual([j?.state, j?.attempt, j?.finishedAt], ['available', 0, null]);
      }
      assert.equal((await d.jobGet({ id: keep!.job.id }))?.state, 'running');
      assert.equal((await d.jobGet({ id: done.job.id }))?.state, 'completed');
      // The filter narrows: nothing of another task or queue, and a state outside the fence matches nothing.
      const again = await d.jobInsertMany({ jobs: [insert({ task, delayMs: 60_000 }), insert({ task, queue: 'other-q', delayMs: 60_000 })], atomic: true });
      assert.deepEqual((await d.jobRetryMany({ filter: { ...filter, queue: 'other-q' }, from, beforeId: null, limit: 10 })).ids, [again[1]!.job.id]);
      assert.deepEqual((await d.jobRetryMany({ filter: { ...filter, task: `${task}-none` }, from, beforeId: null, limit: 10 })).ids, []);
      assert.deepEqual((await d.jobRetryMany({ filter: { ...filter, states: ['running', 'completed'] }, from, beforeId: null, limit: 10 })).ids, []);
      assert.equal((await d.jobGet({ id: again[0]!.job.id }))?.state, 'scheduled');
    });

    it('bulk cancel: waiting jobs end cancelled, running ones get the request, final ones are left alone', async () => {
      const task = fresh();
      const outs = await d.jobInsertMany({ jobs: [insert({ task }), insert({ task }), insert({ task, delayMs: 60_000 }), insert({ task, idempotencyKey: `k-${task}`, fingerprint: 'f' })], atomic: true });
      const [running] = await d.jobClaim({ ...claimArgs, tasks: [task], limit: 1 });
      const [finished] = await d.jobClaim({ ...claimArgs, tasks: [task], limit: 1 });
      await d.jobCompleteMany({ completions: [completion(finished!.job.id, finished!.token)] });
      const filter = { states: null, task, queue: null, idempotencyKey: null };
      const waitingFrom = sourcesOf('cancelled', 'cancel').filter((s) => WAITING_STATES.includes(s));
      const byKey = await d.jobCancelMany({ filter: { ...filter, task: null, idempotencyKey: `k-${task}` }, waitingFrom, reason: 'by key', beforeId: null, limit: 10 });
      assert.deepEqual([byKey.ids, byKey.requested], [[outs[3]!.job.id], []]);
      const all = await d.jobCancelMany({ filter, waitingFrom, reason: 'bulk', beforeId: null, limit: 10 });
      const waiting = outs.map((o) => o.job.id).filter((id) => id !== running!.job.id && id !== finished!.job.id && id !== outs[3]!.job.id);
      assert.deepEqual(all.ids.toSorted(), waiting.toSorted());
      assert.deepEqual(all.requested, [running!.job.id]);
      for (const id of waiting) {
        const j = await d.jobGet({ id });
        assert.deepEqual([j?.state, j?.cancelReason], ['cancelled', 'bulk']);
        assert.ok(j?.finishedAt instanceof Date);
      }
      const r = await d.jobGet({ id: running!.job.id });
      assert.deepEqual([r?.state, r?.cancelReason], ['running', 'bulk']);
      assert.ok(r?.cancelRequestedAt instanceof Date);
      assert.deepEqual(await d.jobCancelRequested({ ids: [running!.job.id] }), [{ id: running!.job.id, reason: 'bulk' }], 'the worker sees the request');
      assert.equal((await d.jobGet({ id: finished!.job.id }))?.state, 'completed');
      const onlyRunning = await d.jobCancelMany({ filter: { ...filter, states: ['running'] }, waitingFrom, reason: 'later', beforeId: null, limit: 10 });
      assert.deepEqual(onlyRunning.requested, [running!.job.id]);
      assert.equal((await d.jobGet({ id: running!.job.id }))?.cancelReason, 'bulk', 'the first request is kept');
    });

    it('bulk delete: only jobs in the given states; counts stop at their cap', async () => {
      const task = fresh();
      await d.jobInsertMany({ jobs: Array.from({ length: 6 }, () => insert({ task })), atomic: true });
      const [running] = await d.jobClaim({ ...claimArgs, tasks: [task], limit: 1 });
      const filter = { states: null, task, queue: null, idempotencyKey: null };
      assert.equal(await d.jobCount({ filter, cap: 100 }), 6);
      assert.equal(await d.jobCount({ filter, cap: 4 }), 4);
      assert.equal(await d.jobCount({ filter: { ...filter, states: ['running'] }, cap: 100 }), 1);
      assert.equal(await d.jobCount({ filter: { ...filter, task: `${task}-none` }, cap: 100 }), 0);
      const from = [...WAITING_STATES, 'completed', 'cancelled', 'discarded'] as const;
      const first = await d.jobDeleteMany({ filter, from, beforeId: null, limit: 3 });
      assert.equal(first.ids.length, 3);
      const second = await d.jobDeleteMany({ filter, from, beforeId: first.ids.at(-1)!, limit: 10 });
      assert.equal(second.ids.length, 2);
      assert.ok(!second.ids.includes(running!.job.id) && !first.ids.includes(running!.job.id), 'a running job is never deleted');
      assert.equal(await d.jobCount({ filter, cap: 100 }), 1);
      assert.equal((await d.jobGet({ id: running!.job.id }))?.state, 'running');
    });

    it('deletes jobs only from the given states', async () => {
      const task = fresh();
      const outs = await d.jobInsertMany({ jobs: [insert({ task }), insert({ task })], atomic: false });
      const [running] = await d.jobClaim({ ...claimArgs, tasks: [task], limit: 1 });
      assert.ok(running);
      const from = ['available', 'completed'] as const;
      assert.equal(await d.jobDelete({ id: running.job.id, from }), false);
      const other = outs.find((o) => o.job.id !== running.job.id)!.job.id;
      assert.equal(await d.jobDelete({ id: other, from }), true);
      assert.equal(await d.jobGet({ id: other }), null);
    });

    it('concurrent requests succeed or fail each on its own (one burst, one failing member)', async () => {
      // Sent together, these reach a store that groups requests (SQLite's store thread) in one
      // burst: the rolled-back atomic insert and the failing write must not take the others along.
      const task = fresh();
      const [seed] = await d.jobInsertMany({ jobs: [insert({ task, idempotencyKey: 'burst', fingerprint: 'a' })], atomic: false });
      const [claimed] = await d.jobClaim({ ...claimArgs, tasks: [task], limit: 1 });
      assert.equal(claimed?.job.id, seed!.job.id);
      const [rolledBack, inserted, completed, stale, retried] = await Promise.allSettled([
        d.jobInsertMany({ jobs: [insert({ task }), insert({ task, idempotencyKey: 'burst', fingerprint: 'b' })], atomic: true }),
        d.jobInsertMany({ jobs: [insert({ task }), insert({ task })], atomic: false }),
        d.jobCompleteMany({ completions: [completion(claimed.job.id, claimed.token)] }),
        d.jobCompleteMany({ completions: [completion(claimed.job.id, 'not-the-token')] }),
        d.jobRetry({ id: 'not-an-id', from: ['discarded'] }),
      ]);
      assert.equal(rolledBack.status, 'fulfilled');
      assert.deepEqual(rolledBack.status === 'fulfilled' && rolledBack.value.map((o) => o.kind).includes('conflict'), true);
      assert.deepEqual(inserted.status === 'fulfilled' && inserted.value.map((o) => o.kind), ['created', 'created']);
      assert.deepEqual(completed.status === 'fulfilled' && completed.value, [true]);
      assert.deepEqual(stale.status === 'fulfilled' && stale.value, [false]);
      assert.ok(retried.status === 'rejected' || retried.value === null, 'a retry of a malformed id changes nothing');
      const jobs = await d.jobList({ states: null, task, queue: null, beforeId: null, limit: 100 });
      assert.deepEqual(jobs.map((j) => j.state).toSorted(), ['available', 'available', 'completed']);
    });

    it('never claims a job past its start deadline; expiring ends it cancelled with reason expired', async () => {
      const task = fresh();
      const [late, zero, fine, future] = await d.jobInsertMany({
        jobs: [
          insert({ task, expiresAt: new Date(Date.now() - 1000) }),
          insert({ task, ttlMs: 0 }),
          insert({ task, ttlMs: 60_000 }),
          insert({ task, expiresAt: new Date(Date.now() + 60_000) }),
        ],
        atomic: true,
      });
      const claimed = await d.jobClaim({ ...claimArgs, tasks: [task], limit: 10 });
      assert.deepEqual(claimed.map((c) => c.job.id).toSorted(), [fine!.job.id, future!.job.id].toSorted());
      const expired = await d.jobExpire({ from: sourcesOf('cancelled', 'expire'), limit: 100 });
      const mine = expired.filter((j) => j.task === task);
      assert.deepEqual(mine.map((j) => j.id).toSorted(), [late!.job.id, zero!.job.id].toSorted());
      for (const j of mine) {
        assert.deepEqual([j.state, j.cancelReason, j.attempt], ['cancelled', 'expired', 0]);
        assert.ok(j.finishedAt !== null);
      }
      assert.deepEqual(await d.jobExpire({ from: sourcesOf('cancelled', 'expire'), limit: 100 }), [], 'expired once only');
      // A running job is past the deadline to start: it is not expired.
      const running = await d.jobGet({ id: fine!.job.id });
      assert.equal(running?.state, 'running');
      // Redrive of an expired job clears its deadline, or it would expire again at once.
      const redriven = await d.jobRetry({ id: late!.job.id, from: sourcesOf('available', 'retry') });
      assert.deepEqual([redriven?.state, redriven?.expiresAt], ['available', null]);
      assert.equal((await d.jobClaim({ ...claimArgs, tasks: [task], limit: 10 }))[0]?.job.id, late!.job.id);
    });

    it('a paused queue is not claimed, by any connection, until it is resumed', async () => {
      const task = fresh();
      const other = store.open();
      await d.jobInsertMany({ jobs: [insert({ task, queue: 'pausable' }), insert({ task, queue: 'running-on' })], atomic: true });
      const paused = await d.queuePause({ name: 'pausable' });
      assert.equal(paused.name, 'pausable');
      assert.ok(paused.pausedAt instanceof Date);
      assert.ok((await d.queuePause({ name: 'pausable' })).pausedAt instanceof Date, 'pausing twice is fine');
      const got = await other.jobClaim({ ...claimArgs, queues: ['pausable', 'running-on'], tasks: [task], limit: 10 });
      assert.deepEqual(got.map((c) => c.job.queue), ['running-on']);
      const listed = (await other.queueList()).find((q) => q.name === 'pausable');
      assert.ok(listed?.pausedAt instanceof Date);
      assert.equal((await d.queueResume({ name: 'pausable' })).pausedAt, null);
      assert.equal((await d.queueResume({ name: 'never-paused' })).pausedAt, null, 'resuming an unknown queue is fine');
      const resumed = await other.jobClaim({ ...claimArgs, queues: ['pausable'], tasks: [task], limit: 10 });
      assert.deepEqual(resumed.map((c) => c.job.queue), ['pausable']);
    });

    it('counts finished jobs per queue within a window', async () => {
      const task = fresh();
      await d.jobInsertMany({
        jobs: [...Array.from({ length: 5 }, () => insert({ task, queue: 'depth-q' })), insert({ task, queue: 'depth-q', delayMs: 60_000 })],
        atomic: true,
      });
      const claimed = await d.jobClaim({ ...claimArgs, queues: ['depth-q'], tasks: [task], limit: 2 });
      await d.jobCompleteMany({ completions: claimed.map((c) => completion(c.job.id, c.token)) });
      const recent = (await d.jobFinishedRecently({ windowMs: 60_000 })).find((r) => r.queue === 'depth-q');
      assert.equal(recent?.count, 2);
      for (const c of claimed) await d.testAgeJob({ id: c.job.id, ms: 120_000 });
      assert.equal((await d.jobFinishedRecently({ windowMs: 60_000 })).find((r) => r.queue === 'depth-q'), undefined);
    });

    it('counts jobs by queue and state', async () => {
      const task = fresh();
      await d.jobInsertMany({ jobs: [insert({ task, queue: 'count-q' }), insert({ task, queue: 'count-q', delayMs: 60_000 })], atomic: false });
      const counts = (await d.jobCounts()).filter((c) => c.queue === 'count-q');
      assert.deepEqual(counts.toSorted((x, y) => x.state.localeCompare(y.state)), [
        { queue: 'count-q', state: 'available', count: 1 },
        { queue: 'count-q', state: 'scheduled', count: 1 },
      ]);
    });

    it('keeps its counts equal to the table through every kind of write', async () => {
      const task = fresh();
      const hour = 3_600_000;
      const made = await d.jobInsertMany({
        jobs: [
          ...Array.from({ length: 9 }, () => insert({ task, queue: 'tally-q' })),
          insert({ task, queue: 'tally-q', delayMs: hour }),
          insert({ task, queue: 'tally-q', claim: { token: 'tally-handed', leaseMs: 30_000, workerId: 'w9' } }),
          insert({ task, queue: 'tally-q', expiresAt: new Date(Date.now() - 1000) }),
          ...Array.from({ length: 4 }, () => insert({ task, queue: 'tally-r' })),
        ],
        atomic: false,
      });
      // Claims, then every outcome a completion can write.
      const [ok, old, gone, again, dead, snoozed, lost, waitingOne] = await d.jobClaim({ ...claimArgs, queues: ['tally-q'], tasks: [task], limit: 8 });
      assert.ok(ok && old && gone && again && dead && snoozed && lost && waitingOne);
      await d.jobCompleteMany({
        completions: [
          completion(ok.job.id, ok.token),
          completion(old.job.id, old.token),
          completion(gone.job.id, gone.token, { state: 'cancelled', result: null, cancelReason: 'by test' }),
          completion(again.job.id, again.token, { state: 'retryable', result: null, delayMs: 0, error: error(1) }),
          completion(dead.job.id, dead.token, { state: 'discarded', result: null, error: error(1) }),
          completion(snoozed.job.id, snoozed.token, { state: 'scheduled', result: null, delayMs: hour, refund: 1 }),
          completion(ok.job.id, 'stale-token'),
        ],
      });
      assert.equal(await d.jobUnclaim({ token: waitingOne.token }), true);
      assert.equal(await d.jobUnclaim({ token: 'tally-handed' }), true);
      // The lost lease is rescued; the start deadline in the past is expired.
      await d.testSetLeaseExpiry({ id: lost.job.id, inMs: -1000 });
      // Until a round finds none: earlier tests may have left expired leases of their own.
      while (Object.values(await d.jobRescueExpired({ limit: 100 })).some((ids) => ids.length > 0));
      while ((await d.jobExpire({ from: WAITING_STATES, limit: 100 })).length > 0);
      assert.equal((await d.jobGet({ id: lost.job.id }))?.state, 'retryable');
      // One-job actions: cancel a waiting job, retry the discarded one, delete the cancelled one.
      const waiting = made.find((o) => o.job.state === 'available' && ![ok, old, gone, again, dead, snoozed, lost, waitingOne].some((c) => c.job.id === o.job.id))!.job;
      assert.ok(await d.jobCancel({ id: waiting.id, waitingFrom: WAITING_STATES, reason: 'by test' }));
      assert.ok(await d.jobRetry({ id: dead.job.id, from: sourcesOf('available', 'retry') }));
      assert.equal(await d.jobDelete({ id: gone.job.id, from: ['cancelled'] }), true);
      // Bulk actions on the other queue, and a prune.
      const filter = { states: null, task, queue: 'tally-r', idempotencyKey: null };
      const [r1] = await d.jobClaim({ ...claimArgs, queues: ['tally-r'], tasks: [task], limit: 1 });
      assert.ok(r1);
      assert.equal((await d.jobCancelMany({ filter, waitingFrom: WAITING_STATES, reason: 'bulk', beforeId: null, limit: 2 })).ids.length, 2);
      assert.equal((await d.jobRetryMany({ filter, from: sourcesOf('available', 'retry'), beforeId: null, limit: 1 })).ids.length, 1);
      assert.equal((await d.jobDeleteMany({ filter, from: ['cancelled'], beforeId: null, limit: 10 })).ids.length, 1);
      await d.testAgeJob({ id: old.job.id, ms: 25 * hour });
      assert.ok((await d.jobPrune({ completedMs: 24 * hour, cancelledMs: 24 * hour, discardedMs: 7 * 24 * hour, limit: 1000 })) >= 1);

      // The whole store, so the writes of every test above are checked too.
      await assertCountsMatchTable(d);
      const kept = await d.jobCounts();
      const tally = Object.fromEntries(kept.filter((c) => c.queue === 'tally-q').map((c) => [c.state, c.count]));
      // 12 made: 2 completed (1 pruned); 1 cancelled (deleted); expired and cancelled by jobCancel;
      // 2 leases given back and the discarded one retried; rescued and retryable; snoozed and delayed.
      assert.deepEqual(tally, { completed: 1, cancelled: 2, available: 3, retryable: 2, scheduled: 2 });
      assert.deepEqual(Object.fromEntries(kept.filter((c) => c.queue === 'tally-r').map((c) => [c.state, c.count])), { running: 1, available: 2 });
    });

    workerRegistryTests(() => ({ d, store }));
  });
}
