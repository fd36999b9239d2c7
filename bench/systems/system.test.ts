import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { freshName, freshNameTime } from './system.ts';

describe('freshNameTime', () => {
  it('reads back when freshName made a name, whatever its prefix', () => {
    const before = Date.now();
    for (const prefix of ['bench', 'bench_graphile', 'bench_offload']) {
      const t = freshNameTime(freshName(prefix));
      assert.ok(t !== null && t >= before && t <= Date.now(), `${prefix}: ${t}`);
    }
  });

  it('is null for a name freshName did not make', () => {
    assert.equal(freshNameTime('bench'), null);
    assert.equal(freshNameTime('bench_api'), null);
    assert.equal(freshNameTime('bench_x_y'), null);
  });
});
