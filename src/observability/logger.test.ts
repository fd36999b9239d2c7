import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Logger } from '../types.ts';
import { LazyChild } from './logger.ts';

/** A parent that records the children it makes and every call on them. */
function recording() {
  const made: Array<Record<string, unknown>> = [];
  const calls: unknown[][] = [];
  const child = (bindings: Record<string, unknown>): Logger => {
    made.push(bindings);
    const at = (level: string) => (...a: unknown[]) => void calls.push([level, bindings, ...a]);
    return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error'), child };
  };
  return { parent: { debug() {}, info() {}, warn() {}, error() {}, child } satisfies Logger, made, calls };
}

describe('LazyChild', () => {
  it('makes the child on the first line only, once, with the bindings of that moment', () => {
    const r = recording();
    let reads = 0;
    const log = new LazyChild(r.parent, () => (reads++, { jobId: '1' }));
    assert.equal(r.made.length, 0, 'no child while nothing is logged');
    log.info('one');
    log.warn({ a: 1 }, 'two');
    assert.deepEqual(r.made, [{ jobId: '1' }]);
    assert.equal(reads, 1);
    assert.deepEqual(r.calls, [
      ['info', { jobId: '1' }, 'one'],
      ['warn', { jobId: '1' }, { a: 1 }, 'two'],
    ]);
  });

  it('passes arguments through as given (a missing message stays missing) and its methods work taken apart', () => {
    const r = recording();
    const { debug, error, child } = new LazyChild(r.parent, () => ({ jobId: '2' }));
    debug({ only: 'object' });
    error('text');
    child({ step: 'x' }).info('from a grandchild');
    assert.deepEqual(r.calls, [
      ['debug', { jobId: '2' }, { only: 'object' }],
      ['error', { jobId: '2' }, 'text'],
      ['info', { step: 'x' }, 'from a grandchild'],
    ]);
  });
});
