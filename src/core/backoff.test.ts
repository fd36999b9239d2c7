import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { BackoffKind, RetryPolicy } from '../types.ts';
import { backoffCapMs, backoffDelayMs } from './backoff.ts';

/** The largest double below 1: the highest value Math.random() can return. */
const JUST_UNDER_ONE = 1 - Number.EPSILON / 2;
const INT32_MAX = 2_147_483_647;

function policy(backoff: BackoffKind, baseMs: number, maxMs: number): RetryPolicy {
  return { attempts: 10, backoff, baseMs, maxMs };
}

/** A random source that always returns `r` and counts its calls. */
function fixedRandom(r: number): { random: () => number; calls: () => number } {
  let n = 0;
  return {
    random: () => {
      n++;
      return r;
    },
    calls: () => n,
  };
}

describe('backoffCapMs', () => {
  it('exponential doubles from baseMs: the default policy gives 1 s, 2 s, 4 s, 8 s after attempts 1 to 4', () => {
    const p = policy('exponential', 1000, 300_000);
    assert.deepEqual([1, 2, 3, 4].map((a) => backoffCapMs(p, a)), [1000, 2000, 4000, 8000]);
  });

  it('exponential growth stops at maxMs and stays there', () => {
    const p = policy('exponential', 1000, 300_000);
    // 1000 * 2^8 = 256 000 is still under the cap; 1000 * 2^9 = 512 000 is over it.
    assert.equal(backoffCapMs(p, 9), 256_000);
    assert.equal(backoffCapMs(p, 10), 300_000);
    assert.equal(backoffCapMs(p, 50), 300_000);
  });

  it('exponential stays finite (and at maxMs) for attempt numbers far past 2^1024', () => {
    const p = policy('exponential', INT32_MAX, INT32_MAX);
    for (const attempt of [61, 62, 1025, 10_000, Number.MAX_SAFE_INTEGER]) {
      const cap = backoffCapMs(p, attempt);
      assert.ok(Number.isFinite(cap), `attempt ${attempt} gave ${cap}`);
      assert.equal(cap, INT32_MAX);
    }
    // With a cap larger than any reachable value the exponent limit (60) is what keeps it finite.
    const uncapped = policy('exponential', 1, Number.MAX_VALUE);
    assert.equal(backoffCapMs(uncapped, 5000), 2 ** 60);
  });

  it('linear grows by baseMs per attempt, up to maxMs', () => {
    const p = policy('linear', 500, 1800);
    assert.deepEqual([1, 2, 3, 4, 5].map((a) => backoffCapMs(p, a)), [500, 1000, 1500, 1800, 1800]);
  });

  it('fixed is baseMs whatever the attempt', () => {
    const p = policy('fixed', 750, 300_000);
    assert.deepEqual([1, 2, 10, 1000].map((a) => backoffCapMs(p, a)), [750, 750, 750, 750]);
  });

  it('fixed is still bounded by maxMs', () => {
    assert.equal(backoffCapMs(policy('fixed', 5000, 2000), 1), 2000);
  });

  it('attempt numbers below 1 are treated as attempt 1', () => {
    for (const kind of ['exponential', 'linear', 'fixed'] as const) {
      const p = policy(kind, 1000, 300_000);
      assert.equal(backoffCapMs(p, 0), backoffCapMs(p, 1), kind);
      assert.equal(backoffCapMs(p, -3), backoffCapMs(p, 1), kind);
    }
    // Without the clamp, exponential at attempt 0 would be 500 and linear would be 0.
    assert.equal(backoffCapMs(policy('exponential', 1000, 300_000), 0), 1000);
    assert.equal(backoffCapMs(policy('linear', 1000, 300_000), 0), 1000);
  });

  it('baseMs 0 gives a cap of 0 for every kind', () => {
    for (const kind of ['exponential', 'linear', 'fixed'] as const) {
      assert.equal(backoffCapMs(policy(kind, 0, 300_000), 7), 0, kind);
    }
  });
});

describe('backoffDelayMs (full jitter)', () => {
  const exp = policy('exponential', 1000, 300_000);

  it('random 0 gives no delay', () => {
    assert.equal(backoffDelayMs(exp, 1, () => 0), 0);
    assert.equal(backoffDelayMs(exp, 20, () => 0), 0);
  });

  it('random 0.5 gives the middle of [0, cap]', () => {
    // cap 1000: 1001 equally likely integers 0..1000; 0.5 * 1001 = 500.5 falls in bucket 500.
    assert.equal(backoffDelayMs(exp, 1, () => 0.5), 500);
    // cap 4000 after attempt 3.
    assert.equal(backoffDelayMs(exp, 3, () => 0.5), 2000);
  });

  it('random just under 1 reaches the cap but never goes past it', () => {
    assert.ok(JUST_UNDER_ONE < 1);
    assert.equal(backoffDelayMs(exp, 1, () => JUST_UNDER_ONE), 1000);
    assert.equal(backoffDelayMs(exp, 4, () => JUST_UNDER_ONE), 8000);
    assert.equal(backoffDelayMs(exp, 30, () => JUST_UNDER_ONE), 300_000);
  });

  it('the delay is an integer in [0, cap] for extreme random values and caps', () => {
    const policies = [
      policy('exponential', 1000, 300_000),
      policy('exponential', INT32_MAX, INT32_MAX),
      policy('linear', 1, 1),
      policy('linear', 0, 0),
      policy('exponential', 3, INT32_MAX),
    ];
    for (const p of policies) {
      for (const attempt of [1, 2, 5, 40, 10_000]) {
        const cap = backoffCapMs(p, attempt);
        for (const r of [0, Number.MIN_VALUE, 0.25, 0.5, 0.999, JUST_UNDER_ONE]) {
          const d = backoffDelayMs(p, attempt, () => r);
          assert.ok(Number.isInteger(d) && d >= 0 && d <= cap, `${JSON.stringify(p)} attempt ${attempt} r ${r}: ${d} not in [0, ${cap}]`);
        }
      }
    }
  });

  it('every whole delay from 0 to the cap is reachable, each from an equal share of [0, 1)', () => {
    const p = policy('linear', 3, 300_000); // cap 3 after attempt 1: delays 0, 1, 2, 3
    const cap = backoffCapMs(p, 1);
    assert.equal(cap, 3);
    const buckets = cap + 1;
    for (let k = 0; k < buckets; k++) {
      // The start, middle and end of the k-th quarter of [0, 1) all land on k.
      const lo = k / buckets;
      const hi = (k + 1) / buckets - Number.EPSILON;
      for (const r of [lo, (lo + hi) / 2, hi]) assert.equal(backoffDelayMs(p, 1, () => r), k, `r ${r}`);
    }
  });

  it('the jitter grows with the attempt: the same draw gives a longer delay later', () => {
    const draws = [1, 2, 3, 4, 5, 6].map((a) => backoffDelayMs(exp, a, () => 0.75));
    for (let i = 1; i < draws.length; i++) assert.ok(draws[i]! > draws[i - 1]!, draws.join(', '));
  });

  it('exponential and linear draw exactly one random number per delay', () => {
    for (const kind of ['exponential', 'linear'] as const) {
      const src = fixedRandom(0.3);
      backoffDelayMs(policy(kind, 1000, 300_000), 2, src.random);
      assert.equal(src.calls(), 1, kind);
    }
  });

  it('fixed has no jitter: the delay is the cap whatever the random source says', () => {
    const p = policy('fixed', 750, 300_000);
    for (const r of [0, 0.5, JUST_UNDER_ONE]) {
      const src = fixedRandom(r);
      assert.equal(backoffDelayMs(p, 3, src.random), 750);
      assert.equal(src.calls(), 0, 'fixed must not consume randomness');
    }
    assert.equal(backoffDelayMs(policy('fixed', 5000, 2000), 1, () => 0), 2000);
  });

  it('a cap of 0 gives 0 even for the highest draw', () => {
    assert.equal(backoffDelayMs(policy('exponential', 0, 300_000), 3, () => JUST_UNDER_ONE), 0);
  });
});
