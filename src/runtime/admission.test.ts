import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isOffloadError } from '../errors.ts';
import type { Driver } from '../storage/driver.ts';
import type { JobState } from '../types.ts';
import { Admission } from './admission.ts';

type Counts = Array<{ queue: string; state: JobState; count: number }>;

/** The two reads admission makes, counted; everything else of a driver is absent. */
function fakeDriver(counts: () => Counts, finished: () => Array<{ queue: string; count: number }> = () => []) {
  const calls = { counts: 0, finished: 0 };
  const driver = {
    jobCounts: async () => (calls.counts++, counts()),
    jobFinishedRecently: async () => (calls.finished++, finished()),
  } as unknown as Driver;
  return { driver, calls };
}

const overloaded = (err: unknown) => isOffloadError(err, 'OFFLOAD_OVERLOADED');

describe('admission', () => {
  it('counts only the waiting states of the queue against its bound', async () => {
    const { driver } = fakeDriver(() => [
      { queue: 'q', state: 'available', count: 3 },
      { queue: 'q', state: 'scheduled', count: 1 },
      { queue: 'q', state: 'retryable', count: 1 },
      { queue: 'q', state: 'running', count: 50 },
      { queue: 'q', state: 'completed', count: 1000 },
      { queue: 'other', state: 'available', count: 1000 },
    ]);
    const a = new Admission(driver, new Map([['q', 6]]), 250, () => 0);
    await a.admit('q', 't', 1);
    await assert.rejects(a.admit('q', 't', 1), (err: unknown) => overloaded(err) && (err as { details: { waiting: number } }).details.waiting === 6);
  });

  it("'*' bounds every queue not named; a named queue keeps its own bound", async () => {
    const { driver } = fakeDriver(() => [
      { queue: 'named', state: 'available', count: 5 },
      { queue: 'any', state: 'available', count: 2 },
    ]);
    const a = new Admission(driver, new Map([['named', 10], ['*', 2]]), 250, () => 0);
    assert.deepEqual([a.limitOf('named'), a.limitOf('any'), a.limitOf('never-seen')], [10, 2, 2]);
    await a.admit('named', 't', 5);
    await assert.rejects(a.admit('any', 't', 1), overloaded);
    await a.admit('never-seen', 't', 2);
    await assert.rejects(a.admit('never-seen', 't', 1), overloaded);
  });

  it('a queue without a bound reads nothing', async () => {
    const { driver, calls } = fakeDriver(() => []);
    const a = new Admission(driver, new Map(), 250, () => 0);
    await a.admit('q', 't', 1_000_000);
    assert.deepEqual(calls, { counts: 0, finished: 0 });
  });

  it('reads the counts at each refresh and the drain rate at most every 2 s, one drain read for every queue', async () => {
    let now = 0;
    const { driver, calls } = fakeDriver(() => [], () => [{ queue: 'a', count: 50 }]);
    const a = new Admission(driver, new Map([['a', 100], ['b', 100]]), 250, () => now);
    await Promise.all([a.admit('a', 't', 1), a.admit('b', 't', 1)]);
    assert.deepEqual(calls, { counts: 2, finished: 1 });
    now = 300;
    await a.admit('a', 't', 1);
    await a.admit('b', 't', 1);
    assert.deepEqual(calls, { counts: 4, finished: 1 }, 'the drain read of t=0 still serves');
    now = 2_100;
    await a.admit('a', 't', 1);
    assert.deepEqual(calls, { counts: 5, finished: 2 });
  });

  it('one client never passes the bound, however the refreshes of its queues interleave', async () => {
    // What the store holds: every admitted job is stored at once.
    const stored = new Map<string, number>();
    const { driver } = fakeDriver(() => [...stored].map(([queue, count]) => ({ queue, state: 'available' as const, count })));
    let now = 0;
    const a = new Admission(driver, new Map([['a', 1000], ['b', 60]]), 250, () => now);
    const admit = async (queue: string, n: number, at: number) => {
      now = at;
      try {
        await a.admit(queue, 't', n);
        stored.set(queue, (stored.get(queue) ?? 0) + n);
      } catch (err) {
        if (!overloaded(err)) throw err;
      }
    };
    await admit('a', 1, 0);
    await admit('b', 20, 100);
    await admit('a', 1, 260);
    await admit('b', 40, 300);
    await admit('b', 40, 350);
    await admit('b', 40, 700);
    assert.equal(stored.get('b'), 60);
  });

  it('a failed read fails the enqueue and is not kept: the next one reads again', async () => {
    let fail = true;
    const { driver, calls } = fakeDriver(() => {
      if (fail) throw new Error('store down');
      return [];
    });
    let now = 0;
    const a = new Admission(driver, new Map([['q', 10]]), 250, () => now);
    await assert.rejects(a.admit('q', 't', 1), /store down/);
    fail = false;
    now = 1;
    await a.admit('q', 't', 1);
    assert.equal(calls.counts, 2);
  });

  it('reserves what it admitted until the next read, and gives back what was not stored', async () => {
    const { driver } = fakeDriver(() => []);
    const a = new Admission(driver, new Map([['q', 3]]), 250, () => 0);
    await a.admit('q', 't', 2);
    await assert.rejects(a.admit('q', 't', 2), overloaded);
    a.release('q', 2);
    await a.admit('q', 't', 3);
  });
});
