/**
 * Plans of the PostgreSQL store's hot statements on a table of some 20k rows, a size a busy queue
 * reaches (finished jobs are retained), with fresh statistics as autovacuum leaves them. A plan is a
 * behaviour: the planner may switch at a size the tests never reach otherwise.
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { createOffload, defineTask } from '../src/index.ts';
import { pgQueries } from '../src/storage/postgres/queries.ts';
import { insert } from '../src/storage/drivertest/suite.ts';
import { postgresSqlFixture } from './stores.ts';

interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  'Actual Rows'?: number;
  'Temp Read Blocks'?: number;
  'Temp Written Blocks'?: number;
  Plans?: PlanNode[];
}

function nodes(n: PlanNode): PlanNode[] {
  return [n, ...(n.Plans ?? []).flatMap(nodes)];
}

describe('postgres plans', () => {
  const { store, schema, sql } = postgresSqlFixture();

  before(async () => {
    const task = defineTask({ name: 'plans.noop', handler: () => {} });
    const o = createOffload({ store: store.open(), tasks: [task] });
    for (let i = 0; i < 20; i++) await o.enqueueMany(task, Array.from({ length: 1000 }, (_, k) => ({ k })));
    await o.close();
    await sql.unsafe(`VACUUM ANALYZE "${schema}".jobs`);
  });

  it('a claim leases its picks by primary key, not by a scan of the whole table', async () => {
    const q = pgQueries(`"${schema}"`, 'wake', 'cancel');
    // EXPLAIN without ANALYZE: the plan only, nothing is claimed.
    const [row] = await sql.unsafe(`EXPLAIN (FORMAT JSON) ${q.claim}`, [['default'], 175, 30_000, 'w1', ['plans.noop'], 'p:']);
    const plan = (row!['QUERY PLAN'] as Array<{ Plan: PlanNode }>)[0]!.Plan;
    const scans = nodes(plan).filter((n) => n['Relation Name'] === 'jobs');
    assert.ok(scans.length > 0, 'the plan reads the jobs table');
    assert.deepEqual(
      scans.filter((n) => n['Node Type'] === 'Seq Scan'),
      [],
      `no sequential scan of jobs: ${scans.map((n) => n['Node Type']).join(', ')}`,
    );
  });
});

describe('postgres plans before statistics', () => {
  // A fresh table, never analyzed: the planner guesses, as it does on a new install before
  // autovacuum has looked at the table.
  const { store, schema, sql } = postgresSqlFixture();

  it('completing a job with a big result beside many running jobs reads no temp files', async () => {
    const d = store.open();
    await d.migrate();
    await d.jobInsertMany({ jobs: Array.from({ length: 300 }, () => insert()), atomic: true });
    const claimed = await d.jobClaim({ queues: ['default'], tasks: ['t'], limit: 300, workerId: 'w1', leaseMs: 60_000 });
    assert.equal(claimed.length, 300);
    const done = claimed.slice(0, 3);
    // 8 MiB, twice the default work_mem: a value that large inside the joined rows spills them.
    const big = JSON.stringify({ blob: 'x'.repeat(8 * 2 ** 20) });
    const q = pgQueries(`"${schema}"`, 'wake', 'cancel');
    const plan = await sql
      .begin(async (tx) => {
        const [row] = await tx.unsafe(`EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) ${q.completeOk}`, [
          done.map((c) => c.job.id),
          done.map((c) => c.token),
          [big, '{"ok":1}', '{"ok":2}'],
        ]);
        throw Object.assign(new Error('roll back'), { plan: (row!['QUERY PLAN'] as Array<{ Plan: PlanNode }>)[0]!.Plan });
      })
      .catch((e: { plan?: PlanNode }) => {
        if (e.plan === undefined) throw e;
        return e.plan;
      });
    assert.equal(plan['Actual Rows'], 3, 'the three completions applied');
    // Below the update itself: the join that finds the rows. (The update writes the new rows once
    // to the counts trigger's transition table, which may spill; that is one pass, not one a row.)
    const join = (plan.Plans ?? []).flatMap(nodes);
    const temp = join.reduce((n, p) => n + (p['Temp Read Blocks'] ?? 0) + (p['Temp Written Blocks'] ?? 0), 0);
    assert.equal(temp, 0, `the join read or wrote ${temp} temp blocks: ${join.map((p) => p['Node Type']).join(', ')}`);
  });
});
