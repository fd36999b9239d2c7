/**
 * Fresh PostgreSQL schemas for the systems that live in PostgreSQL. Every schema the suite makes is
 * named `bench_<system>_<id>`, so leftovers of a killed run can be found and dropped by prefix
 * without touching anything else in the database.
 */
import postgresjs, { type Sql } from 'postgres';
import { PG_URL } from '../endpoints.ts';

export const SCHEMA_PREFIX = 'bench_';

async function withAdmin<T>(fn: (sql: Sql) => Promise<T>): Promise<T> {
  const sql = postgresjs(PG_URL, { max: 1, onnotice: () => {}, connect_timeout: 10 });
  try {
    return await fn(sql);
  } finally {
    await sql.end({ timeout: 5 });
  }
}

export function dropSchema(schema: string): Promise<void> {
  return withAdmin(async (sql) => {
    await sql.unsafe(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  });
}

/** Drops the schemas of the suite's prefix that `isLeftover` accepts (by name); returns their names. */
export function dropLeftoverSchemas(isLeftover: (name: string) => boolean): Promise<string[]> {
  return withAdmin(async (sql) => {
    const rows = await sql<Array<{ name: string }>>`SELECT nspname AS name FROM pg_namespace WHERE nspname LIKE ${`${SCHEMA_PREFIX}%`}`;
    const names = rows.map((r) => r.name).filter(isLeftover);
    for (const name of names) await sql.unsafe(`DROP SCHEMA IF EXISTS "${name}" CASCADE`);
    return names;
  });
}

/** Server version and the settings that decide what a commit costs, for the report. */
export function postgresFacts(): Promise<Record<string, string>> {
  return withAdmin(async (sql) => {
    const [v] = await sql<Array<{ v: string }>>`SELECT current_setting('server_version') AS v`;
    const facts: Record<string, string> = { version: v!.v };
    for (const name of ['fsync', 'synchronous_commit', 'shared_buffers', 'max_connections']) {
      const [r] = await sql<Array<{ s: string }>>`SELECT current_setting(${name}) AS s`;
      facts[name] = r!.s;
    }
    return facts;
  });
}
