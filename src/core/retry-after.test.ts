import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { retryAfterMs } from './retry-after.ts';

describe('retryAfterMs', () => {
  it('is the time the excess takes to drain at the measured rate', () => {
    assert.equal(retryAfterMs(50, 100, 10_000), 500);
    assert.equal(retryAfterMs(1, 3, 10_000), 334, 'rounded up: never sooner than the estimate');
  });

  it('is at least 100 ms and at most 60 s', () => {
    assert.equal(retryAfterMs(1, 1_000_000, 10_000), 100);
    assert.equal(retryAfterMs(1_000_000, 1, 10_000), 60_000);
  });

  it('is the measuring window when nothing drained', () => {
    assert.equal(retryAfterMs(5, 0, 10_000), 10_000);
    assert.equal(retryAfterMs(5, Number.NaN, 7000), 7000);
  });

  it('counts a non-positive excess as one job', () => {
    assert.equal(retryAfterMs(0, 10, 10_000), 100);
    assert.equal(retryAfterMs(-3, 2, 10_000), 500);
  });
});
