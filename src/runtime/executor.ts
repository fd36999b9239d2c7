/**
 * Runs one claimed job to its outcome, as a pipeline of small steps:
 * context (signal, progress, log) -> handler raced against the abort signal -> outcome ->
 * transition (core) -> fenced write (completer) -> events.
 *
 * The handler is raced against its signal rather than awaited: a handler that ignores an abort
 * (timeout, cancel, shutdown) cannot hold the job or its worker slot. Its late result is dropped.
 */
import { encodeJson } from '../core/json-value.ts';
import { resolveOutcome, type AttemptOutcome } from '../core/outcome.ts';
import { isOffloadError, OffloadError } from '../errors.ts';
import type { ClaimedJob, JobCompletion } from '../storage/driver.ts';
import type { TypedEvents } from '../observability/events.ts';
import type { AttemptError, JobContext, Logger, RetryPolicy, TaskDefinition } from '../types.ts';
import type { Clock } from './clock.ts';
import type { GroupCommit } from './group-commit.ts';
import { cancelReasonOf, type LeaseKeeper } from './lease-keeper.ts';
import type { ThreadPool } from './threads/pool.ts';
import { jobBindings } from '../observability/log-bindings.ts';
import { LazyChild } from '../observability/logger.ts';
import { AttemptAbort, type AttemptSet } from './attempt-abort.ts';
import type { Instrumentation, TraceIds } from '../observability/tracing.ts';

export interface ExecutorDeps {
  tasks: ReadonlyMap<string, TaskDefinition<any, any, any>>;
  completer: GroupCommit<JobCompletion, boolean>;
  keeper: LeaseKeeper;
  events: TypedEvents;
  logger: Logger;
  clock: Clock;
  progress: (id: string, token: string, value: unknown) => Promise<boolean>;
  maxResultBytes: number;
  /** Runs `kind: 'thread'` tasks; null when this worker has none. */
  threads: ThreadPool | null;
  /** Runs each attempt in its span (OpenTelemetry); null when tracing is off or unavailable. */
  instrumentation: Instrumentation | null;
  /** The job is due again in `ms` (a retry or snooze): claim then rather than at the next poll. */
  wakeAfter: (ms: number) => void;
}

/**
 * Runs the job; resolves when its outcome is written (or refused). Never rejects. Calls `release`
 * once the handler is done and its outcome is queued for writing: the worker slot is free then.
 * `decided`: the job never started and this is its outcome (handed back or cancelled while it
 * waited for a slot): no handler runs, only the outcome is written.
 */
export async function executeJob(
  claimed: ClaimedJob,
  d: ExecutorDeps,
  shutdown: AttemptSet,
  release: () => void,
  decided: AttemptOutcome | null = null,
): Promise<void> {
  const started = d.clock.now();
  if (decided !== null) return writeOutcome(claimed, decided, () => new LazyChild(d.logger, () => ({ ...jobBindings(claimed.job) })), d, started, release);
  const { job, token } = claimed;
  const abort = new AttemptAbort();
  d.keeper.add(job.id, token, abort.abort);
  shutdown.add(abort);
  const task = d.tasks.get(job.task);
  const onThread = task?.kind === 'thread' && d.threads !== null;
  // A thread task's timeout is the pool's: it starts when the job gets a thread and ends in a hard
  // termination of that thread; time spent waiting for a free thread does not count.
  const timer =
    job.timeoutMs === null || onThread
      ? null
      : setTimeout(() => abort.abort(new OffloadError('OFFLOAD_TIMEOUT', `job ${job.id} timed out after ${job.timeoutMs} ms`)), job.timeoutMs);
  // The job's logger is made on first use (most attempts of a busy worker never log), and binds
  // the attempt span's ids when the attempt has a span.
  let trace: TraceIds | null = null;
  let log: Logger | null = null;
  const logger = (): Logger => (log ??= new LazyChild(d.logger, () => ({ ...jobBindings(job, trace) })));
  if (d.events.wants('job:started')) d.events.emit('job:started', { job });

  /** One attempt; its lines carry the attempt span's ids when tracing is on. */
  const attempt = (ids: TraceIds | null): AttemptOutcome | null | Promise<AttemptOutcome | null> => {
    if (task === undefined) throw new OffloadError('OFFLOAD_UNKNOWN_TASK', `no task named '${job.task}' in this worker`);
    trace = ids;
    const ctx: JobContext = {
      jobId: job.id,
      task: job.task,
      queue: job.queue,
      attempt: job.attempt,
      maxAttempts: job.maxAttempts,
      get signal() {
        return abort.signal;
      },
      get log() {
        return logger();
      },
      progress: async (value) => {
        if (abort.reason !== null) throw abort.reason;
        const ok = await d.progress(job.id, token, value);
        if (!ok) throw new OffloadError('OFFLOAD_LEASE_LOST', `job ${job.id}: progress refused, the lease was lost`);
        d.events.emit('job:progress', { job, progress: value });
      },
    };
    const handler: () => unknown = onThread
      ? () =>
          d.threads!.run({
            module: task.module!,
            task: task.name,
            payload: job.payload,
            job: { jobId: job.id, queue: job.queue, attempt: job.attempt, maxAttempts: job.maxAttempts },
            timeoutMs: job.timeoutMs,
            signal: abort.signal,
            progress: (value) => ctx.progress(value),
            log: logger(),
          })
      : (): unknown => task.handler(job.payload, ctx) as unknown;
    return runHandler(handler, abort, d.maxResultBytes);
  };

  let outcome: AttemptOutcome | null;
  try {
    // No span to record (no tracing, or no SDK registered): the attempt runs bare, without the
    // span wrapper's promises, which a busy worker would pay on every job.
    const bare = d.instrumentation === null ? null : d.instrumentation.unrecorded(job);
    if (bare !== undefined) outcome = await attempt(bare);
    else {
      // Failures are rethrown inside the span so that it records them, then classified as usual.
      outcome = await d.instrumentation!.runAttempt(job, async (ids) => {
        const o = await attempt(ids);
        if (o?.kind === 'threw') throw o.error;
        return o;
      });
    }
  } catch (err) {
    outcome = { kind: 'threw', error: err, retryable: isRetryable(err) };
  } finally {
    if (timer !== null) clearTimeout(timer);
    shutdown.delete(abort);
  }
  try {
    await writeOutcome(claimed, outcome, logger, d, started, release);
  } finally {
    d.keeper.remove(token);
  }
}

/** The policy of a job whose task this worker does not have: its one attempt is its last. */
const NO_RETRY: RetryPolicy = { attempts: 1, backoff: 'fixed', baseMs: 0, maxMs: 0 };

/** Turns the outcome into its transition, hands it to the completer, then reports it. Never rejects. */
async function writeOutcome(
  { job, token }: ClaimedJob,
  outcome: AttemptOutcome | null,
  log: () => Logger,
  d: ExecutorDeps,
  started: number,
  release: () => void,
): Promise<void> {
  try {
    if (outcome === null) {
      d.events.emit('job:lease-lost', { job });
      return;
    }
    const policy = d.tasks.get(job.task)?.retry ?? NO_RETRY;
    const t = resolveOutcome(outcome, { attempt: job.attempt, maxAttempts: job.maxAttempts, policy, random: () => d.clock.random() });
    const error = t.error === null ? null : { ...t.error, attempt: job.attempt };
    const write = d.completer.submit({
      id: job.id,
      token,
      state: t.state,
      delayMs: t.delayMs,
      refund: t.refund,
      result: outcome.kind === 'returned' ? outcome.encoded : null,
      error,
      cancelReason: t.cancelReason,
    });
    release();
    const applied = await write;
    if (!applied) {
      log().warn({ state: t.state }, 'outcome refused: the lease was lost before it was written');
      d.events.emit('job:lease-lost', { job });
      return;
    }
    if ((t.state === 'retryable' || t.state === 'scheduled') && t.delayMs !== null) d.wakeAfter(t.delayMs);
    const durationMs = d.clock.now() - started;
    switch (t.state) {
      case 'completed':
        if (d.events.wants('job:completed')) d.events.emit('job:completed', { job, result: t.result, durationMs });
        break;
      case 'retryable':
      case 'discarded': {
        const e: AttemptError = { attempt: job.attempt, at: new Date(d.clock.now()), name: error!.name, message: error!.message };
        if (error!.code !== undefined) e.code = error!.code;
        if (error!.stack !== undefined) e.stack = error!.stack;
        log().warn({ err: e, nextState: t.state, delayMs: t.delayMs }, `attempt ${job.attempt} of ${job.maxAttempts} failed`);
        d.events.emit('job:failed', { job, error: e, nextState: t.state, delayMs: t.delayMs });
        break;
      }
      case 'scheduled':
        d.events.emit('job:snoozed', { job, delayMs: t.delayMs ?? 0 });
        break;
      case 'cancelled':
        d.events.emit('job:cancelled', { job, reason: t.cancelReason ?? '' });
        break;
      case 'available':
        d.events.emit('job:released', { job });
        break;
    }
  } catch (err) {
    // The store is unreachable: the lease will expire and the rescuer returns the job.
    log().error({ err }, 'could not record the outcome; the rescuer will return the job after its lease expires');
    d.events.emit('error', { error: err as Error, component: 'executor' });
  }
}

/**
 * Races the handler against the attempt's abort. Returns null when the lease was lost (nothing
 * may be written), else the attempt's outcome: at once when the handler returned a plain value or
 * threw synchronously, else once its promise settles or the abort comes first.
 */
function runHandler(run: () => unknown, abort: AttemptAbort, maxResultBytes: number): AttemptOutcome | null | Promise<AttemptOutcome | null> {
  if (abort.reason !== null) return fromAbort(abort.reason);
  let value: unknown;
  try {
    value = run();
  } catch (error) {
    return settle({ error }, abort, maxResultBytes);
  }
  if (!isThenable(value)) return settle({ value }, abort, maxResultBytes);
  const pending = value;
  return new Promise<Settled>((resolve) => {
    abort.onAbort(() => resolve(ABORTED));
    // A handler that settles after losing the race is caught here and dropped: it must not
    // surface as an unhandled rejection.
    Promise.resolve(pending).then(
      (v: unknown) => resolve({ value: v }),
      (error: unknown) => resolve({ error }),
    );
  }).then((settled) => {
    abort.onAbort(null);
    return settle(settled, abort, maxResultBytes);
  });
}

function isThenable(v: unknown): v is PromiseLike<unknown> {
  return (typeof v === 'object' || typeof v === 'function') && v !== null && typeof (v as { then?: unknown }).then === 'function';
}

function settle(settled: Settled, abort: AttemptAbort, maxResultBytes: number): AttemptOutcome | null {
  // Once aborted, the abort decides, even if the handler settled at the same time.
  const reason = abort.reason;
  if (reason !== null) return fromAbort(reason);
  if ('error' in settled) return { kind: 'threw', error: settled.error, retryable: isRetryable(settled.error) };
  const value = (settled as { value: unknown }).value;
  try {
    const encoded = encodeJson(value, 'the handler result', maxResultBytes, 'OFFLOAD_RESULT_TOO_LARGE');
    return { kind: 'returned', result: value, encoded };
  } catch (err) {
    return { kind: 'threw', error: err, retryable: false };
  }
}

type Settled = { value: unknown } | { error: unknown } | typeof ABORTED;
const ABORTED = { aborted: true } as const;

function fromAbort(reason: unknown): AttemptOutcome | null {
  if (isOffloadError(reason, 'OFFLOAD_LEASE_LOST')) return null;
  if (isOffloadError(reason, 'OFFLOAD_CANCELLED')) return { kind: 'cancelled', reason: cancelReasonOf(reason) };
  if (isOffloadError(reason, 'OFFLOAD_SHUTDOWN')) return { kind: 'released' };
  return { kind: 'threw', error: reason, retryable: true };
}

/** Errors that retrying cannot fix end the job at once (a thread's crash or OOM is retried). */
function isRetryable(err: unknown): boolean {
  return !(
    isOffloadError(err, 'OFFLOAD_RESULT_TOO_LARGE') ||
    isOffloadError(err, 'OFFLOAD_UNKNOWN_TASK') ||
    isOffloadError(err, 'OFFLOAD_INVALID_PAYLOAD')
  );
}
