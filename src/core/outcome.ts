/**
 * The outcome contract: how a handler's return or throw becomes the job's next state.
 *
 * | handler does                 | next state                            | attempt charged |
 * |------------------------------|---------------------------------------|-----------------|
 * | returns a value              | completed (value stored as result)    | yes             |
 * | throw snooze(ms)             | scheduled, run_at = now + ms          | no              |
 * | throw cancel(reason)         | cancelled                             | yes             |
 * | throws anything else         | retryable (backoff), or discarded     | yes             |
 * |                              | once attempts run out                 |                 |
 * | times out (timeoutMs)        | as a throw: retryable or discarded    | yes             |
 * | cancelled by a user          | cancelled                             | yes             |
 * | worker stops past graceMs    | available (released)                  | no              |
 * | lease lost                   | nothing written: the lease holder     | -               |
 * |                              | (or the rescuer) decides              |                 |
 */
import { serializeError } from '../errors.ts';
import type { JobState, RetryPolicy } from '../types.ts';
import { backoffDelayMs } from './backoff.ts';
import { assertTransition, type TransitionReason } from './state-machine.ts';

const OUTCOME = Symbol.for('offload.outcome');

/** Thrown by `snooze()`; recognised by its marker so it also works across threads. */
export interface SnoozeSignal {
  [OUTCOME]: 'snooze';
  delayMs: number;
}
export interface CancelSignal {
  [OUTCOME]: 'cancel';
  reason: string;
}

/**
 * Throw from a handler to run the job again after `delayMs` without using an attempt.
 * @example
 * if (!(await upstreamReady())) throw snooze(30_000)
 */
export function snooze(delayMs: number): SnoozeSignal & Error {
  if (!Number.isFinite(delayMs) || delayMs < 0) throw new RangeError(`snooze(delayMs) needs a finite delay >= 0, got ${delayMs}`);
  // Whole milliseconds, rounded up (never earlier than asked): drivers store delays as integers, and
  // PostgreSQL refuses a fractional bigint, which would fail the whole completion batch.
  const ms = Math.ceil(delayMs);
  return Object.assign(new Error(`snoozed for ${ms} ms`), { [OUTCOME]: 'snooze' as const, delayMs: ms });
}

/**
 * Throw from a handler to end the job as `cancelled` (no further attempts).
 * @example
 * if (order.deleted) throw cancel('order was deleted')
 */
export function cancel(reason: string): CancelSignal & Error {
  return Object.assign(new Error(reason), { [OUTCOME]: 'cancel' as const, reason });
}

function marker(err: unknown): unknown {
  return typeof err === 'object' && err !== null ? (err as Record<symbol, unknown>)[OUTCOME] : undefined;
}
export function isSnooze(err: unknown): err is SnoozeSignal {
  return marker(err) === 'snooze';
}
export function isCancel(err: unknown): err is CancelSignal {
  return marker(err) === 'cancel';
}

/** What happened to one attempt, as the executor saw it. */
export type AttemptOutcome =
  | { kind: 'returned'; result: unknown; encoded: string }
  | { kind: 'threw'; error: unknown; retryable: boolean }
  /** reason null: keep the reason recorded with the cancel request. */
  | { kind: 'cancelled'; reason: string | null }
  | { kind: 'released' };

/** The write a driver performs to end an attempt, fenced by the lease token. */
export interface Transition {
  /** Never `running`: an attempt always ends by leaving it (the state machine checks the edge). */
  state: Exclude<JobState, 'running'>;
  reason: TransitionReason;
  /** For states that wait: run again this many ms after the database's now. */
  delayMs: number | null;
  /** 1 when this attempt must not count (snooze, release). */
  refund: 0 | 1;
  result: unknown;
  error: ReturnType<typeof serializeError> | null;
  cancelReason: string | null;
}

export interface AttemptFacts {
  attempt: number;
  maxAttempts: number;
  policy: RetryPolicy;
  random: () => number;
}

/** Maps an outcome to the next state, checking the edge against the state machine. */
export function resolveOutcome(outcome: AttemptOutcome, facts: AttemptFacts): Transition {
  const base = { delayMs: null, refund: 0 as const, result: null, error: null, cancelReason: null };
  let t: Transition;
  switch (outcome.kind) {
    case 'returned':
      t = { ...base, state: 'completed', reason: 'complete', result: outcome.result };
      break;
    case 'cancelled':
      t = { ...base, state: 'cancelled', reason: 'cancel', cancelReason: outcome.reason };
      break;
    case 'released':
      t = { ...base, state: 'available', reason: 'release', delayMs: 0, refund: 1 };
      break;
    case 'threw': {
      const err = outcome.error;
      if (isSnooze(err)) {
        t = { ...base, state: 'scheduled', reason: 'snooze', delayMs: err.delayMs, refund: 1 };
      } else if (isCancel(err)) {
        t = { ...base, state: 'cancelled', reason: 'cancel', cancelReason: err.reason };
      } else if (outcome.retryable && facts.attempt < facts.maxAttempts) {
        const delayMs = backoffDelayMs(facts.policy, facts.attempt, facts.random);
        t = { ...base, state: 'retryable', reason: 'fail-retry', delayMs, error: serializeError(err) };
      } else {
        t = { ...base, state: 'discarded', reason: 'fail-discard', error: serializeError(err) };
      }
      break;
    }
  }
  assertTransition('running', t.state, t.reason);
  return t;
}
