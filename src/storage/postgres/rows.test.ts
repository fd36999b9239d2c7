import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compareIds } from './rows.ts';

describe('postgres rows: compareIds', () => {
  it('orders decimal ids as numbers, past 2^53 and across lengths', () => {
    const ids = ['9', '10', '99', '100', '9007199254740993', '9007199254740992', '123456789012345678', '2', '1'];
    const expected = ids.toSorted((a, b) => (BigInt(a) < BigInt(b) ? -1 : BigInt(a) > BigInt(b) ? 1 : 0));
    assert.deepEqual(ids.toSorted(compareIds), expected);
    assert.equal(compareIds('42', '42'), 0);
  });

  it('agrees with BigInt order on random ids', () => {
    for (let i = 0; i < 2000; i++) {
      const a = String(BigInt(Math.floor(Math.random() * 1e9)) * BigInt(1 + Math.floor(Math.random() * 1e9)));
      const b = String(BigInt(Math.floor(Math.random() * 1e9)) * BigInt(1 + Math.floor(Math.random() * 1e9)));
      assert.equal(Math.sign(compareIds(a, b)), a === b ? 0 : BigInt(a) < BigInt(b) ? -1 : 1, `${a} vs ${b}`);
    }
  });
});
