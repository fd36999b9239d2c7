/** Row mapping of the PostgreSQL store. */
import type { AttemptError, Job, JobState } from '../../types.ts';

export interface PgRow {
  id: string;
  task: string;
  queue: string;
  state: JobState;
  payload: unknown;
  priority: number;
  attempt: number;
  max_attempts: number;
  timeout_ms: number | null;
  run_at: Date;
  created_at: Date;
  attempted_at: Date | null;
  finished_at: Date | null;
  lease_token: string | null;
  lease_expires_at: Date | null;
  worker_id: string | null;
  idempotency_key: string | null;
  fingerprint: string | null;
  progress: unknown;
  result: unknown;
  errors: Array<Omit<AttemptError, 'at'> & { at: string }>;
  cancel_requested_at: Date | null;
  cancel_reason: string | null;
  expires_at: Date | null;
  trace_context: Record<string, string> | null;
}

export function toJob(r: PgRow): Job {
  return {
    id: r.id,
    task: r.task,
    queue: r.queue,
    state: r.state,
    payload: r.payload,
    priority: r.priority,
    attempt: r.attempt,
    maxAttempts: r.max_attempts,
    timeoutMs: r.timeout_ms,
    idempotencyKey: r.idempotency_key,
    runAt: r.run_at,
    createdAt: r.created_at,
    attemptedAt: r.attempted_at,
    finishedAt: r.finished_at,
    leaseExpiresAt: r.lease_expires_at,
    workerId: r.worker_id,
    progress: r.progress ?? null,
    result: r.result ?? null,
    errors: r.errors.map((e) => ({ ...e, at: new Date(e.at) })),
    cancelRequestedAt: r.cancel_requested_at,
    cancelReason: r.cancel_reason,
    expiresAt: r.expires_at,
    traceContext: r.trace_context,
  };
}
