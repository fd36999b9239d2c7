/**
 * The SQLite driver's synchronous core: every query of the store, run on the store thread
 * (./thread.ts) so that the caller's event loop never waits on the disk.
 *
 * Concurrency model: one connection per process. Several processes may share the file; WAL lets
 * readers proceed during a write, and every write transaction is BEGIN IMMEDIATE so that the write
 * lock is taken up front (a deferred transaction that upgrades from read to write can fail with
 * SQLITE_BUSY without waiting on the busy handler). busy_timeout makes a contended BEGIN wait.
 */
import { randomBytes } from 'node:crypto';
import Database from 'better-sqlite3';
import type { Database as Db, Statement } from 'better-sqlite3';
import { OffloadError } from '../../errors.ts';
import type { Job, JobState } from '../../types.ts';
import type { CancelRequest, ClaimParams, HeldLease, InsertOutcome, JobCompletion, JobInsert, QueueInfo, WorkerBeat, WorkerRow } from '../driver.ts';
import { cancelMany, count, deleteMany, retryMany, type BulkHost } from './bulk.ts';
import { SQLITE_MIGRATIONS } from './migrations.ts';
import { date, ROW_COLUMNS, toJob, type Row } from './rows.ts';
import { SqliteWorkerTable } from './worker-table.ts';

export interface SqliteEngineOptions {
  path: string;
  busyTimeoutMs: number;
  synchronous: 'full' | 'normal';
}

/**
 * How long a write keeps trying while another process holds the file's write lock, at least: each
 * try waits up to busyTimeoutMs in SQLite's busy handler, and a try that still finds the lock held
 * (or one that fails at once, as BEGIN can while another process recovers the WAL) is repeated with
 * a growing nap until this has passed. Only then does SQLITE_BUSY reach the caller, as OFFLOAD_STORE.
 */
export const WRITE_PATIENCE_MS = 30_000;

function isBusy(err: unknown): boolean {
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' && (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED'));
}

/**
 * Runs `fn`, again and again while it fails with SQLITE_BUSY, for up to `timeoutMs`. Sleeps
 * between tries with Atomics.wait: this runs on the store thread, whose only work is this.
 */
function retryWhileBusy<T>(fn: () => T, timeoutMs: number): T {
  const deadline = Date.now() + timeoutMs;
  for (let wait = 1; ; wait = Math.min(wait * 2, 50)) {
    try {
      return fn();
    } catch (err) {
      if (!isBusy(err) || Date.now() >= deadline) throw err;
      Atomics.wait(NAP, 0, 0, wait);
    }
  }
}

/** What retryWhileBusy sleeps on, made once: every write comes through it (nothing wakes it; the wait is the timeout). */
const NAP = new Int32Array(new SharedArrayBuffer(4));

const FINAL = "('completed','cancelled','discarded')";
const WAITING = "('scheduled','available','retryable')";
/** What a claim writes: the lease (`@prefix || id` is its token) and the attempt it starts. */
const LEASE = `SET state = 'running', attempt = attempt + 1, attempted_at = @now, lease_token = @prefix || id,
  lease_expires_at = @now + @leaseMs, worker_id = @workerId`;
/** Every job column, in ROW_COLUMNS order, as a select list. */
const ROW_SELECT = ROW_COLUMNS.join(', ');
/**
 * The text columns of a row: what its JSON text is made of, beyond numbers (engine.test.ts checks
 * the list against the table). Listed rather than every column measured: a number's octet_length
 * converts it to text first, ~0.3 us a claimed job.
 */
export const TEXT_COLUMNS = ['task', 'queue', 'state', 'payload', 'lease_token', 'worker_id', 'idempotency_key', 'fingerprint', 'progress', 'result', 'errors', 'cancel_reason', 'trace_context'];
/**
 * Rows whose text columns hold more than this many bytes come back as values, not as JSON
 * text: escaped, the text of a row can grow up to six times, and a JavaScript string holds at
 * most about 512 Mi characters (32 MiB x 6 stays well under it).
 */
const JSON_ROW_MAX_BYTES = 32 * 1024 * 1024;
/**
 * A claimed row as the claim returns it: its claim order's columns, then the whole row as JSON
 * text (a JSON array of ROW_COLUMNS), or null for a row past JSON_ROW_MAX_BYTES.
 */
const CLAIMED_SELECT = `priority, run_at, id,
  CASE WHEN ${TEXT_COLUMNS.map((c) => `coalesce(octet_length(${c}), 0)`).join(' + ')} <= ${JSON_ROW_MAX_BYTES} THEN json_array(${ROW_SELECT}) END`;
type ClaimedRow = [priority: number, runAt: number, id: number, row: string | null];
/** A claimed row as it crosses to the driver: JSON text of its ROW_COLUMNS, or the values themselves (a big row). */
export type ClaimedWire = string | unknown[];
/** What a claim may take: due, of a queue that is not paused, not past its start deadline. */
const CLAIMABLE = (queueMarks: string, taskMarks: string, now: string) => `state IN ('scheduled','available','retryable')
  AND queue IN (${queueMarks}) AND run_at <= ${now} AND task IN (${taskMarks})
  AND (expires_at IS NULL OR expires_at > ${now})
  AND queue NOT IN (SELECT name FROM offload_queues WHERE paused_at IS NOT NULL)`;

export class SqliteEngine {
  readonly #db: Db;
  readonly #stmts = new Map<string, Statement>();
  readonly #workers = new SqliteWorkerTable(
    (sql) => this.#stmt(sql),
    (fn) => this.#write(fn),
  );

  constructor(options: SqliteEngineOptions) {
    this.#db = new Database(options.path, { timeout: options.busyTimeoutMs });
    // While another process is busy with the file (its first open recovering the WAL, a
    // checkpoint), these can fail with SQLITE_BUSY at once, without the busy handler's wait: try
    // again for up to the busy timeout rather than leave this store unusable.
    this.#patienceMs = Math.max(options.busyTimeoutMs, WRITE_PATIENCE_MS);
    retryWhileBusy(() => this.#db.pragma('journal_mode = WAL'), this.#patienceMs);
    // FULL: a commit survives power loss, not only a process crash. Group commit (many jobs per
    // transaction) keeps the fsync cost per job small.
    retryWhileBusy(() => this.#db.pragma(`synchronous = ${options.synchronous.toUpperCase()}`), this.#patienceMs);
    this.#db.pragma('foreign_keys = ON');
    this.#full = options.synchronous === 'full';
  }

  readonly #full: boolean;
  readonly #patienceMs: number;

  /**
   * Whether a transaction is open. After a request of a group fails, this tells whether SQLite
   * rolled back only that request's savepoint or the whole transaction (as it may on a full disk
   * or an I/O error): see ./store-batch.ts.
   */
  get inTransaction(): boolean {
    return this.#db.inTransaction;
  }

  /**
   * Runs `fn` with commits that skip their fsync (synchronous=NORMAL), for writes whose loss in a
   * power cut costs nothing but a repeat: claims. A claim lost that way leaves its job as it was
   * before (waiting, the attempt not counted), and the job runs again: at-least-once, as after any
   * crash. It can never undo a durable write: WAL frames are appended in order, so the fsync of
   * any later FULL commit (an enqueue, a completion) makes every earlier frame durable with it.
   * On the latency path (enqueue, claim, start) this leaves one fsync instead of two.
   */
  relaxed<T>(fn: () => T): T {
    if (!this.#full) return fn();
    this.#stmt('PRAGMA synchronous = NORMAL').run();
    try {
      return fn();
    } finally {
      this.#stmt('PRAGMA synchronous = FULL').run();
    }
  }

  close(): void {
    this.#db.close();
  }

  /** Prepared statements are cached by text: each query is compiled once per connection. */
  #stmt(sql: string): Statement {
    let s = this.#stmts.get(sql);
    if (s === undefined) {
      s = this.#db.prepare(sql);
      this.#stmts.set(sql, s);
    }
    return s;
  }

  /**
   * Runs `fn` in a BEGIN IMMEDIATE transaction, trying again (with a growing nap) while another
   * process holds the write lock, for up to the store's patience (WRITE_PATIENCE_MS). Inside a
   * group it is a savepoint: the group holds the lock already.
   */
  #write<T>(fn: () => T): T {
    const tx = this.#db.transaction(fn);
    if (this.#db.inTransaction) return tx();
    // A failed try rolled back everything `fn` wrote, so running it again is safe.
    return retryWhileBusy(() => tx.immediate(), this.#patienceMs);
  }

  /**
   * Runs `fn` in one write transaction: the store thread uses it to commit a burst of requests
   * with one fsync. Each request's own `#write` becomes a savepoint inside it, so a request that
   * fails rolls back alone.
   */
  group<T>(fn: () => T): T {
    return this.#write(fn);
  }

  migrate(): void {
    // The write lock of BEGIN IMMEDIATE is the migration lock: a second process waits, then sees
    // the versions the first one applied.
    this.#write(() => {
      this.#db.exec('CREATE TABLE IF NOT EXISTS offload_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)');
      const done = new Set((this.#db.prepare('SELECT version FROM offload_migrations').all() as Array<{ version: number }>).map((r) => r.version));
      for (const m of SQLITE_MIGRATIONS) {
        if (done.has(m.version)) continue;
        this.#db.exec(m.sql);
        this.#db.prepare('INSERT INTO offload_migrations (version, name, applied_at) VALUES (?, ?, ?)').run(m.version, m.name, Date.now());
      }
    });
  }

  #paused(queue: string): boolean {
    return this.#stmt('SELECT 1 FROM offload_queues WHERE name = ? AND paused_at IS NOT NULL').get(queue) !== undefined;
  }

  jobInsertMany(p: { jobs: JobInsert[]; atomic: boolean }): InsertOutcome[] {
    const insert = this.#stmt(`INSERT INTO offload_jobs
      (task, queue, state, payload, priority, max_attempts, timeout_ms, run_at, created_at, idempotency_key, fingerprint, expires_at, trace_context,
       attempt, attempted_at, lease_token, lease_expires_at, worker_id)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
      ON CONFLICT (task, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING
      RETURNING *`);
    const existing = this.#stmt('SELECT * FROM offload_jobs WHERE task = ? AND idempotency_key = ?');
    const run = (): InsertOutcome[] => {
      const now = Date.now();
      const out: InsertOutcome[] = [];
      for (const j of p.jobs) {
        const runAt = j.runAt === null ? now + j.delayMs : j.runAt.getTime();
        const expiresAt = j.expiresAt !== null ? j.expiresAt.getTime() : j.ttlMs !== null ? now + j.ttlMs : null;
        // Claimed at insert (see JobInsert.claim) only what a claim could take now.
        const claimable = runAt <= now && (expiresAt === null || expiresAt > now);
        const claim = j.claim !== undefined && claimable && !this.#paused(j.queue) ? j.claim : null;
        const state: JobState = claim !== null ? 'running' : runAt > now ? 'scheduled' : 'available';
        const lease = claim === null ? [0, null, null, null, null] : [1, now, claim.token, now + claim.leaseMs, claim.workerId];
        const row = insert.get(j.task, j.queue, state, j.payload, j.priority, j.maxAttempts, j.timeoutMs, runAt, now, j.idempotencyKey, j.fingerprint, expiresAt, j.traceContext, ...lease) as
          | Row
          | undefined;
        if (row !== undefined) {
          out.push({ kind: 'created', job: toJob(row) });
          continue;
        }
        const prior = existing.get(j.task, j.idempotencyKey) as Row;
        out.push({ kind: prior.fingerprint === j.fingerprint ? 'existing' : 'conflict', job: toJob(prior) });
      }
      if (p.atomic && out.some((o) => o.kind === 'conflict')) throw new ConflictRollback(out);
      return out;
    };
    try {
      return this.#write(run);
    } catch (err) {
      if (err instanceof ConflictRollback) return err.outcomes;
      throw err;
    }
  }

  /**
   * The claimed rows, in claim order, each as the JSON text of its ROW_COLUMNS (a big row: as
   * its values); the driver parses them and maps the rows to jobs on its own thread (see
   * driver.ts). Why text: this thread is the store's bottleneck at full speed, and SQLite writes
   * a row as JSON in less than it takes to hand 25 columns to JavaScript one value at a time
   * (~6.3 against ~8 us a claimed job with the UPDATE); a string then crosses to the caller's
   * thread as one copy instead of a structured clone of 25 values, and is parsed there in one call.
   * Everything runs inside the claim's transaction: a claim that fails after its UPDATE rolls
   * back rather than leave leases that no one holds.
   */
  jobClaim(p: ClaimParams): ClaimedWire[] {
    const marks = p.queues.map(() => '?').join(',');
    const taskMarks = p.tasks.map(() => '?').join(',');
    // A read first: an idle poll must not take the write lock that other processes' enqueues need.
    const probe = this.#stmt(`SELECT 1 FROM offload_jobs WHERE ${CLAIMABLE(marks, taskMarks, '@now')} LIMIT 1`);
    if (probe.get({ now: Date.now() }, ...p.queues, ...p.tasks) === undefined) return [];
    // Tokens: a random prefix fresh for this claim plus the id, so every lease has its own token
    // and a token from an earlier claim of the same job never matches again.
    const prefix = randomBytes(9).toString('base64url') + ':';
    if (p.queues.length === 1) {
      // One queue (the common case): pick and claim in one statement, without the ids' round trip
      // through JSON; the rows are then put in claim order here.
      const claimOne = this.#stmt(`UPDATE offload_jobs ${LEASE}
        WHERE id IN (SELECT id FROM offload_jobs WHERE ${CLAIMABLE('?', taskMarks, '@now')} ORDER BY priority, run_at, id LIMIT @limit)
        RETURNING ${CLAIMED_SELECT}`);
      claimOne.raw(true);
      return this.#write(() => {
        const out = claimOne.all({ now: Date.now(), prefix, leaseMs: p.leaseMs, workerId: p.workerId, limit: p.limit }, p.queues[0], ...p.tasks) as ClaimedRow[];
        return this.#wire(out.toSorted((a, b) => a[0] - b[0] || a[1] - b[1] || a[2] - b[2]));
      });
    }
    // Several queues: one index scan per queue, merged here: with `queue IN (a, b)` SQLite cannot
    // walk the claim index in (priority, run_at, id) order across queues and sorts every due row
    // of those queues in a temporary B-tree, a cost that grows with the backlog. Each scan stops at `limit`.
    const pick = this.#stmt(`SELECT id, priority, run_at FROM offload_jobs WHERE ${CLAIMABLE('?', taskMarks, '@now')}
      ORDER BY priority, run_at, id LIMIT @limit`);
    const claim = this.#stmt(`UPDATE offload_jobs ${LEASE}
      WHERE id IN (SELECT value FROM json_each(@ids)) AND state IN ${WAITING}
      RETURNING ${CLAIMED_SELECT}`);
    claim.raw(true);
    return this.#write(() => {
      const now = Date.now();
      const all: Array<{ id: number; priority: number; run_at: number }> = [];
      for (const queue of p.queues) all.push(...(pick.all({ now, limit: p.limit }, queue, ...p.tasks) as typeof all));
      const picked = all.toSorted((a, b) => a.priority - b.priority || a.run_at - b.run_at || a.id - b.id).slice(0, p.limit);
      if (picked.length === 0) return [];
      const out = claim.all({ now, prefix, leaseMs: p.leaseMs, workerId: p.workerId, ids: JSON.stringify(picked.map((r) => r.id)) }) as ClaimedRow[];
      // RETURNING order is unspecified; hand jobs out in claim order (the picks' order).
      const byId = new Map(out.map((r) => [r[2], r]));
      return this.#wire(picked.map((r) => byId.get(r.id)).filter((r) => r !== undefined));
    });
  }

  /** Claimed rows as they cross to the driver: the JSON text, or for a big row its values, read again here. */
  #wire(rows: readonly ClaimedRow[]): ClaimedWire[] {
    const values = this.#stmt(`SELECT ${ROW_SELECT} FROM offload_jobs WHERE id = ?`);
    values.raw(true);
    return rows.map((r) => r[3] ?? (values.get(r[2]) as unknown[]));
  }

  jobHeartbeatMany(p: { leases: ReadonlyArray<{ id: string; token: string }>; leaseMs: number }): HeldLease[] {
    const beat = this.#stmt(`UPDATE offload_jobs SET lease_expires_at = ? + ?
      WHERE id = ? AND lease_token = ? AND state = 'running' RETURNING id, lease_token, cancel_requested_at, cancel_reason`);
    return this.#write(() => {
      const now = Date.now();
      const held: HeldLease[] = [];
      for (const l of p.leases) {
        const r = beat.get(now, p.leaseMs, Number(l.id), l.token) as { id: number; lease_token: string; cancel_requested_at: number | null; cancel_reason: string | null } | undefined;
        if (r !== undefined) held.push({ id: String(r.id), token: r.lease_token, cancelRequested: r.cancel_requested_at !== null, cancelReason: r.cancel_requested_at === null ? null : r.cancel_reason });
      }
      return held;
    });
  }

  jobUnclaim(p: { token: string }): boolean {
    const s = this.#stmt(`UPDATE offload_jobs SET state = 'available', attempt = attempt - 1, lease_token = NULL, lease_expires_at = NULL
      WHERE lease_token = ? AND state = 'running'`);
    return this.#write(() => s.run(p.token).changes === 1);
  }

  jobCancelRequested(p: { ids: readonly string[] }): CancelRequest[] {
    const q = this.#stmt("SELECT cancel_reason FROM offload_jobs WHERE id = ? AND state = 'running' AND cancel_requested_at IS NOT NULL");
    const out: CancelRequest[] = [];
    for (const id of p.ids) {
      const r = q.get(Number(id)) as { cancel_reason: string | null } | undefined;
      if (r !== undefined) out.push({ id, reason: r.cancel_reason });
    }
    return out;
  }

  jobCompleteMany(p: { completions: readonly JobCompletion[] }): boolean[] {
    const done = this.#stmt(`UPDATE offload_jobs SET state = 'completed', result = ?, finished_at = ?,
        lease_token = NULL, lease_expires_at = NULL
      WHERE id = ? AND lease_token = ? AND state = 'running'`);
    const other = this.#stmt(`UPDATE offload_jobs SET state = @state,
        attempt = attempt - @refund,
        run_at = CASE WHEN @delayMs IS NULL THEN run_at ELSE @now + @delayMs END,
        finished_at = CASE WHEN @state IN ${FINAL} THEN @now ELSE NULL END,
        errors = CASE WHEN @error IS NULL THEN errors ELSE json_insert(errors, '$[#]', json(@error)) END,
        cancel_reason = COALESCE(@cancelReason, cancel_reason),
        lease_token = NULL, lease_expires_at = NULL
      WHERE id = @id AND lease_token = @token AND state = 'running'`);
    const oks = p.completions.filter((c) => c.state === 'completed');
    // A batch whose jobs are all distinct completes its successes in one statement (below); one that
    // names a job twice (a stale lease's outcome next to the current one's) goes row by row, in order,
    // and so does one whose results would make the statement's JSON text too long for a string.
    const distinct = oks.length > 1 && new Set(p.completions.map((c) => Number(c.id))).size === p.completions.length;
    const setBased = distinct && oks.reduce((n, c) => n + (c.result?.length ?? 0), 0) <= JSON_ROW_MAX_BYTES;
    return this.#write(() => {
      const now = Date.now();
      const applied = setBased ? this.#completeOks(oks, now) : null;
      return p.completions.map((c) => {
        if (c.state === 'completed') return applied !== null ? applied.has(Number(c.id)) : done.run(c.result, now, Number(c.id), c.token).changes === 1;
        const error = c.error === null ? null : JSON.stringify({ ...c.error, at: now });
        const args = { state: c.state, refund: c.refund, delayMs: c.delayMs, now, error, cancelReason: c.cancelReason, id: Number(c.id), token: c.token };
        return other.run(args).changes === 1;
      });
    });
  }

  /**
   * Successful outcomes of distinct jobs as one set-based UPDATE; returns the ids it applied to.
   * Why: each run of a one-row UPDATE opens cursors on the table and on every index of the job it
   * changes, about a quarter of a completion's cost; one statement opens them once per batch
   * (~6.5 against ~8.5 us a job at 350 a batch). `+state` keeps the planner off the state index:
   * driven by it, the statement scanned every running row for each job of the batch.
   */
  #completeOks(oks: readonly JobCompletion[], now: number): Set<number> {
    const s = this.#stmt(`UPDATE offload_jobs SET state = 'completed', result = c.value ->> 2, finished_at = @now,
        lease_token = NULL, lease_expires_at = NULL
      FROM json_each(@batch) AS c
      WHERE offload_jobs.id = c.value ->> 0 AND offload_jobs.lease_token = c.value ->> 1 AND +offload_jobs.state = 'running'
      RETURNING offload_jobs.id`);
    s.pluck(true);
    const batch = JSON.stringify(oks.map((c) => [Number(c.id), c.token, c.result]));
    return new Set(s.all({ now, batch }) as number[]);
  }

  jobProgress(p: { id: string; token: string; progress: string }): boolean {
    const s = this.#stmt("UPDATE offload_jobs SET progress = ? WHERE id = ? AND lease_token = ? AND state = 'running'");
    return this.#write(() => s.run(p.progress, Number(p.id), p.token).changes === 1);
  }

  jobGet(p: { id: string }): Job | null {
    const id = Number(p.id);
    if (!Number.isSafeInteger(id)) return null;
    const r = this.#stmt('SELECT * FROM offload_jobs WHERE id = ?').get(id) as Row | undefined;
    return r === undefined ? null : toJob(r);
  }

  /**
   * Newest first, below the cursor. One index range scan per state, merged: with `state IN (a, b)`
   * SQLite cannot walk the (state, id) index in id order across states and sorts every matching
   * row in a temporary B-tree, so a page of a filter such as "waiting" would cost the whole set.
   */
  jobList(p: { states: readonly JobState[] | null; task: string | null; queue: string | null; idempotencyKey?: string | null; beforeId: string | null; limit: number }): Job[] {
    const where: string[] = [];
    const args: unknown[] = [];
    if (p.task !== null) {
      where.push('task = ?');
      args.push(p.task);
    }
    if (p.queue !== null) {
      where.push('queue = ?');
      args.push(p.queue);
    }
    if (p.idempotencyKey !== undefined && p.idempotencyKey !== null) {
      where.push('idempotency_key = ?');
      args.push(p.idempotencyKey);
    }
    if (p.beforeId !== null) {
      where.push('id < ?');
      args.push(Number(p.beforeId));
    }
    const page = (extra: string[], extraArgs: unknown[]) => {
      const all = [...extra, ...where];
      const sql = `SELECT * FROM offload_jobs ${all.length ? `WHERE ${all.join(' AND ')}` : ''} ORDER BY id DESC LIMIT ?`;
      return this.#stmt(sql).all(...extraArgs, ...args, p.limit) as Row[];
    };
    let rows: Row[];
    if (p.states === null) rows = page([], []);
    else if (p.states.length === 1) rows = page(['state = ?'], [p.states[0]]);
    else rows = [...new Set(p.states)].flatMap((state) => page(['state = ?'], [state])).toSorted((a, b) => b.id - a.id).slice(0, p.limit);
    return rows.map(toJob);
  }

  jobCancel(p: { id: string; waitingFrom: readonly JobState[]; reason: string }): Job | null {
    const marks = p.waitingFrom.map(() => '?').join(',');
    const waiting = this.#stmt(`UPDATE offload_jobs SET state = 'cancelled', finished_at = ?, cancel_reason = ?, cancel_requested_at = ?
      WHERE id = ? AND state IN (${marks}) RETURNING *`);
    const running = this.#stmt(`UPDATE offload_jobs SET cancel_requested_at = COALESCE(cancel_requested_at, ?), cancel_reason = COALESCE(cancel_reason, ?)
      WHERE id = ? AND state = 'running' RETURNING *`);
    const get = this.#stmt('SELECT * FROM offload_jobs WHERE id = ?');
    return this.#write(() => {
      const now = Date.now();
      const id = Number(p.id);
      const r = (waiting.get(now, p.reason, now, id, ...p.waitingFrom) ?? running.get(now, p.reason, id) ?? get.get(id)) as Row | undefined;
      return r === undefined ? null : toJob(r);
    });
  }

  jobRetry(p: { id: string; from: readonly JobState[] }): Job | null {
    // The deadline goes too: a redriven job is wanted now, and its old deadline would expire it again.
    const s = this.#stmt(`UPDATE offload_jobs SET state = 'available', run_at = ?, attempt = 0, finished_at = NULL,
        cancel_requested_at = NULL, cancel_reason = NULL, lease_token = NULL, lease_expires_at = NULL, expires_at = NULL
      WHERE id = ? AND state IN (${p.from.map(() => '?').join(',')}) RETURNING *`);
    const r = this.#write(() => s.get(Date.now(), Number(p.id), ...p.from)) as Row | undefined;
    return r === undefined ? null : toJob(r);
  }

  jobDelete(p: { id: string; from: readonly JobState[] }): boolean {
    const s = this.#stmt(`DELETE FROM offload_jobs WHERE id = ? AND state IN (${p.from.map(() => '?').join(',')})`);
    return this.#write(() => s.run(Number(p.id), ...p.from).changes === 1);
  }

  // Bulk actions and the filtered count: one batch per call (bulk.ts).
  readonly #bulk: BulkHost = { stmt: (sql) => this.#stmt(sql), write: (fn) => this.#write(fn) };
  jobRetryMany(p: Parameters<typeof retryMany>[1]): ReturnType<typeof retryMany> {
    return retryMany(this.#bulk, p);
  }
  jobCancelMany(p: Parameters<typeof cancelMany>[1]): ReturnType<typeof cancelMany> {
    return cancelMany(this.#bulk, p);
  }
  jobDeleteMany(p: Parameters<typeof deleteMany>[1]): ReturnType<typeof deleteMany> {
    return deleteMany(this.#bulk, p);
  }
  jobCount(p: Parameters<typeof count>[1]): number {
    return count(this.#bulk, p);
  }

  jobRescueExpired(p: { limit: number }): { retried: string[]; discarded: string[]; cancelled: string[] } {
    const s = this.#stmt(`UPDATE offload_jobs SET
        state = CASE WHEN cancel_requested_at IS NOT NULL THEN 'cancelled'
                     WHEN attempt >= max_attempts THEN 'discarded' ELSE 'retryable' END,
        run_at = @now,
        finished_at = CASE WHEN cancel_requested_at IS NOT NULL OR attempt >= max_attempts THEN @now ELSE NULL END,
        errors = json_insert(errors, '$[#]', json_object('attempt', attempt, 'at', @now, 'name', 'OffloadError',
          'code', 'OFFLOAD_LEASE_EXPIRED', 'message', 'the lease expired: the worker ' || COALESCE(worker_id, '?') || ' stopped heartbeating')),
        lease_token = NULL, lease_expires_at = NULL
      WHERE id IN (SELECT id FROM offload_jobs WHERE state = 'running' AND lease_expires_at < @now LIMIT @limit)
      RETURNING id, state`);
    const rows = this.#write(() => s.all({ now: Date.now(), limit: p.limit })) as Array<{ id: number; state: JobState }>;
    const by = (st: JobState) => rows.filter((r) => r.state === st).map((r) => String(r.id));
    return { retried: by('retryable'), discarded: by('discarded'), cancelled: by('cancelled') };
  }

  jobExpire(p: { from: readonly JobState[]; limit: number }): Job[] {
    const s = this.#stmt(`UPDATE offload_jobs SET state = 'cancelled', cancel_reason = 'expired', finished_at = @now
      WHERE id IN (SELECT id FROM offload_jobs WHERE expires_at IS NOT NULL AND expires_at <= @now
        AND state IN (${p.from.map(() => '?').join(',')}) LIMIT @limit)
      RETURNING *`);
    return (this.#write(() => s.all({ now: Date.now(), limit: p.limit }, ...p.from)) as Row[]).map(toJob);
  }

  jobFinishedRecently(p: { windowMs: number }): Array<{ queue: string; count: number }> {
    const s = this.#stmt(`SELECT queue, COUNT(*) AS count FROM offload_jobs
      WHERE state IN ${FINAL} AND finished_at > ? GROUP BY queue`);
    return s.all(Date.now() - p.windowMs) as Array<{ queue: string; count: number }>;
  }

  queuePause(p: { name: string }): QueueInfo {
    const s = this.#stmt(`INSERT INTO offload_queues (name, paused_at) VALUES (?, ?)
      ON CONFLICT (name) DO UPDATE SET paused_at = COALESCE(paused_at, excluded.paused_at) RETURNING name, paused_at`);
    const r = this.#write(() => s.get(p.name, Date.now())) as { name: string; paused_at: number | null };
    return { name: r.name, pausedAt: date(r.paused_at) };
  }

  queueResume(p: { name: string }): QueueInfo {
    const s = this.#stmt(`INSERT INTO offload_queues (name, paused_at) VALUES (?, NULL)
      ON CONFLICT (name) DO UPDATE SET paused_at = NULL RETURNING name, paused_at`);
    const r = this.#write(() => s.get(p.name)) as { name: string; paused_at: number | null };
    return { name: r.name, pausedAt: date(r.paused_at) };
  }

  queueList(): QueueInfo[] {
    const rows = this.#stmt('SELECT name, paused_at FROM offload_queues ORDER BY name').all() as Array<{ name: string; paused_at: number | null }>;
    return rows.map((r) => ({ name: r.name, pausedAt: date(r.paused_at) }));
  }

  // The worker registry: its SQL is in worker-table.ts.
  workerHeartbeat(p: { worker: WorkerBeat }): void {
    this.#workers.heartbeat(p);
  }

  workerList(p: { limit: number }): WorkerRow[] {
    return this.#workers.list(p);
  }

  workerRemove(p: { id: string }): boolean {
    return this.#workers.remove(p);
  }

  workerPrune(p: { deadMs: number }): string[] {
    return this.#workers.prune(p);
  }

  testAgeWorker(p: { id: string; ms: number }): void {
    this.#workers.testAge(p);
  }

  jobPrune(p: { completedMs: number; cancelledMs: number; discardedMs: number; limit: number }): number {
    const s = this.#stmt(`DELETE FROM offload_jobs WHERE id IN (
      SELECT id FROM offload_jobs WHERE (state = 'completed' AND finished_at < @completed)
        OR (state = 'cancelled' AND finished_at < @cancelled) OR (state = 'discarded' AND finished_at < @discarded) LIMIT @limit)`);
    return this.#write(() => {
      const now = Date.now();
      return s.run({ completed: now - p.completedMs, cancelled: now - p.cancelledMs, discarded: now - p.discardedMs, limit: p.limit }).changes;
    });
  }

  jobCounts(): Array<{ queue: string; state: JobState; count: number }> {
    // Kept by triggers (migration 5): a few rows, whatever the table's size.
    return this.#stmt('SELECT queue, state, n AS count FROM offload_job_counts WHERE n <> 0').all() as Array<{ queue: string; state: JobState; count: number }>;
  }

  testSetLeaseExpiry(p: { id: string; inMs: number }): void {
    const s = this.#stmt("UPDATE offload_jobs SET lease_expires_at = ? WHERE id = ? AND state = 'running'");
    this.#write(() => s.run(Date.now() + p.inMs, Number(p.id)));
  }

  testAgeJob(p: { id: string; ms: number }): void {
    const s = this.#stmt(`UPDATE offload_jobs SET created_at = created_at - @ms, run_at = run_at - @ms,
      finished_at = finished_at - @ms, attempted_at = attempted_at - @ms, expires_at = expires_at - @ms WHERE id = @id`);
    this.#write(() => s.run({ ms: p.ms, id: Number(p.id) }));
  }

  /**
   * Tests only: caps the file at its current size plus `extraPages` pages (null lifts the cap), so
   * that a write past it fails with SQLITE_FULL as on a full disk.
   */
  testCapPages(p: { extraPages: number | null }): void {
    if (p.extraPages === null) {
      this.#db.pragma(`max_page_count = ${this.#pageCap ?? 4294967294}`);
      return;
    }
    this.#pageCap ??= Number(this.#db.pragma('max_page_count', { simple: true }));
    const pages = Number(this.#db.pragma('page_count', { simple: true }));
    this.#db.pragma(`max_page_count = ${pages + Math.max(0, Math.trunc(p.extraPages))}`);
  }

  #pageCap: number | null = null;

  /**
   * Tests only: the store thread dies of an uncaught error, as it would of a bug, with this request
   * unanswered: its answer (a function) cannot be posted, and posting it throws outside any handler.
   */
  testCrash(): unknown {
    return () => undefined;
  }
}

/** Carries the outcomes out of a transaction that must roll back because of a conflict. */
class ConflictRollback extends Error {
  constructor(readonly outcomes: InsertOutcome[]) {
    super('idempotency conflict: rolled back');
  }
}

export function storeError(err: unknown): OffloadError {
  return new OffloadError('OFFLOAD_STORE', `sqlite store: ${(err as Error).message}`, { cause: err });
}
