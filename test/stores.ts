/**
 * Store factories for the test suites: every suite runs once per store. PostgreSQL tests use a
 * fresh schema each and drop it afterwards; SQLite tests a fresh file in a temporary folder.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';
import postgresjs from 'postgres';
import type { Driver } from '../src/storage/driver.ts';
import { postgres } from '../src/storage/postgres/index.ts';
import { sqlite } from '../src/storage/sqlite/index.ts';

export const PG_URL = process.env['OFFLOAD_TEST_PG_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test';

/** A database that several drivers (as several processes would) can open. */
export interface TestStore {
  name: 'sqlite' | 'postgres';
  /** A new driver on the same database, as another process would open it. */
  open(): Driver;
  /** The store spec a child process can use: `sqlite:PATH` or `postgres:URL#SCHEMA`. */
  spec: string;
  dispose(): Promise<void>;
}

let counter = 0;

export function sqliteTestStore(): TestStore {
  const dir = mkdtempSync(join(tmpdir(), 'offload-test-'));
  const path = join(dir, 'offload.db');
  const opened: Driver[] = [];
  return {
    name: 'sqlite',
    spec: `sqlite:${path}`,
    open() {
      const d = sqlite({ path, synchronous: 'normal' });
      opened.push(d);
      return d;
    },
    async dispose() {
      await Promise.all(opened.map((d) => d.close()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export function postgresTestStore(): TestStore {
  const schema = `offload_t${process.pid}_${++counter}_${Math.random().toString(36).slice(2, 8)}`;
  const opened: Driver[] = [];
  return {
    name: 'postgres',
    spec: `postgres:${PG_URL}#${schema}`,
    open() {
      const d = postgres({ url: PG_URL, schema, max: 4 });
      opened.push(d);
      return d;
    },
    async dispose() {
      await Promise.all(opened.map((d) => d.close()));
      const sql = postgresjs(PG_URL, { max: 1, onnotice: () => {} });
      await sql.unsafe(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await sql.end();
    },
  };
}

/**
 * For a describe block that reads a PostgreSQL test store with SQL of its own: the store, its
 * schema's name and a one-connection client, all closed and dropped after the block.
 */
export function postgresSqlFixture(): { store: TestStore; schema: string; sql: postgresjs.Sql } {
  const store = postgresTestStore();
  const schema = store.spec.slice(store.spec.indexOf('#') + 1);
  const sql = postgresjs(PG_URL, { max: 1, onnotice: () => {} });
  after(async () => {
    await sql.end();
    await store.dispose();
  });
  return { store, schema, sql };
}

/** Opens a store from a spec made by `TestStore.spec` (used by child processes). */
export function openSpec(spec: string): Driver {
  if (spec.startsWith('sqlite:')) return sqlite({ path: spec.slice('sqlite:'.length), synchronous: 'normal' });
  const [url, schema] = spec.slice('postgres:'.length).split('#') as [string, string];
  return postgres({ url, schema, max: 4 });
}

export const STORES: ReadonlyArray<() => TestStore> = [sqliteTestStore, postgresTestStore];
