/**
 * Row mapping of the PostgreSQL store. Job rows are read as arrays of JOB_COLUMNS (postgres.js
 * `.values()`), not as objects: an object with 25 keys set by name per row becomes a dictionary,
 * several KB of garbage per job and slow to read, on the hottest path of a worker (the claim).
 */
import type { AttemptError, Job, JobState } from '../../types.ts';

/** The columns every job-returning statement selects, in this order (see `jobOf`). */
export const JOB_COLUMNS = [
  'id', 'task', 'queue', 'state', 'payload', 'priority', 'attempt', 'max_attempts', 'timeout_ms', 'run_at', 'created_at', 'attempted_at',
  'finished_at', 'lease_token', 'lease_expires_at', 'worker_id', 'idempotency_key', 'fingerprint', 'progress', 'result', 'errors',
  'cancel_requested_at', 'cancel_reason', 'expires_at', 'trace_context',
] as const;

/** JOB_COLUMNS as a select list, for `SELECT ${JOB_SELECT}` and `RETURNING ${JOB_SELECT}`. */
export const JOB_SELECT = JOB_COLUMNS.join(', ');

/** Where each column is in a row of JOB_COLUMNS. */
export const COL = Object.fromEntries(JOB_COLUMNS.map((c, i) => [c, i])) as { readonly [K in (typeof JOB_COLUMNS)[number]]: number };

/** A job row as postgres.js returns it with `.values()`: JOB_COLUMNS, then any extra selected columns. */
export type JobValues = readonly unknown[];

type StoredError = Omit<AttemptError, 'at'> & { at: string };

export function jobOf(v: JobValues): Job {
  const errors = v[COL.errors] as StoredError[];
  return {
    id: v[COL.id] as string,
    task: v[COL.task] as string,
    queue: v[COL.queue] as string,
    state: v[COL.state] as JobState,
    payload: v[COL.payload],
    priority: v[COL.priority] as number,
    attempt: v[COL.attempt] as number,
    maxAttempts: v[COL.max_attempts] as number,
    timeoutMs: v[COL.timeout_ms] as number | null,
    idempotencyKey: v[COL.idempotency_key] as string | null,
    runAt: v[COL.run_at] as Date,
    createdAt: v[COL.created_at] as Date,
    attemptedAt: v[COL.attempted_at] as Date | null,
    finishedAt: v[COL.finished_at] as Date | null,
    leaseExpiresAt: v[COL.lease_expires_at] as Date | null,
    workerId: v[COL.worker_id] as string | null,
    progress: v[COL.progress] ?? null,
    result: v[COL.result] ?? null,
    errors: errors.length === 0 ? [] : errors.map((e) => ({ ...e, at: new Date(e.at) })),
    cancelRequestedAt: v[COL.cancel_requested_at] as Date | null,
    cancelReason: v[COL.cancel_reason] as string | null,
    expiresAt: v[COL.expires_at] as Date | null,
    traceContext: v[COL.trace_context] as Record<string, string> | null,
  };
}

/**
 * Orders two bigint ids given as decimal text (no sign, no leading zeros) without parsing them:
 * the shorter is smaller, then text order is number order. A BigInt per side was two allocations
 * per comparison, and a claim of jobs enqueued together (the same run_at) compares by id throughout.
 */
export function compareIds(a: string, b: string): number {
  return a.length - b.length || (a < b ? -1 : a > b ? 1 : 0);
}
