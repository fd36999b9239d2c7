/**
 * enqueueMany is one transaction however many jobs it carries: a database error on its last row
 * leaves none of them stored. The error comes from a trigger that refuses one payload, as a
 * constraint or a full disk would refuse a row, after thousands of rows were inserted before it.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import Database from 'better-sqlite3';
import postgresjs from 'postgres';
import { defineTask, isOffloadError } from '../src/index.ts';
import { client, storeLifecycle } from './e2e/helpers.ts';
import { PG_URL, STORES, type TestStore } from './stores.ts';

/** Makes the store's database refuse any job whose payload has `"refuse": true`. */
async function refuseMarked(store: TestStore): Promise<void> {
  if (store.name === 'sqlite') {
    const db = new Database(store.spec.slice('sqlite:'.length));
    db.exec(`CREATE TRIGGER refuse_marked BEFORE INSERT ON offload_jobs WHEN json_extract(NEW.payload, '$.refuse') = 1
      BEGIN SELECT RAISE(ABORT, 'refused by a test trigger'); END`);
    db.close();
    return;
  }
  const schema = store.spec.slice(store.spec.indexOf('#') + 1);
  const sql = postgresjs(PG_URL, { max: 1, onnotice: () => {} });
  try {
    await sql.unsafe(`CREATE FUNCTION "${schema}".refuse_marked() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN IF NEW.payload ->> 'refuse' = 'true' THEN RAISE EXCEPTION 'refused by a test trigger'; END IF; RETURN NEW; END $$`);
    await sql.unsafe(`CREATE TRIGGER refuse_marked BEFORE INSERT ON "${schema}".jobs FOR EACH ROW EXECUTE FUNCTION "${schema}".refuse_marked()`);
  } finally {
    await sql.end();
  }
}

for (const make of STORES) {
  const store = make();
  describe(`enqueueMany: ${store.name}`, () => {
    const { use, name } = storeLifecycle(store);

    it('stores all of its jobs or none, past any statement size: a refused last row leaves none', { timeout: 60_000 }, async () => {
      const t = defineTask({ name: name('many'), handler: () => null });
      const o = use(client(store, { tasks: [t] }));
      await o.migrate();
      await refuseMarked(store);
      const payloads = Array.from({ length: 12_001 }, (_, n) => ({ n, refuse: n === 12_000 }));
      await assert.rejects(o.enqueueMany(t, payloads), (err: unknown) => isOffloadError(err, 'OFFLOAD_STORE') && /refused by a test trigger/.test(err.message));
      assert.equal((await o.jobs.list({ task: t.name, limit: 10 })).jobs.length, 0);
      // Without the refused row, every job is stored.
      const stored = await o.enqueueMany(t, payloads.slice(0, 12_000));
      assert.equal(stored.length, 12_000);
      assert.deepEqual(await o.jobs.count({ task: t.name }, { upTo: 20_000 }), { count: 12_000, capped: false });
    });
  });
}
