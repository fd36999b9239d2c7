/**
 * The PostgreSQL driver: many worker processes on many machines share one database.
 *
 * Wake-ups travel by LISTEN/NOTIFY (channel per schema), deduplicated by PostgreSQL per
 * transaction and coalesced by the producer; they are hints only, the producer's poll is correct
 * without them. Cancel requests travel the same way on a second channel.
 */
import { randomUUID } from 'node:crypto';
import type { Sql, TransactionSql } from 'postgres';
import { OffloadError } from '../../errors.ts';
import type { Job, JobState } from '../../types.ts';
import type { CancelRequest, ClaimedJob, ClaimParams, Driver, DriverCapabilities, HeldLease, InsertOutcome, JobBatch, JobCompletion, JobInsert, QueueInfo, WorkerBeat, WorkerRow } from '../driver.ts';
import { bulkQueries, type BulkStatement } from './bulk-queries.ts';
import { POSTGRES_MIGRATIONS } from './migrations.ts';
import { pgQueries } from './queries.ts';
import { COL, compareIds, jobOf, JOB_SELECT, type JobValues } from './rows.ts';
import { pgWorkerQueries, toWorker, workerBeatParams, type PgWorkerRow } from './worker-queries.ts';

type Querier = Sql | TransactionSql;

/** SQLSTATEs that mean "nothing was committed, run it again": serialization failure, deadlock. */
const RETRIABLE = new Set(['40001', '40P01']);

export interface PostgresDriverOptions {
  sql: Sql;
  ownsSql: boolean;
  schema: string;
}

/**
 * Rows per insert statement of an atomic insert: a call with more runs several statements in its
 * one transaction, so no statement's parameters grow without bound.
 */
const INSERT_CHUNK = 5000;

export class PostgresDriver implements Driver {
  readonly name = 'postgres';
  readonly capabilities: DriverCapabilities = { callerTransactions: true, crossProcessNotify: true, ordered: false };
  readonly #sql: Sql;
  readonly #owns: boolean;
  readonly #schema: string;
  readonly #quoted: string;
  readonly #wake: string;
  readonly #cancel: string;
  readonly #q: ReturnType<typeof pgQueries>;
  readonly #bq: ReturnType<typeof bulkQueries>;
  readonly #wq: ReturnType<typeof pgWorkerQueries>;
  #closed = false;

  constructor(o: PostgresDriverOptions) {
    this.#sql = o.sql;
    this.#owns = o.ownsSql;
    this.#schema = o.schema;
    this.#quoted = `"${o.schema.replace(/"/g, '""')}"`;
    this.#wake = `offload_wake:${o.schema}`;
    this.#cancel = `offload_cancel:${o.schema}`;
    this.#q = pgQueries(this.#quoted, this.#wake, this.#cancel);
    this.#bq = bulkQueries(this.#quoted, this.#wake, this.#cancel);
    this.#wq = pgWorkerQueries(this.#quoted);
  }

  /** Runs a prepared statement, retrying the listed transient failures. */
  async #run<T>(text: string, params: unknown[], on: Querier = this.#sql): Promise<T[]> {
    return this.#query(text, params, on, false) as Promise<T[]>;
  }

  /** Rows as arrays of their values, in selected order (job rows: rows.ts JOB_COLUMNS first). */
  async #values(text: string, params: unknown[], on: Querier = this.#sql): Promise<JobValues[]> {
    return this.#query(text, params, on, true) as Promise<JobValues[]>;
  }

  async #jobs(text: string, params: unknown[], on: Querier = this.#sql): Promise<Job[]> {
    return (await this.#values(text, params, on)).map(jobOf);
  }

  async #query(text: string, params: unknown[], on: Querier, values: boolean): Promise<unknown[]> {
    if (this.#closed) throw new OffloadError('OFFLOAD_CLOSED', 'the postgres store is closed');
    for (let attempt = 1; ; attempt++) {
      try {
        const q = on.unsafe(text, params as never[], { prepare: true });
        return await (values ? q.values() : q);
      } catch (err) {
        const code = (err as { code?: string }).code;
        if (code !== undefined && RETRIABLE.has(code) && attempt < 5 && on === this.#sql) continue;
        if (code === 'OFFLOAD_CONFLICT_ROLLBACK') throw err;
        throw new OffloadError('OFFLOAD_STORE', `postgres store: ${(err as Error).message}`, { cause: err });
      }
    }
  }

  async migrate(): Promise<void> {
    await this.#sql.begin(async (tx) => {
      // Transaction-scoped advisory lock: concurrent starters apply migrations one at a time and
      // the lock is released at commit even if the process dies.
      await tx.unsafe(`SELECT pg_advisory_xact_lock(hashtext('offload_migrate:' || $1))`, [this.#schema]);
      await tx.unsafe(`CREATE SCHEMA IF NOT EXISTS ${this.#quoted}`);
      await tx.unsafe(`CREATE TABLE IF NOT EXISTS ${this.#quoted}.migrations (version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`);
      const done = new Set((await tx.unsafe(`SELECT version FROM ${this.#quoted}.migrations`)).map((r) => Number(r['version'])));
      for (const m of POSTGRES_MIGRATIONS) {
        if (done.has(m.version)) continue;
        await tx.unsafe(m.sql.replaceAll(':schema', this.#quoted));
        await tx.unsafe(`INSERT INTO ${this.#quoted}.migrations (version, name) VALUES ($1, $2)`, [m.version, m.name]);
      }
    });
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#owns) await this.#sql.end({ timeout: 5 });
  }

  async jobInsertMany(p: { jobs: JobInsert[]; atomic: boolean; tx?: unknown }): Promise<InsertOutcome[]> {
    const tx = p.tx as TransactionSql | undefined;
    if (tx !== undefined && typeof (tx as { savepoint?: unknown }).savepoint !== 'function') {
      throw new OffloadError('OFFLOAD_INVALID_OPTIONS', 'enqueue: tx must be a postgres.js transaction (the sql given to sql.begin)');
    }
    if (!p.atomic && tx === undefined) return this.#insert(p.jobs, this.#sql);
    const body = async (q: Querier) => {
      // Statements of at most INSERT_CHUNK rows, all in this one transaction.
      const out: InsertOutcome[] = [];
      for (let i = 0; i < p.jobs.length; i += INSERT_CHUNK) out.push(...(await this.#insert(p.jobs.slice(i, i + INSERT_CHUNK), q)));
      if (out.some((o) => o.kind === 'conflict')) throw Object.assign(new Error('conflict'), { code: 'OFFLOAD_CONFLICT_ROLLBACK', outcomes: out });
      return out;
    };
    try {
      // In the caller's transaction a savepoint undoes only our rows; otherwise our own transaction.
      return tx !== undefined ? await tx.savepoint((sp) => body(sp)) : await this.#sql.begin((b) => body(b));
    } catch (err) {
      const outcomes = (err as { outcomes?: InsertOutcome[] }).outcomes;
      if (outcomes !== undefined) return outcomes;
      throw err instanceof OffloadError ? err : new OffloadError('OFFLOAD_STORE', `postgres store: ${(err as Error).message}`, { cause: err });
    }
  }

  async #insert(jobs: JobInsert[], q: Querier): Promise<InsertOutcome[]> {
    const col = <K extends keyof JobInsert>(k: K) => jobs.map((j) => j[k]);
    const rows = await this.#values(
      this.#q.insert,
      [
        col('task'),
        col('queue'),
        col('payload'),
        col('priority'),
        col('maxAttempts'),
        col('timeoutMs'),
        jobs.map((j) => j.runAt?.toISOString() ?? null),
        col('delayMs'),
        col('idempotencyKey'),
        col('fingerprint'),
        jobs.map((j) => j.expiresAt?.toISOString() ?? null),
        col('ttlMs'),
        col('traceContext'),
        jobs.map((j) => j.claim?.token ?? null),
        jobs.map((j) => j.claim?.leaseMs ?? null),
        jobs.map((j) => j.claim?.workerId ?? null),
      ],
      q,
    );
    // Rows come back for inserted jobs only. Unkeyed inputs always insert, in input order (see
    // the query); keyed ones are matched by key, and a key seen twice in one batch inserts once.
    const created = rows.map(jobOf).toSorted((a, b) => compareIds(a.id, b.id));
    const keyed = new Map<string, Job>();
    const unkeyed: Job[] = [];
    for (const c of created) {
      if (c.idempotencyKey === null) unkeyed.push(c);
      else keyed.set(`${c.task}\0${c.idempotencyKey}`, c);
    }
    let u = 0;
    const out: InsertOutcome[] = [];
    for (const j of jobs) {
      if (j.idempotencyKey === null) {
        out.push({ kind: 'created', job: unkeyed[u++]! });
        continue;
      }
      const k = `${j.task}\0${j.idempotencyKey}`;
      const mine = keyed.get(k);
      if (mine !== undefined) {
        keyed.delete(k);
        out.push({ kind: 'created', job: mine });
        continue;
      }
      const [prior] = await this.#values(this.#q.existing, [j.task, j.idempotencyKey], q);
      if (prior === undefined) {
        // The holder of the key was deleted between our insert and this read: insert again.
        const [again] = await this.#insert([j], q);
        out.push(again!);
        continue;
      }
      out.push({ kind: prior[COL.fingerprint] === j.fingerprint ? 'existing' : 'conflict', job: jobOf(prior) });
    }
    return out;
  }

  async jobClaim(p: ClaimParams): Promise<ClaimedJob[]> {
    const prefix = `${randomUUID()}:`;
    let rows: JobValues[];
    try {
      rows = await this.#values(this.#q.claim, [p.queues, p.limit, p.leaseMs, p.workerId, p.tasks, prefix]);
    } catch (err) {
      // The claim may have committed and only its answer failed to arrive: hand back what it
      // leased, or its jobs would wait for the rescuer and be charged an attempt they never ran.
      // If this fails too (the database is gone), the leases expire and the rescuer decides.
      await this.#run(this.#q.releaseClaim, [prefix, p.workerId]).catch(() => undefined);
      throw err;
    }
    const claimed = rows.map((r) => ({ job: jobOf(r), token: r[COL.lease_token] as string }));
    // UPDATE ... RETURNING comes in no particular order; claim order is priority, run_at, id.
    return claimed.toSorted(({ job: a }, { job: b }) => a.priority - b.priority || a.runAt.getTime() - b.runAt.getTime() || compareIds(a.id, b.id));
  }

  async jobHeartbeatMany(p: { leases: ReadonlyArray<{ id: string; token: string }>; leaseMs: number }): Promise<HeldLease[]> {
    if (p.leases.length === 0) return [];
    const rows = await this.#run<{ id: string; lease_token: string; cancel_requested: boolean; cancel_reason: string | null }>(this.#q.heartbeat, [
      p.leases.map((l) => l.id),
      p.leases.map((l) => l.token),
      p.leaseMs,
    ]);
    return rows.map((r) => ({ id: r.id, token: r.lease_token, cancelRequested: r.cancel_requested, cancelReason: r.cancel_requested ? r.cancel_reason : null }));
  }

  async jobUnclaim(p: { token: string }): Promise<boolean> {
    return (await this.#run<{ id: string }>(this.#q.unclaim, [p.token])).length === 1;
  }

  async jobCancelRequested(p: { ids: readonly string[] }): Promise<CancelRequest[]> {
    if (p.ids.length === 0) return [];
    return (await this.#run<{ id: string; cancel_reason: string | null }>(this.#q.cancelRequested, [p.ids])).map((r) => ({ id: r.id, reason: r.cancel_reason }));
  }

  async jobCompleteMany(p: { completions: readonly JobCompletion[] }): Promise<boolean[]> {
    const ok: JobCompletion[] = [];
    const other: JobCompletion[] = [];
    // Where each completion went: its statement, and its position there.
    const at = p.completions.map((c) => (c.state === 'completed' ? ok.push(c) : -other.push(c)));
    // Each statement answers with the (1-based) positions of the completions it applied, so a job
    // named twice (a stale lease's outcome beside the current one's) reads right without matching
    // ids and tokens here.
    const [a, b] = await Promise.all([
      ok.length === 0 ? [] : this.#run<{ n: number }>(this.#q.completeOk, [ok.map((c) => c.id), ok.map((c) => c.token), ok.map((c) => c.result)]),
      other.length === 0
        ? []
        : this.#run<{ n: number }>(this.#q.completeOther, [
            other.map((c) => c.id),
            other.map((c) => c.token),
            other.map((c) => c.state),
            other.map((c) => c.refund),
            other.map((c) => c.delayMs),
            other.map((c) => (c.error === null ? null : JSON.stringify(c.error))),
            other.map((c) => c.cancelReason),
          ]),
    ]);
    const okApplied = Array.from({ length: ok.length + 1 }, () => false);
    const otherApplied = Array.from({ length: other.length + 1 }, () => false);
    for (const r of a) okApplied[r.n] = true;
    for (const r of b) otherApplied[r.n] = true;
    return at.map((n) => (n > 0 ? okApplied[n]! : otherApplied[-n]!));
  }

  async jobProgress(p: { id: string; token: string; progress: string }): Promise<boolean> {
    const r = await this.#run(this.#q.progress, [p.id, p.token, p.progress]);
    return (r as unknown as { count: number }).count === 1;
  }

  async jobGet(p: { id: string }): Promise<Job | null> {
    if (!/^\d{1,18}$/.test(p.id)) return null;
    const [job] = await this.#jobs(this.#q.get, [p.id]);
    return job ?? null;
  }

  async jobList(p: { states: readonly JobState[] | null; task: string | null; queue: string | null; idempotencyKey?: string | null; beforeId: string | null; limit: number }): Promise<Job[]> {
    // No state can match an empty list (and UNION ALL of no branch is no statement).
    if (p.states !== null && p.states.length === 0) return [];
    const where: string[] = [];
    const args: unknown[] = [];
    const add = (clause: string, value: unknown) => {
      args.push(value);
      where.push(clause.replace('?', `$${args.length}`));
    };
    if (p.task !== null) add('task = ?', p.task);
    if (p.queue !== null) add('queue = ?', p.queue);
    if (p.idempotencyKey !== undefined && p.idempotencyKey !== null) add('idempotency_key = ?', p.idempotencyKey);
    if (p.beforeId !== null) add('id < ?', p.beforeId);
    args.push(p.limit);
    const limit = `$${args.length}`;
    const t = `${this.#quoted}.jobs`;
    let text: string;
    if (p.states === null) text = `SELECT ${JOB_SELECT} FROM ${t} ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC LIMIT ${limit}`;
    else {
      // One backward scan of (state, id) per state, merged: with `state = ANY(...)` a page of a
      // rare state walks the primary key past every row of the common ones, or sorts. Each state
      // is its own parameter (not unnest + LATERAL): the planner then sees the value, and for a
      // rare state picks the (state, id) index; with an unknown value it assumed a common one.
      const branches = [...new Set(p.states)].map((state) => {
        args.push(state);
        const cond = [`state = $${args.length}`, ...where].join(' AND ');
        return `(SELECT ${JOB_SELECT} FROM ${t} WHERE ${cond} ORDER BY id DESC LIMIT ${limit})`;
      });
      text = branches.length === 1 ? branches[0]!.slice(1, -1) : `${branches.join(' UNION ALL ')} ORDER BY id DESC LIMIT ${limit}`;
    }
    return this.#jobs(text, args);
  }

  async jobCancel(p: { id: string; waitingFrom: readonly JobState[]; reason: string }): Promise<Job | null> {
    if (!/^\d{1,18}$/.test(p.id)) return null;
    const [job] = await this.#jobs(this.#q.cancel, [p.id, p.reason, p.waitingFrom]);
    return job ?? this.jobGet({ id: p.id });
  }

  async jobRetry(p: { id: string; from: readonly JobState[] }): Promise<Job | null> {
    if (!/^\d{1,18}$/.test(p.id)) return null;
    const [job] = await this.#jobs(this.#q.retry, [p.id, p.from]);
    return job ?? null;
  }

  async jobDelete(p: { id: string; from: readonly JobState[] }): Promise<boolean> {
    if (!/^\d{1,18}$/.test(p.id)) return false;
    const r = await this.#run(this.#q.delete, [p.id, p.from]);
    return (r as unknown as { count: number }).count === 1;
  }

  // Bulk actions and the filtered count: one batch per call (bulk-queries.ts).
  async #batch(s: BulkStatement): Promise<Array<{ id: string; queue: string; state: JobState }>> {
    const rows = await this.#run<{ id: string; queue: string; state: JobState }>(s.text, s.params);
    return rows.toSorted((a, b) => compareIds(b.id, a.id));
  }
  async jobRetryMany(p: Parameters<Driver['jobRetryMany']>[0]): Promise<JobBatch> {
    const rows = await this.#batch(this.#bq.retryMany(p));
    return { ids: rows.map((r) => r.id), queues: [...new Set(rows.map((r) => r.queue))] };
  }
  async jobCancelMany(p: Parameters<Driver['jobCancelMany']>[0]): Promise<JobBatch & { requested: string[] }> {
    const rows = await this.#batch(this.#bq.cancelMany(p));
    const cancelled = rows.filter((r) => r.state !== 'running');
    return { ids: cancelled.map((r) => r.id), queues: [...new Set(cancelled.map((r) => r.queue))], requested: rows.filter((r) => r.state === 'running').map((r) => r.id) };
  }
  async jobDeleteMany(p: Parameters<Driver['jobDeleteMany']>[0]): Promise<JobBatch> {
    const rows = await this.#batch(this.#bq.deleteMany(p));
    return { ids: rows.map((r) => r.id), queues: [...new Set(rows.map((r) => r.queue))] };
  }
  async jobCount(p: Parameters<Driver['jobCount']>[0]): Promise<number> {
    const s = this.#bq.count(p);
    const [r] = await this.#run<{ n: number }>(s.text, s.params);
    return r?.n ?? 0;
  }

  async jobRescueExpired(p: { limit: number }): Promise<{ retried: string[]; discarded: string[]; cancelled: string[] }> {
    const rows = await this.#run<{ id: string; state: JobState }>(this.#q.rescue, [p.limit]);
    const by = (s: JobState) => rows.filter((r) => r.state === s).map((r) => r.id);
    return { retried: by('retryable'), discarded: by('discarded'), cancelled: by('cancelled') };
  }

  async jobPrune(p: { completedMs: number; cancelledMs: number; discardedMs: number; limit: number }): Promise<number> {
    const r = await this.#run(this.#q.prune, [p.completedMs, p.cancelledMs, p.discardedMs, p.limit]);
    // The pruner's round also folds the count deltas, so that they stay few in a store nobody
    // reads counts of.
    await this.#fold();
    return (r as unknown as { count: number }).count;
  }

  async jobCounts(): Promise<Array<{ queue: string; state: JobState; count: number }>> {
    await this.#fold();
    return this.#run(this.#q.counts, []);
  }

  /**
   * Folds the count deltas into job_counts. Only an economy: a read sums the deltas anyway, so a
   * fold that fails fails neither the read nor the prune it follows; the next one moves them.
   */
  async #fold(): Promise<void> {
    try {
      await this.#run(this.#q.countsFold, []);
    } catch {
      // See above: the deltas wait for the next fold.
    }
  }

  async jobExpire(p: { from: readonly JobState[]; limit: number }): Promise<Job[]> {
    return this.#jobs(this.#q.expire, [p.from, p.limit]);
  }

  async jobFinishedRecently(p: { windowMs: number }): Promise<Array<{ queue: string; count: number }>> {
    return this.#run(this.#q.finishedRecently, [p.windowMs]);
  }

  async queuePause(p: { name: string }): Promise<QueueInfo> {
    const [r] = await this.#run<{ name: string; paused_at: Date | null }>(this.#q.queuePause, [p.name]);
    return { name: r!.name, pausedAt: r!.paused_at };
  }

  async queueResume(p: { name: string }): Promise<QueueInfo> {
    const [r] = await this.#run<{ name: string; paused_at: Date | null }>(this.#q.queueResume, [p.name]);
    return { name: r!.name, pausedAt: r!.paused_at };
  }

  async queueList(): Promise<QueueInfo[]> {
    return (await this.#run<{ name: string; paused_at: Date | null }>(this.#q.queueList, [])).map((r) => ({ name: r.name, pausedAt: r.paused_at }));
  }

  // The worker registry: its SQL is in worker-queries.ts.
  async workerHeartbeat(p: { worker: WorkerBeat }): Promise<void> {
    await this.#run(this.#wq.heartbeat, workerBeatParams(p.worker));
  }

  async workerList(p: { limit: number }): Promise<WorkerRow[]> {
    return (await this.#run<PgWorkerRow>(this.#wq.list, [p.limit])).map(toWorker);
  }

  async workerRemove(p: { id: string }): Promise<boolean> {
    const r = await this.#run(this.#wq.remove, [p.id]);
    return (r as unknown as { count: number }).count === 1;
  }

  async workerPrune(p: { deadMs: number }): Promise<string[]> {
    return (await this.#run<{ id: string }>(this.#wq.prune, [p.deadMs])).map((r) => r.id);
  }

  async testAgeWorker(p: { id: string; ms: number }): Promise<void> {
    await this.#run(this.#wq.testAge, [p.id, p.ms]);
  }

  async onJobsAvailable(listener: (queue: string) => void): Promise<() => Promise<void>> {
    const sub = await this.#sql.listen(this.#wake, listener);
    return () => sub.unlisten();
  }

  async onCancelRequested(listener: (jobId: string) => void): Promise<() => Promise<void>> {
    const sub = await this.#sql.listen(this.#cancel, listener);
    return () => sub.unlisten();
  }

  async testSetLeaseExpiry(p: { id: string; inMs: number }): Promise<void> {
    await this.#run(this.#q.testLease, [p.id, p.inMs]);
  }

  async testAgeJob(p: { id: string; ms: number }): Promise<void> {
    await this.#run(this.#q.testAge, [p.id, p.ms]);
  }
}
