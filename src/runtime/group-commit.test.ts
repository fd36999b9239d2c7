import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { GroupCommit } from './group-commit.ts';

/** A flush the test settles by hand, recording every batch it was given and how many were out at once. */
function manualFlush() {
  const batches: number[][] = [];
  const pending: Array<{ resolve: () => void; reject: (e: Error) => void }> = [];
  let out = 0;
  let maxOut = 0;
  const flush = (items: number[]): Promise<number[]> => {
    batches.push(items);
    out++;
    maxOut = Math.max(maxOut, out);
    return new Promise<number[]>((resolve, reject) => {
      pending.push({
        resolve: () => {
          out--;
          resolve(items.map((i) => i * 10));
        },
        reject: (e: Error) => {
          out--;
          reject(e);
        },
      });
    });
  };
  return { flush, batches, pending, maxOut: () => maxOut };
}

describe('GroupCommit', () => {
  it('sends items submitted in one turn as one batch and answers each with its own output', async () => {
    const f = manualFlush();
    const g = new GroupCommit(f.flush, 100);
    const answers = [g.submit(1), g.submit(2), g.submit(3)];
    await nextTurn();
    assert.deepEqual(f.batches, [[1, 2, 3]]);
    f.pending.shift()!.resolve();
    assert.deepEqual(await Promise.all(answers), [10, 20, 30]);
  });

  it('one in flight (the default): what arrives meanwhile waits and goes out as the next batch', async () => {
    const f = manualFlush();
    const g = new GroupCommit(f.flush, 100);
    const a = g.submit(1);
    await nextTurn();
    const later = [g.submit(2), g.submit(3)];
    await nextTurn();
    assert.deepEqual(f.batches, [[1]], 'nothing more is sent while the first batch is out');
    f.pending.shift()!.resolve();
    await a;
    await nextTurn();
    assert.deepEqual(f.batches, [[1], [2, 3]]);
    f.pending.shift()!.resolve();
    assert.deepEqual(await Promise.all(later), [20, 30]);
    assert.equal(f.maxOut(), 1);
  });

  it('two in flight: a second batch goes while the first is out, a third waits for one of them', async () => {
    const f = manualFlush();
    const g = new GroupCommit(f.flush, 100, 2);
    const first = g.submit(1);
    await nextTurn();
    const second = g.submit(2);
    await nextTurn();
    const third = [g.submit(3), g.submit(4)];
    await nextTurn();
    assert.deepEqual(f.batches, [[1], [2]]);
    f.pending.pop()!.resolve(); // the second settles first: order between batches is not kept
    assert.equal(await second, 20);
    await nextTurn();
    assert.deepEqual(f.batches, [[1], [2], [3, 4]]);
    for (const p of f.pending.splice(0)) p.resolve();
    assert.deepEqual([await first, ...(await Promise.all(third))], [10, 30, 40]);
    assert.equal(f.maxOut(), 2);
  });

  it('splits a backlog into batches of at most maxBatch', async () => {
    const f = manualFlush();
    const g = new GroupCommit(f.flush, 2, 2);
    const all = [1, 2, 3, 4, 5].map((i) => g.submit(i));
    await nextTurn();
    assert.deepEqual(f.batches, [[1, 2], [3, 4]]);
    f.pending.shift()!.resolve();
    await nextTurn();
    assert.deepEqual(f.batches, [[1, 2], [3, 4], [5]]);
    for (const p of f.pending.splice(0)) p.resolve();
    assert.deepEqual(await Promise.all(all), [10, 20, 30, 40, 50]);
  });

  it('a failed flush rejects its own batch only; the next batch still goes', async () => {
    const f = manualFlush();
    const g = new GroupCommit(f.flush, 100, 2);
    const doomed = [g.submit(1), g.submit(2)];
    await nextTurn();
    const fine = g.submit(3);
    await nextTurn();
    f.pending.shift()!.reject(new Error('store down'));
    for (const d of doomed) await assert.rejects(d, /store down/);
    f.pending.shift()!.resolve();
    assert.equal(await fine, 30);
  });

  it('drained() waits for every batch in flight and for what is queued behind them', async () => {
    const f = manualFlush();
    const g = new GroupCommit(f.flush, 1, 2);
    await g.drained(); // idle: at once
    void g.submit(1);
    void g.submit(2);
    void g.submit(3);
    let drained = false;
    const d = g.drained().then(() => (drained = true));
    await nextTurn();
    f.pending.shift()!.resolve();
    f.pending.shift()!.resolve();
    await nextTurn();
    assert.equal(drained, false, 'the third item is still out');
    assert.deepEqual(f.batches, [[1], [2], [3]]);
    f.pending.shift()!.resolve();
    await d;
    assert.equal(drained, true);
  });
});
