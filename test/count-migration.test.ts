/**
 * Migration 5 (job counts kept by triggers) on a store that already holds jobs: the counts start
 * from the table as it was, and writes made after the upgrade move them. Each store is brought to
 * migration 4 by hand, as a store made by an earlier version of offload would be.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import Database from 'better-sqlite3';
import postgresjs from 'postgres';
import type { Driver } from '../src/storage/driver.ts';
import { completion } from '../src/storage/drivertest/suite.ts';
import { postgres } from '../src/storage/postgres/index.ts';
import { POSTGRES_MIGRATIONS } from '../src/storage/postgres/migrations.ts';
import { sqlite } from '../src/storage/sqlite/index.ts';
import { SQLITE_MIGRATIONS } from '../src/storage/sqlite/migrations.ts';
import { PG_URL } from './stores.ts';

const BEFORE_COUNTS = 4;

/** Counts as the driver keeps them, by "queue/state". */
async function counts(d: Driver): Promise<Record<string, number>> {
  const pairs: Array<[string, number]> = (await d.jobCounts()).map((c) => [`${c.queue}/${c.state}`, c.count]);
  return Object.fromEntries(pairs);
}

/** Claims two jobs of queue a and completes one: the counts must follow. */
async function afterUpgrade(d: Driver): Promise<void> {
  const claimed = await d.jobClaim({ queues: ['a'], tasks: ['t'], workerId: 'w', leaseMs: 30_000, limit: 2 });
  assert.equal(claimed.length, 2);
  const c = claimed[0]!;
  await d.jobCompleteMany({ completions: [completion(c.job.id, c.token)] });
}

describe('job counts migration', () => {
  it('sqlite: counts the jobs already stored, then every later write', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'offload-counts-'));
    const path = join(dir, 'offload.db');
    const db = new Database(path);
    db.exec('CREATE TABLE offload_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)');
    for (const m of SQLITE_MIGRATIONS.filter((x) => x.version <= BEFORE_COUNTS)) {
      db.exec(m.sql);
      db.prepare('INSERT INTO offload_migrations (version, name, applied_at) VALUES (?, ?, ?)').run(m.version, m.name, Date.now());
    }
    const now = Date.now();
    const row = db.prepare(`INSERT INTO offload_jobs (task, queue, state, payload, priority, max_attempts, run_at, created_at, attempt, finished_at)
      VALUES ('t', ?, ?, '{}', 0, 3, ?, ?, 0, ?)`);
    for (const [queue, state, n] of [['a', 'available', 3], ['a', 'completed', 2], ['b', 'discarded', 1]] as const) {
      for (let i = 0; i < n; i++) row.run(queue, state, now, now, state === 'available' ? null : now);
    }
    db.close();
    const d = sqlite({ path, synchronous: 'normal' });
    try {
      await d.migrate();
      assert.deepEqual(await counts(d), { 'a/available': 3, 'a/completed': 2, 'b/discarded': 1 });
      await afterUpgrade(d);
      assert.deepEqual(await counts(d), { 'a/available': 1, 'a/completed': 3, 'a/running': 1, 'b/discarded': 1 });
    } finally {
      await d.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('postgres: counts the jobs already stored, then every later write', async () => {
    const schema = `offload_counts_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
    const sql = postgresjs(PG_URL, { max: 1, onnotice: () => {} });
    const q = `"${schema}"`;
    try {
      await sql.unsafe(`CREATE SCHEMA ${q}`);
      await sql.unsafe(`CREATE TABLE ${q}.migrations (version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`);
      for (const m of POSTGRES_MIGRATIONS.filter((x) => x.version <= BEFORE_COUNTS)) {
        await sql.unsafe(m.sql.replaceAll(':schema', q));
        await sql.unsafe(`INSERT INTO ${q}.migrations (version, name) VALUES ($1, $2)`, [m.version, m.name]);
      }
      for (const [queue, state, n] of [['a', 'available', 3], ['a', 'completed', 2], ['b', 'discarded', 1]] as const) {
        await sql.unsafe(
          `INSERT INTO ${q}.jobs (task, queue, state, payload, max_attempts, run_at, finished_at)
           SELECT 't', $1, $2, '{}'::jsonb, 3, now(), CASE WHEN $2 = 'available' THEN NULL ELSE now() END FROM generate_series(1, $3)`,
          [queue, state, n],
        );
      }
      const d = postgres({ url: PG_URL, schema, max: 2 });
      try {
        await d.migrate();
        assert.deepEqual(await counts(d), { 'a/available': 3, 'a/completed': 2, 'b/discarded': 1 });
        await afterUpgrade(d);
        assert.deepEqual(await counts(d), { 'a/available': 1, 'a/completed': 3, 'a/running': 1, 'b/discarded': 1 });
        // The read folded the deltas of those writes into job_counts.
        assert.deepEqual([...(await sql.unsafe(`SELECT count(*)::int AS n FROM ${q}.job_count_deltas`))], [{ n: 0 }]);
      } finally {
        await d.close();
      }
    } finally {
      await sql.unsafe(`DROP SCHEMA IF EXISTS ${q} CASCADE`);
      await sql.end();
    }
  });
});
