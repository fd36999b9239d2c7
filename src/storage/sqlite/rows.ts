/**
 * A job row of the SQLite store as the database returns it, and its mapping to the public `Job`.
 * Shared by the store thread (most methods map there) and the driver on the caller's thread,
 * which maps claimed rows itself: see `jobClaim` in engine.ts.
 */
import type { AttemptError, Job, JobState } from '../../types.ts';

export interface Row {
  id: number;
  task: string;
  queue: string;
  state: JobState;
  payload: string;
  priority: number;
  attempt: number;
  max_attempts: number;
  timeout_ms: number | null;
  run_at: number;
  created_at: number;
  attempted_at: number | null;
  finished_at: number | null;
  lease_token: string | null;
  lease_expires_at: number | null;
  worker_id: string | null;
  idempotency_key: string | null;
  fingerprint: string | null;
  progress: string | null;
  result: string | null;
  errors: string;
  cancel_requested_at: number | null;
  cancel_reason: string | null;
  expires_at: number | null;
  trace_context: string | null;
}

/** The columns of `Row`, in a fixed order: claims return rows as arrays of these (see rowOf). */
export const ROW_COLUMNS = [
  'id', 'task', 'queue', 'state', 'payload', 'priority', 'attempt', 'max_attempts', 'timeout_ms', 'run_at', 'created_at', 'attempted_at',
  'finished_at', 'lease_token', 'lease_expires_at', 'worker_id', 'idempotency_key', 'fingerprint', 'progress', 'result', 'errors',
  'cancel_requested_at', 'cancel_reason', 'expires_at', 'trace_context',
] as const satisfies ReadonlyArray<keyof Row>;

/**
 * A row as an array of ROW_COLUMNS (a claim's JSON text parsed, or better-sqlite3's raw mode),
 * as a Row. Written out as one literal: an object whose 25 keys are set one by one by name
 * becomes a dictionary, several KB per claimed job and slow to read; the literal has one fixed
 * shape. rows.test.ts checks that each index is its column's.
 */
export function rowOf(v: readonly unknown[]): Row {
  return {
    id: v[0], task: v[1], queue: v[2], state: v[3], payload: v[4], priority: v[5], attempt: v[6], max_attempts: v[7], timeout_ms: v[8],
    run_at: v[9], created_at: v[10], attempted_at: v[11], finished_at: v[12], lease_token: v[13], lease_expires_at: v[14], worker_id: v[15],
    idempotency_key: v[16], fingerprint: v[17], progress: v[18], result: v[19], errors: v[20], cancel_requested_at: v[21],
    cancel_reason: v[22], expires_at: v[23], trace_context: v[24],
  } as Row;
}

export const date = (ms: number | null): Date | null => (ms === null ? null : new Date(ms));

export function toJob(r: Row): Job {
  const errors = (JSON.parse(r.errors) as Array<Omit<AttemptError, 'at'> & { at: number }>).map((e) => ({ ...e, at: new Date(e.at) }));
  return {
    id: String(r.id),
    task: r.task,
    queue: r.queue,
    state: r.state,
    payload: JSON.parse(r.payload) as unknown,
    priority: r.priority,
    attempt: r.attempt,
    maxAttempts: r.max_attempts,
    timeoutMs: r.timeout_ms,
    idempotencyKey: r.idempotency_key,
    runAt: new Date(r.run_at),
    createdAt: new Date(r.created_at),
    attemptedAt: date(r.attempted_at),
    finishedAt: date(r.finished_at),
    leaseExpiresAt: date(r.lease_expires_at),
    workerId: r.worker_id,
    progress: r.progress === null ? null : (JSON.parse(r.progress) as unknown),
    result: r.result === null ? null : (JSON.parse(r.result) as unknown),
    errors,
    cancelRequestedAt: date(r.cancel_requested_at),
    cancelReason: r.cancel_reason,
    expiresAt: date(r.expires_at),
    traceContext: r.trace_context === null ? null : (JSON.parse(r.trace_context) as Record<string, string>),
  };
}

