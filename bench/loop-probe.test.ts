import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createHistogram } from 'node:perf_hooks';
import { histogramFigures, LoopProbe, sampleFigures } from './loop-probe.ts';

const MS = 1e6;

describe('histogramFigures', () => {
  it('subtracts the resolution from whole intervals: a free loop reads 0, a held one its lateness', () => {
    const h = createHistogram();
    // 98 intervals of exactly 10 ms (a free loop), then two that waited behind 110 ms of work.
    for (let k = 0; k < 98; k++) h.record(10 * MS);
    h.record(120 * MS);
    h.record(120 * MS);
    const f = histogramFigures(h, 10);
    assert.equal(f.samples, 100);
    // The histogram keeps about 3 significant digits.
    assert.ok(f.p50Ms < 0.1, `p50 ${f.p50Ms}`);
    assert.ok(Math.abs(f.p99Ms - 110) < 0.5, `p99 ${f.p99Ms}`);
    assert.ok(Math.abs(f.maxMs - 110) < 0.5, `max ${f.maxMs}`);
  });

  it('never reports a negative delay (an interval a little under the resolution)', () => {
    const h = createHistogram();
    h.record(Math.round(9.9 * MS));
    assert.equal(histogramFigures(h, 10).p50Ms, 0);
  });

  it('reports NaN, not 0, for an empty window', () => {
    assert.ok(Number.isNaN(histogramFigures(createHistogram(), 10).p99Ms));
  });
});

describe('sampleFigures', () => {
  it('gives nearest-rank percentiles, the max and the mean', () => {
    const samples = Array.from({ length: 100 }, (_, k) => k + 1);
    assert.deepEqual(sampleFigures(samples), { p50Ms: 50, p99Ms: 99, maxMs: 100, meanMs: 50.5, samples: 100 });
  });
});

describe('LoopProbe', () => {
  it('sees a loop held by synchronous work', async () => {
    const probe = new LoopProbe();
    probe.start();
    await new Promise((resolve) => setTimeout(resolve, 50));
    const until = performance.now() + 120;
    while (performance.now() < until) {
      // hold the loop
    }
    await new Promise((resolve) => setTimeout(resolve, 30));
    const r = probe.stop();
    assert.ok(r.histogram.maxMs >= 100, `histogram max ${r.histogram.maxMs}`);
    assert.ok(r.timer.maxMs >= 100, `timer max ${r.timer.maxMs}`);
    assert.ok(r.elapsedMs >= 200);
  });
});
