import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TypedEvents } from '../observability/events.ts';
import { LoopHealth } from './loop-health.ts';

const silent = { debug() {}, info() {}, warn() {}, error() {}, child: () => silent };
const OPTIONS = { maxDelayMs: 100, resumeDelayMs: 50, blockedMs: 10_000, sampleMs: 20, windowMs: 1000 };

function block(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    // A synchronous stretch, as a CPU-heavy handler on the main thread would make.
  }
}

describe('loop health: holding back while the sampler is overdue', () => {
  it('holds back inside a long synchronous stretch before any sample has seen it, and lets go at the next sample', { timeout: 15_000 }, async () => {
    const health = new LoopHealth(OPTIONS, new TypedEvents(), silent, () => []);
    assert.equal(health.holdingBack(), false, 'not started: nothing to judge');
    health.start();
    // The sampler's timer is unreferenced (measuring never keeps a process alive): this one does.
    const keepAlive = setInterval(() => {}, 1000);
    // A window of idle samples first, so that the stretch alone does not make the loop overloaded.
    await new Promise((r) => setTimeout(r, 1100));
    assert.equal(health.holdingBack(), false, 'an idle loop claims');
    const changes: boolean[] = [];
    const lifted = new Promise<void>((resolve) =>
      health.onChange((overloaded) => {
        changes.push(overloaded);
        if (!overloaded) resolve();
      }),
    );
    block(OPTIONS.maxDelayMs + 60);
    // No sample has run during the stretch, so `overloaded` cannot know of it yet: only the
    // overdue timer tells.
    assert.equal(health.overloaded, false);
    assert.equal(health.holdingBack(), true, 'the sampler is overdue by more than maxDelayMs');
    await lifted;
    assert.deepEqual(changes, [false], 'the first sample after the stretch lifts the hold');
    assert.equal(health.holdingBack(), false);
    assert.equal(health.overloaded, false, 'one stretch in an idle window is not an overload');
    health.stop();
    clearInterval(keepAlive);
  });
});
