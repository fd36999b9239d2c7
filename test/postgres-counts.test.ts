/**
 * PostgreSQL's kept job counts under what a single-connection driver suite never does: several
 * processes claiming and completing at once while others read (and so fold) the counts, and a
 * TRUNCATE, which fires none of the row or statement triggers.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Driver } from '../src/storage/driver.ts';
import { assertCountsMatchTable, completion, insert } from '../src/storage/drivertest/suite.ts';
import { postgresSqlFixture } from './stores.ts';

describe('postgres job counts', () => {
  const { store, schema, sql } = postgresSqlFixture();

  it('stay equal to the table while three processes claim and complete and two others fold', async () => {
    const drivers = [store.open(), store.open(), store.open(), store.open(), store.open()];
    await drivers[0]!.migrate();
    await drivers[0]!.jobInsertMany({ jobs: Array.from({ length: 600 }, (_, i) => insert({ queue: i % 2 ? 'odd' : 'default' })), atomic: false });
    const left = { workers: 3 };
    const work = async (d: Driver, i: number) => {
      try {
        for (;;) {
          const claimed = await d.jobClaim({ queues: ['default', 'odd'], tasks: ['t'], workerId: `w${i}`, leaseMs: 30_000, limit: 7 });
          if (claimed.length === 0) return;
          await d.jobCompleteMany({
            completions: claimed.map((c, k) =>
              completion(c.job.id, c.token, k % 3 === 0 ? { state: 'retryable', delayMs: 3_600_000, result: null } : {}),
            ),
          });
        }
      } finally {
        left.workers--;
      }
    };
    const read = async (d: Driver) => {
      let reads = 0;
      while (left.workers > 0) {
        await d.jobCounts();
        reads++;
      }
      return reads;
    };
    const [, , , r1, r2] = await Promise.all([work(drivers[0]!, 0), work(drivers[1]!, 1), work(drivers[2]!, 2), read(drivers[3]!), read(drivers[4]!)]);
    assert.ok(r1 + r2 > 2, 'the counts were read while the work went on');
    await assertCountsMatchTable(drivers[3]!);
    const byState = Object.fromEntries((await drivers[3]!.jobCounts()).map((c) => [`${c.queue}/${c.state}`, c.count]));
    assert.equal(byState['default/completed']! + byState['odd/completed']! + byState['default/retryable']! + byState['odd/retryable']!, 600);
  });

  it('a fold that fails fails neither the read nor the prune: the read sums the deltas', async () => {
    const d = store.open();
    await d.migrate();
    const q = `"${schema}"`;
    // Every fold now fails: deleting a delta raises.
    await sql.unsafe(`CREATE FUNCTION ${q}.no_fold() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'fold refused'; END $$`);
    await sql.unsafe(`CREATE TRIGGER no_fold BEFORE DELETE ON ${q}.job_count_deltas FOR EACH ROW EXECUTE FUNCTION ${q}.no_fold()`);
    try {
      await d.jobInsertMany({ jobs: [insert({ queue: 'unfolded' }), insert({ queue: 'unfolded' })], atomic: false });
      assert.deepEqual((await d.jobCounts()).filter((c) => c.queue === 'unfolded'), [{ queue: 'unfolded', state: 'available', count: 2 }]);
      const claimed = await d.jobClaim({ queues: ['unfolded'], tasks: ['t'], workerId: 'w', leaseMs: 30_000, limit: 2 });
      await d.jobCompleteMany({
        completions: claimed.map((c) => completion(c.job.id, c.token)),
      });
      assert.ok((await d.jobPrune({ completedMs: 0, cancelledMs: 0, discardedMs: 0, limit: 10_000 })) >= 2, 'the prune answers with what it deleted');
      assert.deepEqual((await d.jobCounts()).filter((c) => c.queue === 'unfolded'), []);
      assert.ok((await sql.unsafe(`SELECT count(*)::int AS n FROM ${q}.job_count_deltas`))[0]!['n'] > 0, 'the deltas are still there');
    } finally {
      await sql.unsafe(`DROP TRIGGER no_fold ON ${q}.job_count_deltas`);
    }
    await assertCountsMatchTable(d);
    assert.equal((await sql.unsafe(`SELECT count(*)::int AS n FROM ${q}.job_count_deltas`))[0]!['n'], 0, 'the next read folded them');
  });

  it('are emptied by a TRUNCATE of the jobs table, and count again from there', async () => {
    const d = store.open();
    await d.migrate();
    await sql.unsafe(`TRUNCATE "${schema}".jobs`);
    assert.deepEqual([...(await d.jobCounts())], []);
    await d.jobInsertMany({ jobs: [insert(), insert()], atomic: false });
    assert.deepEqual([...(await d.jobCounts())], [{ queue: 'default', state: 'available', count: 2 }]);
  });
});
