/**
 * offload as the benchmark loads it: the built package (dist/, the JavaScript users install), which
 * the orchestrator builds before it measures anything (run.ts). Peers run as their published
 * JavaScript too; measuring offload through tsx instead would add the loader's per-function helpers
 * to every job and, for the SQLite store, a second tsx loader in its store thread (~35 MB RSS).
 *
 * `OFFLOAD_BENCH_FROM_SOURCE=1` loads the TypeScript source instead, to measure a change without a
 * build. The specifiers are computed so that type-checking never needs dist/ to exist.
 */
import type * as Api from '../../src/index.ts';
import type * as Postgres from '../../src/storage/postgres/index.ts';
import type * as Sqlite from '../../src/storage/sqlite/index.ts';
import { FROM_SOURCE_ENV } from './offload-build-mode.ts';

export const FROM_SOURCE = process.env[FROM_SOURCE_ENV] === '1';

/** How offload was loaded, for the configuration lines of the report. */
export const OFFLOAD_BUILD = FROM_SOURCE ? 'TypeScript source through tsx' : 'built package (dist/)';

function entry(source: string, built: string): string {
  return new URL(FROM_SOURCE ? source : built, import.meta.url).href;
}

export const api = (await import(entry('../../src/index.ts', '../../dist/index.js'))) as typeof Api;
export const sqliteStore = (await import(entry('../../src/storage/sqlite/index.ts', '../../dist/storage/sqlite/index.js'))) as typeof Sqlite;
export const postgresStore = (await import(entry('../../src/storage/postgres/index.ts', '../../dist/storage/postgres/index.js'))) as typeof Postgres;
