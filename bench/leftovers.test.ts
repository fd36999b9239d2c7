import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isLeftover, LEFTOVER_AGE_MS } from './leftovers.ts';

describe('isLeftover', () => {
  const now = 1_800_000_000_000;

  it('leaves state alone while it may belong to a run going on now', () => {
    assert.equal(isLeftover(now, now), false);
    assert.equal(isLeftover(now - LEFTOVER_AGE_MS + 1, now), false);
  });

  it('removes state from LEFTOVER_AGE_MS on, and state of unknown age', () => {
    assert.equal(isLeftover(now - LEFTOVER_AGE_MS, now), true);
    assert.equal(isLeftover(null, now), true);
  });
});
