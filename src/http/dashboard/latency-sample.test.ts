import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LatencySample, percentileOf } from './latency-sample.ts';

describe('LatencySample', () => {
  it('nearest-rank percentiles', () => {
    assert.equal(percentileOf([], 0.5), Number.NaN);
    assert.equal(percentileOf([7], 0.99), 7);
    assert.equal(percentileOf([1, 2, 3, 4], 0.5), 2);
    assert.equal(percentileOf([1, 2, 3, 4], 0), 1);
    const hundred = Array.from({ length: 100 }, (_, i) => i + 1);
    assert.deepEqual([0.5, 0.95, 0.99, 1].map((q) => percentileOf(hundred, q)), [50, 95, 99, 100]);
  });

  it('take() reports the second and starts over; nothing recorded is null; non-finite values are ignored', () => {
    const s = new LatencySample();
    assert.equal(s.take(), null);
    for (const v of [5, 1, 3, 2, 4, Number.NaN, Number.POSITIVE_INFINITY]) s.add(v);
    assert.deepEqual(s.take(), { p50: 3, p95: 5, p99: 5 });
    assert.equal(s.take(), null);
    s.add(1.234);
    assert.deepEqual(s.take(), { p50: 1.2, p95: 1.2, p99: 1.2 });
  });

  it('keeps at most its capacity, replacing by the injected random draw', () => {
    // random() = 0 always replaces slot 0: the last value added lands there.
    const s = new LatencySample(3, () => 0);
    for (const v of [10, 20, 30, 40, 5]) s.add(v);
    assert.deepEqual(s.take(), { p50: 20, p95: 30, p99: 30 });
    // random() near 1 never replaces: the first three stay.
    const t = new LatencySample(3, () => 0.999);
    for (const v of [10, 20, 30, 1000, 2000]) t.add(v);
    assert.deepEqual(t.take(), { p50: 20, p95: 30, p99: 30 });
  });
});
