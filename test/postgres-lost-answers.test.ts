/**
 * PostgreSQL across a connection that drops at the worst moment: after the server committed a
 * statement and before its answer arrived. The test talks to the server through a TCP relay that
 * can swallow one answer and cut the connection, as a network failure would.
 */
import assert from 'node:assert/strict';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { isOffloadError } from '../src/index.ts';
import { insert } from '../src/storage/drivertest/suite.ts';
import { postgres } from '../src/storage/postgres/index.ts';
import { PG_URL, postgresSqlFixture } from './stores.ts';

/**
 * A relay to PostgreSQL. `cutAfterCommit()` arms it: the next answer on any connection that
 * reports an UPDATE is held back up to its ReadyForQuery (by then the server has committed it),
 * then never delivered, and both ends of that connection are closed.
 */
function relay(target: URL): { server: Server; port: () => number; cutAfterCommit: () => Promise<void> } {
  let armed: (() => void) | null = null;
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    const upstream = connect(Number(target.port || 5432), target.hostname);
    sockets.add(client).add(upstream);
    let held: Buffer | null = null;
    client.on('data', (d) => upstream.write(d));
    upstream.on('data', (d) => {
      if (held === null && (armed === null || !d.includes('UPDATE '))) {
        client.write(d);
        return;
      }
      held = held === null ? d : Buffer.concat([held, d]);
      // ReadyForQuery: 'Z', length 5, status. It follows the commit of the statement.
      const end = held.subarray(-6);
      if (end[0] !== 0x5a || end.readInt32BE(1) !== 5) return;
      const done = armed;
      armed = null;
      client.destroy();
      upstream.destroy();
      done?.();
    });
    const close = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', close).on('close', close);
    upstream.on('error', close).on('close', close);
  });
  server.on('close', () => {
    for (const s of sockets) s.destroy();
  });
  return {
    server,
    port: () => (server.address() as { port: number }).port,
    cutAfterCommit: () => new Promise<void>((resolve) => (armed = resolve)),
  };
}

describe('postgres: a claim whose answer is lost', () => {
  const { store, schema, sql } = postgresSqlFixture();
  const target = new URL(PG_URL);
  const r = relay(target);
  before(async () => {
    await new Promise<void>((resolve) => r.server.listen(0, '127.0.0.1', resolve));
    await store.open().migrate();
  });
  after(() => new Promise<void>((resolve) => r.server.close(() => resolve())));

  it('hands back the jobs it leased, attempt refunded, instead of leaving them to the rescuer', async () => {
    const url = new URL(PG_URL);
    url.port = String(r.port());
    const d = postgres({ url: url.href, schema, max: 1 });
    try {
      const [created] = await d.jobInsertMany({ jobs: [insert({ maxAttempts: 1 })], atomic: true });
      assert.ok(created !== undefined && created.kind === 'created');
      const id = created.job.id;
      const cut = r.cutAfterCommit();
      await assert.rejects(d.jobClaim({ queues: ['default'], tasks: ['t'], workerId: 'w1', leaseMs: 30_000, limit: 10 }), (err: unknown) => isOffloadError(err, 'OFFLOAD_STORE'));
      await cut;
      const rows = await sql.unsafe<Array<{ state: string; attempt: number; lease_token: string | null }>>(`SELECT state, attempt, lease_token FROM "${schema}".jobs WHERE id = $1`, [id]);
      assert.deepEqual(
        rows.map((row) => [row.state, row.attempt, row.lease_token]),
        [['available', 0, null]],
      );
      // Claimable again, with its one attempt intact.
      const again = await d.jobClaim({ queues: ['default'], tasks: ['t'], workerId: 'w1', leaseMs: 30_000, limit: 10 });
      assert.deepEqual(
        again.map((c) => [c.job.id, c.job.attempt]),
        [[id, 1]],
      );
    } finally {
      await d.close();
    }
  });
});
