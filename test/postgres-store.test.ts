/**
 * What only the PostgreSQL store has: a connection URL, and a schema name that must fit
 * PostgreSQL's 63-byte names together with the notification channels made from it.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import postgresjs from 'postgres';
import { createOffload, defineTask, isOffloadError } from '../src/index.ts';
import { MAX_SCHEMA_LENGTH, postgres } from '../src/storage/postgres/index.ts';
import { silent } from './e2e/helpers.ts';
import { PG_URL } from './stores.ts';

describe('postgres store: the schema name', () => {
  const schema = `offload_long_${process.pid}_`.padEnd(MAX_SCHEMA_LENGTH, 'x');
  after(async () => {
    const sql = postgresjs(PG_URL, { max: 1, onnotice: () => {} });
    await sql.unsafe(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await sql.end();
  });

  it("a malformed connection URL is the caller's mistake: OFFLOAD_INVALID_OPTIONS", () => {
    assert.throws(
      () => postgres({ url: 'postgres://%zz@127.0.0.1/x' }),
      (err: unknown) => isOffloadError(err, 'OFFLOAD_INVALID_OPTIONS') && /not a valid connection URL/.test(err.message),
    );
  });

  it('refuses one too long for its notification channels, with the limit', () => {
    assert.throws(
      () => postgres({ url: PG_URL, schema: `${schema}y` }),
      (err: unknown) => isOffloadError(err, 'OFFLOAD_INVALID_OPTIONS') && new RegExp(`at most ${MAX_SCHEMA_LENGTH} characters`).test(err.message),
    );
  });

  it('at the longest, wakes a worker of another client by NOTIFY and cancels across clients', { timeout: 30_000 }, async () => {
    assert.equal(schema.length, 48);
    const t = defineTask({
      name: 'long.schema',
      handler: (_p: unknown, ctx) => new Promise<void>((resolve) => ctx.signal.addEventListener('abort', () => resolve())),
    });
    // A poll a minute apart: only the NOTIFY of the other client's enqueue can start the job in time.
    const worker = createOffload({ store: postgres({ url: PG_URL, schema }), tasks: [t], logger: silent, pollMs: 60_000 });
    const other = createOffload({ store: postgres({ url: PG_URL, schema }), tasks: [t], logger: silent });
    try {
      await worker.start();
      const { job } = await other.enqueue(t, {});
      for (let i = 0; i < 200 && (await other.jobs.get(job.id))?.state !== 'running'; i++) await new Promise((r) => setTimeout(r, 50));
      assert.equal((await other.jobs.get(job.id))?.state, 'running');
      // The cancel request reaches the worker by the cancel channel, the longer of the two.
      await other.jobs.cancel(job.id, 'from the other client');
      const done = await other.jobs.waitFor(job.id, { timeoutMs: 10_000 });
      assert.deepEqual([done.state, done.cancelReason], ['cancelled', 'from the other client']);
    } finally {
      await worker.close({ graceMs: 0 });
      await other.close();
    }
  });
});
