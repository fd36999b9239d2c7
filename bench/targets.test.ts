import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Measurement } from './measurement.ts';
import { checkTargets, type Target } from './targets.ts';

const p99 = (value: number, note?: string): Measurement => ({ system: 'offload-sqlite', metric: 'loop.off.p99', value, jobs: 100, ...(note === undefined ? {} : { note }) });
const target: Target = { system: 'offload-sqlite', metric: 'loop.off.p99', limit: 10, source: 'test' };

const processed = (system: Measurement['system'], value: number): Measurement => ({ system, metric: 'process.1x50', value, jobs: 20_000 });
const p = (system: Measurement['system'], value: number): Measurement => ({ system, metric: 'latency.p99', value, jobs: 500 });

describe('checkTargets', () => {
  it('meets a lower-is-better target at or under its limit, misses it above', () => {
    assert.equal(checkTargets([p99(3.2)], [target])[0]?.met, true);
    assert.equal(checkTargets([p99(10)], [target])[0]?.met, true);
    assert.equal(checkTargets([p99(10.5)], [target])[0]?.met, false);
  });

  it('meets a higher-is-better target at or over its limit', () => {
    const rate: Target = { system: 'bullmq', metric: 'loop.off.rate', limit: 15, source: 'test' };
    const m: Measurement = { system: 'bullmq', metric: 'loop.off.rate', value: 14.9, jobs: 120 };
    assert.equal(checkTargets([m], [rate])[0]?.met, false);
    assert.equal(checkTargets([{ ...m, value: 15 }], [rate])[0]?.met, true);
  });

  it('leaves out a target this run did not measure, and carries the figure and its note', () => {
    assert.deepEqual(checkTargets([], [target]), []);
    assert.deepEqual(checkTargets([p99(2, 'saturated')], [target]), [{ ...target, value: 2, met: true, note: 'saturated' }]);
  });

  it("does not take another system's figure for the target's", () => {
    assert.deepEqual(checkTargets([{ ...p99(1), system: 'bullmq' }], [target]), []);
  });

  it('checks a ratio target against the peer measured in the same run', () => {
    const ratio: Target = { system: 'offload-postgres', metric: 'process.1x50', limit: 2, peer: 'graphile-worker', source: 'test' };
    assert.deepEqual(checkTargets([processed('offload-postgres', 30_000), processed('graphile-worker', 40_000)], [ratio]), [
      { ...ratio, value: 0.75, met: false, figures: { system: 30_000, peer: 40_000 } },
    ]);
    assert.equal(checkTargets([processed('offload-postgres', 80_000), processed('graphile-worker', 40_000)], [ratio])[0]?.met, true);
    assert.deepEqual(checkTargets([processed('offload-postgres', 30_000)], [ratio]), [], 'no peer figure, no check');
    const lower: Target = { system: 'offload-sqlite', metric: 'latency.p99', limit: 0.5, peer: 'bullmq', source: 'test' };
    assert.equal(checkTargets([p('offload-sqlite', 1), p('bullmq', 2)], [lower])[0]?.met, true);
    assert.equal(checkTargets([p('offload-sqlite', 1.5), p('bullmq', 2)], [lower])[0]?.met, false);
  });
});
