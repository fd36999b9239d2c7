/**
 * What only the SQLite store has: a store thread that opens the file, and a file other processes
 * lock. A failed open must fail the calls at hand with a clear error and be tried again by later
 * calls, not leave the store dead; a thread that dies fails only its own requests; a write waits
 * out another process's lock rather than fail with SQLITE_BUSY.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { isOffloadError } from '../src/index.ts';
import type { JobInsert } from '../src/storage/driver.ts';
import type { SqliteDriver } from '../src/storage/sqlite/driver.ts';
import { sqlite } from '../src/storage/sqlite/index.ts';

const job = (payload = '{}'): JobInsert => ({
  task: 't', queue: 'default', payload, priority: 0, maxAttempts: 1, timeoutMs: null, runAt: null, delayMs: 0, idempotencyKey: null, fingerprint: null, expiresAt: null, ttlMs: null, traceContext: null,
});

describe('sqlite store: opening the file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'offload-sqlite-open-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('fails with OFFLOAD_STORE while the file cannot be opened, and works once it can', async () => {
    // A folder where the database file should be: SQLite cannot open it.
    const path = join(dir, 'offload.db');
    mkdirSync(path);
    const store = sqlite({ path });
    try {
      for (let i = 0; i < 2; i++) {
        await assert.rejects(store.migrate(), (err: unknown) => {
          assert.ok(isOffloadError(err, 'OFFLOAD_STORE'), String(err));
          assert.match(err.message, /sqlite store: .*(unable to open|directory)/i);
          return true;
        });
      }
      rmSync(path, { recursive: true });
      await store.migrate();
      const [out] = await store.jobInsertMany({ jobs: [job()], atomic: true });
      assert.equal(out?.kind, 'created');
    } finally {
      await store.close();
    }
  });
});

describe('sqlite store: the store thread dies', () => {
  const dir = mkdtempSync(join(tmpdir(), 'offload-sqlite-crash-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('fails the requests it held, and not those already sent to the thread that replaced it', async () => {
    const store = sqlite({ path: join(dir, 'offload.db') }) as SqliteDriver;
    try {
      await store.migrate();
      await store.jobCounts();
      // The thread dies before it answers: the request fails (the thread's 'error'). The request
      // made as it fails goes to a new thread, and must not fail when the dead one then reports its exit.
      const later: { insert?: ReturnType<SqliteDriver['jobInsertMany']> } = {};
      await assert.rejects(
        store.testCrash().catch((err: unknown) => {
          later.insert = store.jobInsertMany({ jobs: [job('{"after":"crash"}')], atomic: true });
          throw err;
        }),
        (err: unknown) => isOffloadError(err, 'OFFLOAD_STORE') && /store thread stopped/.test(err.message),
      );
      assert.ok(later.insert !== undefined);
      const [out] = await later.insert;
      assert.equal(out?.kind, 'created');
      const counts = await store.jobCounts();
      assert.deepEqual(counts.map((c) => [c.state, c.count]), [['available', 1]]);
    } finally {
      await store.close();
    }
  });
});

describe('sqlite store: another process holds the write lock', () => {
  const dir = mkdtempSync(join(tmpdir(), 'offload-sqlite-busy-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('a write waits for the lock, even with no busy timeout, instead of failing with SQLITE_BUSY', async () => {
    const path = join(dir, 'offload.db');
    const store = sqlite({ path, busyTimeoutMs: 0 });
    const other = new Database(path);
    try {
      await store.migrate();
      other.exec('BEGIN IMMEDIATE');
      const insert = store.jobInsertMany({ jobs: [job('{"waited":true}')], atomic: true });
      let settled = false;
      void insert.then(
        () => (settled = true),
        () => (settled = true),
      );
      await new Promise((r) => setTimeout(r, 300));
      assert.equal(settled, false, 'the write must wait while the lock is held');
      other.exec('COMMIT');
      const [out] = await insert;
      assert.equal(out?.kind, 'created');
      assert.equal((other.prepare('SELECT count(*) AS n FROM offload_jobs').get() as { n: number }).n, 1);
    } finally {
      if (other.inTransaction) other.exec('ROLLBACK');
      other.close();
      await store.close();
    }
  });
});
