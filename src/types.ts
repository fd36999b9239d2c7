/**
 * Leaf module: the shapes every layer shares. No imports beyond other leaves.
 */
import type { StandardSchemaV1 } from '@standard-schema/spec';

/** Every state a job can be in. See docs/state-machine.md for the transitions. */
export type JobState =
  | 'scheduled'
  | 'available'
  | 'running'
  | 'retryable'
  | 'completed'
  | 'cancelled'
  | 'discarded';

export const JOB_STATES: readonly JobState[] = [
  'scheduled',
  'available',
  'running',
  'retryable',
  'completed',
  'cancelled',
  'discarded',
];

/** One failed attempt, kept on the job for as long as the job is retained. */
export interface AttemptError {
  attempt: number;
  at: Date;
  name: string;
  message: string;
  code?: string;
  stack?: string;
  /** The error's own `details` (an OffloadError's, or any thrown error's), as stored: JSON, or a note saying why it could not be. */
  details?: unknown;
}

/** A job as read from the store. Ids are decimal strings (64-bit identity in the database). */
export interface Job<Payload = unknown, Result = unknown> {
  id: string;
  task: string;
  queue: string;
  state: JobState;
  payload: Payload;
  priority: number;
  /** Attempts started so far (the running one included). */
  attempt: number;
  maxAttempts: number;
  timeoutMs: number | null;
  idempotencyKey: string | null;
  runAt: Date;
  createdAt: Date;
  attemptedAt: Date | null;
  finishedAt: Date | null;
  leaseExpiresAt: Date | null;
  workerId: string | null;
  progress: unknown;
  result: Result | null;
  errors: AttemptError[];
  cancelRequestedAt: Date | null;
  /** Why it was cancelled: the request's reason, or `expired` when its deadline passed before it started. */
  cancelReason: string | null;
  /** Deadline to start: a job not started by then is never run (it ends `cancelled`, reason `expired`). */
  expiresAt: Date | null;
  /** W3C trace context of the span that enqueued the job (`traceparent`, `tracestate`), when tracing is on. */
  traceContext: Record<string, string> | null;
}

export type BackoffKind = 'exponential' | 'linear' | 'fixed';

export interface RetryPolicy {
  /** Total attempts, the first included. 1 means never retry. */
  attempts: number;
  backoff: BackoffKind;
  baseMs: number;
  maxMs: number;
}

export interface Logger {
  debug(obj: object | string, msg?: string): void;
  info(obj: object | string, msg?: string): void;
  warn(obj: object | string, msg?: string): void;
  error(obj: object | string, msg?: string): void;
  child(bindings: Record<string, unknown>): Logger;
}

/** What a handler receives besides its payload. */
export interface JobContext {
  jobId: string;
  task: string;
  queue: string;
  /** 1 on the first attempt. */
  attempt: number;
  maxAttempts: number;
  /**
   * Aborted when the job is cancelled, times out, loses its lease or the worker shuts down past
   * its grace period. `signal.reason` is an OffloadError saying which.
   */
  signal: AbortSignal;
  /** Stores progress (any JSON value) on the job. Refused once the lease is lost. */
  progress(value: unknown): Promise<void>;
  log: Logger;
}

export type StandardSchema<Input = unknown, Output = Input> = StandardSchemaV1<Input, Output>;

/** Where a task's handler runs: on the main event loop, or on a worker thread of the pool. */
export type TaskKind = 'main' | 'thread';

export interface TaskDefinition<Input = unknown, Payload = Input, Result = unknown> {
  readonly name: string;
  readonly kind: TaskKind;
  /** For `thread` tasks: the file: URL of the module exporting this task (loaded in the thread). */
  readonly module: string | null;
  readonly schema: StandardSchema<Input, Payload> | undefined;
  readonly retry: RetryPolicy;
  readonly timeoutMs: number | null;
  readonly queue: string;
  readonly priority: number;
  readonly handler: (payload: Payload, ctx: JobContext) => Promise<Result> | Result;
}

export interface EnqueueOptions {
  /** Unique per task while the job is retained: a replay returns the existing job. */
  idempotencyKey?: string;
  /** When the job may run first. Exclusive with `delayMs`. */
  runAt?: Date;
  /** Delay before the job may run first. Exclusive with `runAt`. */
  delayMs?: number;
  /** Lower runs first; default from the task, else 0. Range -32768..32767. */
  priority?: number;
  /** Queue name; default from the task, else 'default'. */
  queue?: string;
  /**
   * Deadline to start, relative to now (database clock): a job that has not started within
   * `ttlMs` is never run and ends `cancelled` with reason `expired`. Exclusive with `expiresAt`.
   */
  ttlMs?: number;
  /** Absolute deadline to start (see `ttlMs`). Exclusive with `ttlMs`. */
  expiresAt?: Date;
  /**
   * PostgreSQL only: a transaction of the caller's (a postgres.js `sql` inside `sql.begin`).
   * The job exists only if that transaction commits.
   */
  tx?: unknown;
}

export interface EnqueueResult<Payload = unknown> {
  job: Job<Payload>;
  /** false when an earlier job with the same idempotency key was returned instead. */
  created: boolean;
}

export interface JobListFilter {
  state?: JobState | JobState[];
  task?: string;
  queue?: string;
  /** Jobs enqueued with this idempotency key, of any task. */
  idempotencyKey?: string;
  /** Opaque, from a previous page's `nextCursor`. */
  cursor?: string;
  /** Page size, 1..1000, default 100. */
  limit?: number;
}

export interface JobPage {
  jobs: Job[];
  /** Pass back as `cursor` for the next page; null on the last page. */
  nextCursor: string | null;
}

/** Event-loop health of this process, over the last measuring window (about a second). */
export interface LoopStats {
  /** Delay of the loop's timers behind schedule, in milliseconds. */
  delayP50Ms: number;
  delayP99Ms: number;
  delayMaxMs: number;
  /** Share of the window the loop was busy (0..1). */
  utilization: number;
  /** Over the threshold: this process does not claim jobs (and an HTTP front sheds requests). */
  overloaded: boolean;
}

/** A queue as operators see it. */
export interface QueueStats {
  name: string;
  paused: boolean;
  /** Jobs by state (every state present, 0 when none). */
  counts: Record<JobState, number>;
  /** Jobs waiting to run: scheduled, available and retryable. What `maxBacklog` bounds. */
  waiting: number;
  /** Jobs that reached a final state per second, over the last 10 s (all processes). */
  drainPerSec: number;
  /** waiting / drainPerSec; null when nothing drains while jobs wait. */
  estimatedWaitMs: number | null;
  /** The configured bound of `waiting`, or null. */
  maxBacklog: number | null;
}
