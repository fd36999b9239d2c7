import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { inspect } from 'node:util';
import { OffloadError } from '../errors.ts';
import type { RetryPolicy } from '../types.ts';
import { cancel, isCancel, isSnooze, resolveOutcome, snooze, type AttemptFacts, type AttemptOutcome, type Transition } from './outcome.ts';
import { canTransition } from './state-machine.ts';

const POLICY: RetryPolicy = { attempts: 3, backoff: 'exponential', baseMs: 1000, maxMs: 300_000 };

/** Facts for attempt `attempt` of `maxAttempts`; the random source fails the test if it is drawn unless `r` is given. */
function facts(attempt: number, maxAttempts: number, r?: number): AttemptFacts {
  return {
    attempt,
    maxAttempts,
    policy: POLICY,
    random: () => {
      if (r === undefined) assert.fail('this outcome must not draw a backoff delay');
      return r;
    },
  };
}

const threw = (error: unknown, retryable = true): AttemptOutcome => ({ kind: 'threw', error, retryable });

/** Every transition the executor writes must be an edge out of `running` in the state table. */
function assertLegal(t: Transition): void {
  assert.notEqual(t.state, 'running');
  assert.ok(canTransition('running', t.state, t.reason), `running -> ${t.state} (${t.reason}) is not in the table`);
}

describe('resolveOutcome', () => {
  it('a returned value completes the job, stores the result and charges the attempt', () => {
    const result = { sent: 3 };
    const t = resolveOutcome({ kind: 'returned', result, encoded: '{"sent":3}' }, facts(1, 3));
    assert.deepEqual(t, { state: 'completed', reason: 'complete', delayMs: null, refund: 0, result, error: null, cancelReason: null });
    assertLegal(t);
  });

  it('a returned value completes even on the last attempt', () => {
    assert.equal(resolveOutcome({ kind: 'returned', result: null, encoded: 'null' }, facts(3, 3)).state, 'completed');
  });

  it('a retryable throw with attempts left goes to retryable after a jittered backoff', () => {
    const t = resolveOutcome(threw(new Error('smtp down')), facts(1, 3, 0.5));
    assert.equal(t.state, 'retryable');
    assert.equal(t.reason, 'fail-retry');
    assert.equal(t.refund, 0);
    // Cap after attempt 1 is baseMs (1000); half of [0, 1000] is 500.
    assert.equal(t.delayMs, 500);
    assert.equal(t.error?.name, 'Error');
    assert.equal(t.error?.message, 'smtp down');
    assert.equal(t.result, null);
    assert.equal(t.cancelReason, null);
    assertLegal(t);
  });

  it('the backoff uses the attempt that just failed', () => {
    // Highest draw: the delay is the cap, 1000 * 2^(attempt-1).
    assert.equal(resolveOutcome(threw(new Error('x')), facts(1, 5, 1 - Number.EPSILON / 2)).delayMs, 1000);
    assert.equal(resolveOutcome(threw(new Error('x')), facts(4, 5, 1 - Number.EPSILON / 2)).delayMs, 8000);
    assert.equal(resolveOutcome(threw(new Error('x')), facts(4, 5, 0)).delayMs, 0);
  });

  it('the last attempt failing discards the job without drawing a delay', () => {
    const t = resolveOutcome(threw(new Error('still down')), facts(3, 3));
    assert.equal(t.state, 'discarded');
    assert.equal(t.reason, 'fail-discard');
    assert.equal(t.delayMs, null);
    assert.equal(t.refund, 0);
    assert.equal(t.error?.message, 'still down');
    assertLegal(t);
  });

  it('one attempt before the last still retries', () => {
    assert.equal(resolveOutcome(threw(new Error('x')), facts(2, 3, 0)).state, 'retryable');
  });

  it('an attempt past maxAttempts (e.g. maxAttempts lowered) discards', () => {
    assert.equal(resolveOutcome(threw(new Error('x')), facts(7, 3)).state, 'discarded');
  });

  it('maxAttempts 1 means the first failure discards', () => {
    assert.equal(resolveOutcome(threw(new Error('x')), facts(1, 1)).state, 'discarded');
  });

  it('a non-retryable throw discards at once, even with attempts left', () => {
    const err = new OffloadError('OFFLOAD_INVALID_PAYLOAD', 'bad payload', { details: { field: 'to' } });
    const t = resolveOutcome(threw(err, false), facts(1, 10));
    assert.equal(t.state, 'discarded');
    assert.equal(t.reason, 'fail-discard');
    // The recorded error keeps what a user needs to recognise it: name, code and details.
    assert.equal(t.error?.name, 'OffloadError');
    assert.equal(t.error?.code, 'OFFLOAD_INVALID_PAYLOAD');
    assert.deepEqual(t.error?.details, { field: 'to' });
    assertLegal(t);
  });

  it('a thrown non-Error is recorded as a NonError with its text', () => {
    const t = resolveOutcome(threw('plain string'), facts(1, 3, 0));
    assert.equal(t.state, 'retryable');
    assert.equal(t.error?.name, 'NonError');
    assert.equal(t.error?.message, 'plain string');
    assert.equal(resolveOutcome(threw({ status: 503 }), facts(1, 3, 0)).error?.message, '{"status":503}');
  });

  it('throw snooze(ms) reschedules after ms and refunds the attempt', () => {
    const t = resolveOutcome(threw(snooze(30_000)), facts(1, 3));
    assert.deepEqual(t, { state: 'scheduled', reason: 'snooze', delayMs: 30_000, refund: 1, result: null, error: null, cancelReason: null });
    assertLegal(t);
  });

  it('snooze does not use an attempt, so it works on the last attempt and regardless of retryable', () => {
    for (const retryable of [true, false]) {
      const t = resolveOutcome(threw(snooze(5), retryable), facts(3, 3));
      assert.equal(t.state, 'scheduled');
      assert.equal(t.delayMs, 5);
      assert.equal(t.refund, 1);
    }
  });

  it('throw cancel(reason) cancels with that reason, charges the attempt and records no error', () => {
    const t = resolveOutcome(threw(cancel('order was deleted')), facts(1, 3));
    assert.deepEqual(t, { state: 'cancelled', reason: 'cancel', delayMs: null, refund: 0, result: null, error: null, cancelReason: 'order was deleted' });
    assertLegal(t);
  });

  it('cancel() wins over retrying: it cancels even with attempts left and retryable', () => {
    assert.equal(resolveOutcome(threw(cancel('stop'), true), facts(1, 10)).state, 'cancelled');
    assert.equal(resolveOutcome(threw(cancel('stop'), false), facts(10, 10)).state, 'cancelled');
  });

  it('a signal that crossed a boundary as a plain object is still recognised by its marker', () => {
    // A copy made elsewhere (another module instance, a thread) shares only the registered symbol.
    const marker = Symbol.for('offload.outcome');
    const t = resolveOutcome(threw({ [marker]: 'snooze', delayMs: 250 }), facts(1, 3));
    assert.equal(t.state, 'scheduled');
    assert.equal(t.delayMs, 250);
    const c = resolveOutcome(threw({ [marker]: 'cancel', reason: 'gone' }), facts(1, 3));
    assert.equal(c.state, 'cancelled');
    assert.equal(c.cancelReason, 'gone');
  });

  it('a cancel by a user ends as cancelled, keeping the requested reason or deferring to the stored one (null)', () => {
    const t = resolveOutcome({ kind: 'cancelled', reason: 'by admin' }, facts(2, 3));
    assert.deepEqual(t, { state: 'cancelled', reason: 'cancel', delayMs: null, refund: 0, result: null, error: null, cancelReason: 'by admin' });
    assertLegal(t);
    assert.equal(resolveOutcome({ kind: 'cancelled', reason: null }, facts(2, 3)).cancelReason, null);
  });

  it('a release (shutdown past the grace period) makes the job available now and refunds the attempt', () => {
    const t = resolveOutcome({ kind: 'released' }, facts(3, 3));
    assert.deepEqual(t, { state: 'available', reason: 'release', delayMs: 0, refund: 1, result: null, error: null, cancelReason: null });
    assertLegal(t);
  });
});

describe('snooze()', () => {
  it('builds an Error carrying the delay, recognised by isSnooze only', () => {
    const s = snooze(1500);
    assert.ok(s instanceof Error);
    assert.equal(s.delayMs, 1500);
    assert.equal(s.message, 'snoozed for 1500 ms');
    assert.equal(isSnooze(s), true);
    assert.equal(isCancel(s), false);
  });

  it('0 is a valid delay', () => {
    assert.equal(snooze(0).delayMs, 0);
  });

  it('a fractional delay is rounded up to whole milliseconds (drivers store integers; never earlier than asked)', () => {
    assert.equal(snooze(1.2).delayMs, 2);
    assert.equal(snooze(0.001).delayMs, 1);
    assert.equal(snooze(1.5 * 1000).delayMs, 1500);
    assert.ok(Number.isInteger(snooze(Math.PI * 1000).delayMs));
  });

  it('throws a RangeError at the call site for a negative or non-finite delay', () => {
    for (const bad of [-1, -0.5, Number.NaN, Infinity, -Infinity]) {
      assert.throws(() => snooze(bad), RangeError, String(bad));
    }
  });
});

describe('cancel()', () => {
  it('builds an Error carrying the reason as its message, recognised by isCancel only', () => {
    const c = cancel('order was deleted');
    assert.ok(c instanceof Error);
    assert.equal(c.reason, 'order was deleted');
    assert.equal(c.message, 'order was deleted');
    assert.equal(isCancel(c), true);
    assert.equal(isSnooze(c), false);
  });
});

describe('isSnooze / isCancel', () => {
  it('ordinary thrown values are neither', () => {
    for (const v of [new Error('snooze'), null, undefined, 'snooze', 42, { kind: 'snooze', delayMs: 1 }, { outcome: 'cancel' }]) {
      assert.equal(isSnooze(v), false, inspect(v));
      assert.equal(isCancel(v), false, inspect(v));
    }
  });

  it('an unregistered symbol with the same description is not the marker', () => {
    const lookalike = { [Symbol('offload.outcome')]: 'snooze', delayMs: 1 };
    assert.equal(isSnooze(lookalike), false);
  });
});
