import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ROW_COLUMNS, rowOf } from './rows.ts';

describe('sqlite rows', () => {
  it('rowOf reads every column of ROW_COLUMNS from its own index, and nothing else', () => {
    const row = rowOf(ROW_COLUMNS.map((c) => `value of ${c}`));
    assert.deepEqual(Object.keys(row).toSorted(), [...ROW_COLUMNS].toSorted());
    for (const c of ROW_COLUMNS) assert.equal(row[c], `value of ${c}`, c);
  });
});
