import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { inspect } from 'node:util';
import { isOffloadError, OffloadError } from '../errors.ts';
import { JOB_STATES, type JobState } from '../types.ts';
import {
  assertTransition,
  canTransition,
  FINAL_STATES,
  sourcesOf,
  transitionTable,
  WAITING_STATES,
  type TransitionReason,
} from './state-machine.ts';

// Every reason, checked for exhaustiveness by the compiler (a new reason must be added here).
const REASONS = Object.keys({
  claim: true,
  complete: true,
  'fail-retry': true,
  'fail-discard': true,
  snooze: true,
  cancel: true,
  release: true,
  'rescue-retry': true,
  'rescue-discard': true,
  retry: true,
  expire: true,
} satisfies Record<TransitionReason, true>) as TransitionReason[];

// The edges as docs/state-machine.md lists them, written out independently of the TABLE in the
// source: a change to either that is not made to the other fails here.
const DOCUMENTED: ReadonlyArray<readonly [JobState, JobState, TransitionReason]> = [
  ['scheduled', 'running', 'claim'],
  ['scheduled', 'cancelled', 'cancel'],
  ['scheduled', 'cancelled', 'expire'],
  ['scheduled', 'available', 'retry'],
  ['available', 'running', 'claim'],
  ['available', 'cancelled', 'cancel'],
  ['available', 'cancelled', 'expire'],
  ['retryable', 'running', 'claim'],
  ['retryable', 'cancelled', 'cancel'],
  ['retryable', 'cancelled', 'expire'],
  ['retryable', 'available', 'retry'],
  ['running', 'completed', 'complete'],
  ['running', 'retryable', 'fail-retry'],
  ['running', 'retryable', 'rescue-retry'],
  ['running', 'discarded', 'fail-discard'],
  ['running', 'discarded', 'rescue-discard'],
  ['running', 'cancelled', 'cancel'],
  ['running', 'scheduled', 'snooze'],
  ['running', 'available', 'release'],
  ['cancelled', 'available', 'retry'],
  ['discarded', 'available', 'retry'],
];

const key = (from: JobState, to: JobState, reason: TransitionReason): string => `${from} -> ${to} (${reason})`;
const ALLOWED = new Set(DOCUMENTED.map(([f, t, r]) => key(f, t, r)));

function allTriples(): Array<[JobState, JobState, TransitionReason]> {
  const out: Array<[JobState, JobState, TransitionReason]> = [];
  for (const from of JOB_STATES) for (const to of JOB_STATES) for (const reason of REASONS) out.push([from, to, reason]);
  return out;
}

function refusal(fn: () => void): OffloadError {
  let caught: unknown = 'nothing';
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  assert.ok(caught instanceof OffloadError, `expected an OffloadError, got ${inspect(caught)}`);
  return caught;
}

describe('transition table', () => {
  it('transitionTable() has exactly the documented edges', () => {
    const rows = transitionTable().flatMap(({ from, to, reasons }) => reasons.map((r) => key(from, to, r)));
    assert.equal(new Set(rows).size, rows.length, 'no edge is listed twice');
    assert.deepEqual(new Set(rows), ALLOWED);
  });

  it('canTransition with a reason accepts exactly the documented edges', () => {
    for (const [from, to, reason] of allTriples()) {
      assert.equal(canTransition(from, to, reason), ALLOWED.has(key(from, to, reason)), key(from, to, reason));
    }
  });

  it('canTransition without a reason accepts a pair when any reason connects it', () => {
    for (const from of JOB_STATES) {
      for (const to of JOB_STATES) {
        const expected = DOCUMENTED.some(([f, t]) => f === from && t === to);
        assert.equal(canTransition(from, to), expected, `${from} -> ${to}`);
      }
    }
  });

  it('a real edge with the wrong reason is refused', () => {
    assert.equal(canTransition('running', 'retryable', 'claim'), false);
    assert.equal(canTransition('running', 'available', 'retry'), false);
    assert.equal(canTransition('scheduled', 'running', 'snooze'), false);
  });

  it('no state transitions to itself', () => {
    for (const s of JOB_STATES) assert.equal(canTransition(s, s), false, s);
  });

  it('completed is a dead end, and neither available nor running can be retried', () => {
    for (const to of JOB_STATES) assert.equal(canTransition('completed', to), false, `completed -> ${to}`);
    assert.equal(canTransition('available', 'available', 'retry'), false);
    assert.equal(canTransition('running', 'available', 'retry'), false);
  });
});

describe('assertTransition', () => {
  it('returns quietly on every documented edge, with or without the reason', () => {
    for (const [from, to, reason] of DOCUMENTED) {
      assert.doesNotThrow(() => assertTransition(from, to, reason), key(from, to, reason));
      assert.doesNotThrow(() => assertTransition(from, to), `${from} -> ${to}`);
    }
  });

  it('throws OFFLOAD_INVALID_STATE with from/to/reason details on every refused edge', () => {
    let refused = 0;
    for (const [from, to, reason] of allTriples()) {
      if (ALLOWED.has(key(from, to, reason))) continue;
      refused++;
      const err = refusal(() => assertTransition(from, to, reason));
      assert.equal(err.code, 'OFFLOAD_INVALID_STATE');
      assert.ok(isOffloadError(err, 'OFFLOAD_INVALID_STATE'));
      assert.deepEqual(err.details, { from, to, reason });
      assert.equal(err.message, `a job cannot go from '${from}' to '${to}' (${reason})`);
    }
    assert.equal(refused, JOB_STATES.length ** 2 * REASONS.length - DOCUMENTED.length);
  });

  it('without a reason, the message names only the two states', () => {
    const err = refusal(() => assertTransition('completed', 'available'));
    assert.equal(err.code, 'OFFLOAD_INVALID_STATE');
    assert.equal(err.message, "a job cannot go from 'completed' to 'available'");
    assert.deepEqual(err.details, { from: 'completed', to: 'available', reason: undefined });
  });

  it('the error survives serialization by its code (it crosses threads as a plain object)', () => {
    const err = refusal(() => assertTransition('running', 'running', 'claim'));
    const plain = JSON.parse(JSON.stringify({ code: err.code, message: err.message })) as unknown;
    assert.ok(isOffloadError(plain, 'OFFLOAD_INVALID_STATE'));
  });
});

describe('sourcesOf', () => {
  it('a claim takes a job from any waiting state, and only from those', () => {
    assert.deepEqual(new Set(sourcesOf('running', 'claim')), new Set(WAITING_STATES));
  });

  it('cancel is accepted from every waiting state and from running', () => {
    assert.deepEqual(new Set(sourcesOf('cancelled', 'cancel')), new Set<JobState>(['scheduled', 'available', 'retryable', 'running']));
  });

  it('retry redrives scheduled, retryable and the failed final states, not completed/available/running', () => {
    assert.deepEqual(new Set(sourcesOf('available', 'retry')), new Set<JobState>(['scheduled', 'retryable', 'cancelled', 'discarded']));
  });

  it('a reason that never leads to a state has no sources', () => {
    assert.deepEqual(sourcesOf('completed', 'claim'), []);
    assert.deepEqual(sourcesOf('running', 'retry'), []);
  });

  it('agrees with canTransition for every target and reason', () => {
    for (const to of JOB_STATES) {
      for (const reason of REASONS) {
        const expected = JOB_STATES.filter((from) => canTransition(from, to, reason));
        assert.deepEqual(new Set(sourcesOf(to, reason)), new Set(expected), `${to} (${reason})`);
      }
    }
  });
});

describe('WAITING_STATES and FINAL_STATES', () => {
  it('waiting, final and running partition the states', () => {
    const waiting = new Set(WAITING_STATES);
    const final = new Set(FINAL_STATES);
    assert.equal(waiting.size, WAITING_STATES.length);
    assert.equal(final.size, FINAL_STATES.length);
    for (const s of JOB_STATES) {
      const kinds = [waiting.has(s), final.has(s), s === 'running'].filter(Boolean).length;
      assert.equal(kinds, 1, `${s} must be exactly one of waiting, final, running`);
    }
    assert.equal(WAITING_STATES.length + FINAL_STATES.length + 1, JOB_STATES.length);
  });

  it('a job can be claimed from a state exactly when that state is waiting', () => {
    for (const s of JOB_STATES) assert.equal(canTransition(s, 'running', 'claim'), WAITING_STATES.includes(s), s);
  });

  it('running is entered only by a claim', () => {
    for (const [, to, reason] of DOCUMENTED) if (to === 'running') assert.equal(reason, 'claim');
  });

  it('final states are entered only from running or (for cancel) a waiting state', () => {
    for (const { from, to } of transitionTable()) {
      if (!FINAL_STATES.includes(to)) continue;
      assert.ok(from === 'running' || WAITING_STATES.includes(from), `${from} -> ${to}`);
    }
  });

  it('final states leave only through retry, to available', () => {
    for (const { from, to, reasons } of transitionTable()) {
      if (!FINAL_STATES.includes(from)) continue;
      assert.equal(to, 'available', `${from} -> ${to}`);
      assert.deepEqual([...reasons], ['retry']);
    }
  });

  it('a user can cancel every waiting state and retry every final state but completed', () => {
    for (const s of WAITING_STATES) assert.ok(canTransition(s, 'cancelled', 'cancel'), s);
    for (const s of FINAL_STATES) {
      if (s === 'completed') continue;
      assert.ok(canTransition(s, 'available', 'retry'), s);
    }
  });
});
