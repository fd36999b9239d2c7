/**
 * Typed events of a client. Emitting is cheap when nobody listens: payloads are built only after
 * checking for listeners (`wants`), which matters on the per-job hot path.
 */
import { EventEmitter } from 'node:events';
import type { AttemptError, Job } from '../types.ts';

export interface OffloadEvents {
  /** A job was stored by this client (replays of an idempotency key are not). */
  'job:enqueued': { job: Job };
  /** An enqueue was refused before anything was stored: the queue's backlog is full. */
  'job:rejected': { task: string; queue: string; reason: 'backlog' };
  /** A waiting job passed its start deadline and was cancelled with reason `expired`. */
  'job:expired': { job: Job };
  'job:started': { job: Job };
  /** A running job stored progress (from this process's workers). */
  'job:progress': { job: Job; progress: unknown };
  'job:completed': { job: Job; result: unknown; durationMs: number };
  'job:failed': { job: Job; error: AttemptError; nextState: 'retryable' | 'discarded'; delayMs: number | null };
  'job:snoozed': { job: Job; delayMs: number };
  'job:cancelled': { job: Job; reason: string };
  'job:released': { job: Job };
  /** The job's lease was lost (expired or taken over); its outcome was not recorded. */
  'job:lease-lost': { job: Job };
  'jobs:rescued': { retried: string[]; discarded: string[]; cancelled: string[] };
  'jobs:pruned': { count: number };
  /** Registry rows of worker processes silent past the retention were deleted (their ids). */
  'workers:pruned': { ids: string[] };
  /**
   * The event loop was held for `durationMs` at once while these main-thread tasks ran (or had
   * just run): a handler is doing CPU work or synchronous I/O on the loop.
   */
  'loop:blocked': { durationMs: number; tasks: string[] };
  /** Event-loop delay p99 went over the threshold: this process stops claiming until it recovers. */
  'loop:overloaded': { delayP99Ms: number; thresholdMs: number };
  /** Event-loop delay p99 fell back under the resume threshold: claiming resumes. */
  'loop:recovered': { delayP99Ms: number; thresholdMs: number };
  'queue:paused': { queue: string };
  'queue:resumed': { queue: string };
  /** A background component failed; it keeps running and retries. */
  error: { error: Error; component: string };
}

export type OffloadEventName = keyof OffloadEvents;

export class TypedEvents {
  readonly #emitter = new EventEmitter();

  constructor() {
    // Many waitFor() calls may listen at once; they are removed as they settle.
    this.#emitter.setMaxListeners(0);
  }

  on<E extends OffloadEventName>(event: E, listener: (payload: OffloadEvents[E]) => void): () => void {
    this.#emitter.on(event, listener);
    return () => this.#emitter.off(event, listener);
  }

  wants(event: OffloadEventName): boolean {
    return this.#emitter.listenerCount(event) > 0;
  }

  emit<E extends OffloadEventName>(event: E, payload: OffloadEvents[E]): void {
    if (this.#emitter.listenerCount(event) === 0) return;
    // A throwing listener must not break the runtime that emitted.
    try {
      this.#emitter.emit(event, payload);
    } catch (err) {
      if (event !== 'error') this.emit('error', { error: err as Error, component: `listener of ${event}` });
    }
  }
}
