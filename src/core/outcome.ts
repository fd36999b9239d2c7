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
import { storableError, storableText } from './storable-text.ts';
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
  let t: Transition;
  switch (outcome.kind) {
    case 'returned':
      t = transition('completed', 'complete', null, 0, outcome.result, null, null);
      break;
    case 'cancelled':
      t = transition('cancelled', 'cancel', null, 0, null, null, outcome.reason === null ? null : storableText(outcome.reason));
      break;
    case 'released':
      t = transition('available', 'release', 0, 1, null, null, null);
      break;
    case 'threw': {
      const err = outcome.error;
      if (isSnooze(err)) t = transition('scheduled', 'snooze', err.delayMs, 1, null, null, null);
      else if (isCancel(err)) t = transition('cancelled', 'cancel', null, 0, null, null, storableText(err.reason));
      else if (outcome.retryable && facts.attempt < facts.maxAttempts) {
        t = transition('retryable', 'fail-retry', backoffDelayMs(facts.policy, facts.attempt, facts.random), 0, null, storableError(serializeError(err)), null);
      } else t = transition('discarded', 'fail-discard', null, 0, null, storableError(serializeError(err)), null);
      break;
    }
  }
  assertTransition('running', t.state, t.reason);
  return t;
}

// One constructor, so that every transition has the same shape (and the same hidden class).
function transition(
  state: Transition['state'],
  reason: TransitionReason,
  delayMs: number | null,
  refund: 0 | 1,
  result: unknown,
  error: Transition['error'],
  cancelReason: string | null,
): Transition {
  return { state, reason, delayMs, refund, result, error, cancelReason };
}
