import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseBenchArgs } from './args.ts';

describe('parseBenchArgs', () => {
  it('runs everything by default', () => {
    const a = parseBenchArgs([]);
    assert.deepEqual(a.scenarios, ['enqueue', 'process', 'latency', 'rss', 'loop']);
    assert.equal(a.systems.length, 5);
  });

  it('starts only the systems a scenario runs on: --scenario=loop is offload-sqlite and BullMQ', () => {
    assert.deepEqual(parseBenchArgs(['--scenario=loop']).systems, ['offload-sqlite', 'bullmq']);
    assert.equal(parseBenchArgs(['--scenario=loop,latency']).systems.length, 5);
  });

  it('refuses a system named in --only that none of the scenarios runs on', () => {
    assert.throws(() => parseBenchArgs(['--scenario=loop', '--only=pg-boss']), /pg-boss runs none of the scenarios loop/);
    assert.deepEqual(parseBenchArgs(['--scenario=loop', '--only=bullmq']).systems, ['bullmq']);
  });

  it('refuses unknown names, listing the valid ones', () => {
    assert.throws(() => parseBenchArgs(['--scenario=lop']), /unknown 'lop'; choose from .*loop/);
  });
});
