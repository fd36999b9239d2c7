import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import type { JobInsert } from '../driver.ts';
import { SqliteEngine } from './engine.ts';
import type { StoreRequest, StoreResponse } from './protocol.ts';
import { ROW_COLUMNS } from './rows.ts';
import { runBatch } from './store-batch.ts';

function insert(payload: string): JobInsert {
  return { task: 't', queue: 'default', payload, priority: 0, maxAttempts: 3, timeoutMs: null, runAt: null, delayMs: 0, idempotencyKey: null, fingerprint: null, expiresAt: null, ttlMs: null, traceContext: null };
}

describe('sqlite store thread: group commit', () => {
  const dir = mkdtempSync(join(tmpdir(), 'offload-batch-'));
  const path = join(dir, 'offload.db');
  const e = new SqliteEngine({ path, busyTimeoutMs: 5000, synchronous: 'normal' });
  e.migrate();
  after(() => {
    e.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const run = (batch: StoreRequest[]): StoreResponse[] => {
    const out: StoreResponse[] = [];
    runBatch(e, batch, (res) => out.push(res));
    return out;
  };
  const rows = (payload: string): number => {
    const db = new Database(path, { readonly: true });
    try {
      return (db.prepare('SELECT count(*) AS n FROM offload_jobs WHERE payload = ?').get(payload) as { n: number }).n;
    } finally {
      db.close();
    }
  };

  it('a request whose failure rolls back the whole transaction (a full disk) commits nothing twice', () => {
    e.jobInsertMany({ jobs: [insert('{"n":0}')], atomic: true });
    const [claimed] = e.jobClaim({ queues: ['default'], tasks: ['t'], limit: 1, leaseMs: 30_000, workerId: 'w' });
    const job = JSON.parse(claimed as string) as unknown[];
    const [id, token] = [String(job[ROW_COLUMNS.indexOf('id')]), String(job[ROW_COLUMNS.indexOf('lease_token')])];
    // Room for the two small enqueues, not for 2 MB of progress.
    e.testCapPages({ extraPages: 64 });
    try {
      const out = run([
        { id: 1, method: 'jobInsertMany', params: { jobs: [insert('{"n":"before"}')], atomic: true } },
        { id: 2, method: 'jobProgress', params: { id, token, progress: JSON.stringify('x'.repeat(2 * 1024 * 1024)) } },
        { id: 3, method: 'jobInsertMany', params: { jobs: [insert('{"n":"after"}')], atomic: true } },
      ]);
      assert.deepEqual(
        out.map((r) => [r.id, r.ok]),
        [
          [1, true],
          [2, false],
          [3, true],
        ],
      );
      assert.match(JSON.stringify(out[1]), /full/i);
      assert.equal(rows('{"n":"before"}'), 1);
      assert.equal(rows('{"n":"after"}'), 1);
    } finally {
      e.testCapPages({ extraPages: null });
    }
  });

  it('a request that fails on its own rolls back alone, and the group commits the rest', () => {
    const out = run([
      { id: 1, method: 'jobInsertMany', params: { jobs: [insert('{"g":1}')], atomic: true } },
      // A job without a task breaks a NOT NULL constraint: that statement's savepoint rolls back.
      { id: 2, method: 'jobInsertMany', params: { jobs: [{ ...insert('{"g":2}'), task: null }], atomic: true } },
      { id: 3, method: 'jobInsertMany', params: { jobs: [insert('{"g":3}')], atomic: true } },
    ]);
    assert.deepEqual(
      out.map((r) => r.id),
      [1, 2, 3],
    );
    assert.deepEqual(
      out.map((r) => r.ok),
      [true, false, true],
    );
    assert.match(JSON.stringify(out[1]), /NOT NULL/);
    assert.equal(rows('{"g":2}'), 0);
    assert.equal(rows('{"g":1}'), 1);
    assert.equal(rows('{"g":3}'), 1);
  });
});
