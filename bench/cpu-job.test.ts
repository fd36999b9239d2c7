import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { calibrate, cpuJob, roundsFor } from './cpu-job.ts';

describe('roundsFor', () => {
  it('scales rounds linearly to the target', () => {
    assert.equal(roundsFor(100, 1000, 25), 4000);
    assert.equal(roundsFor(100, 3000, 150), 2000);
  });

  it('never returns fewer than 1 round, and keeps the rounds when nothing was timed', () => {
    assert.equal(roundsFor(1, 10, 1000), 1);
    assert.equal(roundsFor(100, 500, 0), 500);
  });
});

describe('calibrate', () => {
  it('lands on the rounds of the target for a linear cost, reporting the fastest and the median run', () => {
    const spec = calibrate(100, (rounds) => rounds * 0.01);
    assert.equal(spec.rounds, 10_000);
    assert.equal(spec.ms, 100);
    assert.equal(spec.medianMs, 100);
    assert.equal(spec.targetMs, 100);
  });

  it('absorbs a fixed per-run overhead in its second pass', () => {
    // 5 ms of set-up per run: the first estimate, from a short trial, overshoots; the second pass corrects it.
    const spec = calibrate(100, (rounds) => 5 + rounds * 0.01);
    assert.ok(Math.abs(spec.ms - 100) < 1.5, `calibrated to ${spec.ms} ms`);
  });

  it('takes the fastest run, so a run slowed by another process does not shorten the job', () => {
    let call = 0;
    // Every third run is twice as slow, as if another process had taken the core meanwhile.
    const spec = calibrate(100, (rounds) => rounds * 0.01 * (++call % 3 === 0 ? 2 : 1));
    assert.equal(spec.rounds, 10_000);
    assert.equal(spec.ms, 100);
  });

  it('corrects a slow start: a trial slowed by a busy machine does not leave the job short', () => {
    let call = 0;
    // The trial (5 doublings up to 1024 rounds) runs at half speed; from then on the machine is free.
    const spec = calibrate(100, (rounds) => rounds * 0.01 * (++call <= 5 ? 2 : 1));
    assert.equal(spec.rounds, 10_000);
    assert.equal(spec.ms, 100);
  });

  it('keeps the rounds of a fast trial when a whole pass after it is slowed, and says how slow it was', () => {
    let call = 0;
    // The trial (6 doublings up to 2048 rounds) runs free; the 5 runs of the first pass at half speed.
    const spec = calibrate(100, (rounds) => rounds * 0.01 * (++call > 6 ? 2 : 1));
    assert.equal(spec.rounds, 10_000);
    assert.equal(spec.ms, 100);
    assert.equal(spec.medianMs, 200);
  });
});

describe('cpuJob', () => {
  it('is deterministic and depends on every round', () => {
    assert.equal(cpuJob(3), cpuJob(3));
    assert.notEqual(cpuJob(3), cpuJob(4));
    assert.match(cpuJob(1), /^[0-9a-f]{64}$/);
  });
});
