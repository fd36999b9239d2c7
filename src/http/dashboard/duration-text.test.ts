import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatDuration, relativeTime } from './duration-text.ts';

describe('formatDuration', () => {
  it('uses the two largest units that matter', () => {
    const cases: Array<[number, string]> = [
      [-5, '0 ms'], [0, '0 ms'], [12.4, '12 ms'], [999, '999 ms'], [1000, '1.0 s'], [1549, '1.5 s'], [9999, '9.9 s'], [10_000, '10 s'],
      [59_999, '59 s'], [60_000, '1 min'], [200_000, '3 min 20 s'], [3_600_000, '1 h'], [3_660_000, '1 h 1 min'], [86_400_000, '1 day'],
      [90_000_000, '1 day 1 h'], [3 * 86_400_000, '3 days'], [Number.POSITIVE_INFINITY, 'unknown'], [Number.NaN, 'unknown'],
    ];
    for (const [ms, text] of cases) assert.equal(formatDuration(ms), text, `${ms}`);
  });

  it('relativeTime says in, ago, or now within a second', () => {
    assert.equal(relativeTime(10_000, 5000), 'in 5.0 s');
    assert.equal(relativeTime(5000, 65_000), '1 min ago');
    assert.equal(relativeTime(5400, 5000), 'now');
  });
});
