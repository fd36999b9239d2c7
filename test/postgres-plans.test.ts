/**
 * Plans of the PostgreSQL store's hot statements on a table of some 20k rows, a size a busy queue
 * reaches (finished jobs are retained), with fresh statistics as autovacuum leaves them. A plan is a
 * behaviour: the planner may switch at a size the tests never reach otherwise.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import postgresjs from 'postgres';
import { createOffload, defineTask } from '../src/index.ts';
import { pgQueries } from '../src/storage/postgres/queries.ts';
import { postgresTestStore, PG_URL } from './stores.ts';

interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  Plans?: PlanNode[];
}

function nodes(n: PlanNode): PlanNode[] {
  return [n, ...(n.Plans ?? []).flatMap(nodes)];
}

describe('postgres plans', () => {
  const store = postgresTestStore();
  const schema = store.spec.slice(store.spec.indexOf('#') + 1);
  const sql = postgresjs(PG_URL, { max: 1, onnotice: () => {} });

  before(async () => {
    const task = defineTask({ name: 'plans.noop', handler: () => {} });
    const o = createOffload({ store: store.open(), tasks: [task] });
    for (let i = 0; i < 20; i++) await o.enqueueMany(task, Array.from({ length: 1000 }, (_, k) => ({ k })));
    await o.close();
    await sql.unsafe(`VACUUM ANALYZE "${schema}".jobs`);
  });
  after(async () => {
    await sql.end();
    await store.dispose();
  });

  it('a claim leases its picks by primary key, not by a scan of the whole table', async () => {
    const q = pgQueries(`"${schema}"`, 'wake', 'cancel');
    // EXPLAIN without ANALYZE: the plan only, nothing is claimed.
    const [row] = await sql.unsafe(`EXPLAIN (FORMAT JSON) ${q.claim}`, [['default'], 175, 30_000, 'w1', ['plans.noop']]);
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
