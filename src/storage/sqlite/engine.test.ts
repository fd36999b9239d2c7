import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import type { JobInsert } from '../driver.ts';
import Database from 'better-sqlite3';
import { SqliteEngine, TEXT_COLUMNS } from './engine.ts';
import { ROW_COLUMNS } from './rows.ts';

function insert(payload: string): JobInsert {
  return { task: 't', queue: 'default', payload, priority: 0, maxAttempts: 3, timeoutMs: null, runAt: null, delayMs: 0, idempotencyKey: null, fingerprint: null, expiresAt: null, ttlMs: null, traceContext: null };
}

const at = (c: (typeof ROW_COLUMNS)[number]) => ROW_COLUMNS.indexOf(c);

describe('sqlite engine: claimed rows on the wire', () => {
  const dir = mkdtempSync(join(tmpdir(), 'offload-engine-'));
  const e = new SqliteEngine({ path: join(dir, 'offload.db'), busyTimeoutMs: 5000, synchronous: 'normal' });
  e.migrate();
  after(() => {
    e.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('a row crosses as JSON text, and one past 32 MiB of text as its values, in claim order', () => {
    const big = JSON.stringify({ blob: 'x'.repeat(33 * 1024 * 1024) });
    e.jobInsertMany({ jobs: [insert('{"n":1}'), insert(big), insert('{"n":3}')], atomic: false });
    const wire = e.jobClaim({ queues: ['default'], tasks: ['t'], limit: 10, leaseMs: 30_000, workerId: 'w1' });
    assert.deepEqual(
      wire.map((w) => typeof w),
      ['string', 'object', 'string'],
    );
    const [first, second, third] = [JSON.parse(wire[0] as string) as unknown[], wire[1] as unknown[], JSON.parse(wire[2] as string) as unknown[]];
    for (const row of [first, second, third]) assert.equal(row.length, ROW_COLUMNS.length);
    assert.deepEqual([first[at('payload')], second[at('payload')], third[at('payload')]], ['{"n":1}', big, '{"n":3}']);
    assert.deepEqual([first[at('state')], second[at('state')], third[at('state')]], ['running', 'running', 'running']);
  });

  it('sizes a row by every text column it has', () => {
    const db = new Database(join(dir, 'offload.db'), { readonly: true });
    const text = (db.prepare('PRAGMA table_info(offload_jobs)').all() as Array<{ name: string; type: string }>).filter((c) => c.type === 'TEXT').map((c) => c.name);
    db.close();
    assert.deepEqual(text.filter((c) => (ROW_COLUMNS as readonly string[]).includes(c)).toSorted(), [...TEXT_COLUMNS].toSorted());
  });
});
