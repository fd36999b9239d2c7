/**
 * What only the SQLite store has: a store thread that opens the file. A failed open must fail the
 * calls at hand with a clear error and be tried again by later calls, not leave the store dead.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { isOffloadError } from '../src/index.ts';
import { sqlite } from '../src/storage/sqlite/index.ts';

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
      const [out] = await store.jobInsertMany({
        jobs: [
          { task: 't', queue: 'default', payload: '{}', priority: 0, maxAttempts: 1, timeoutMs: null, runAt: null, delayMs: 0, idempotencyKey: null, fingerprint: null, expiresAt: null, ttlMs: null, traceContext: null },
        ],
        atomic: true,
      });
      assert.equal(out?.kind, 'created');
    } finally {
      await store.close();
    }
  });
});
