/**
 * offload on its embedded SQLite store, with the store's defaults (synchronous = FULL: every commit
 * is fsynced). Each state is a new database file in a new temporary directory on the same disk as
 * PostgreSQL's data, so both pay for real fsyncs.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OFFLOAD_LOOP_WAYS, offloadClient } from './offload-client.ts';
import { FROM_SOURCE, OFFLOAD_BUILD, sqliteStore } from './offload-package.ts';
import type { BenchSystem } from './system.ts';

export const offloadSqlite: BenchSystem = {
  name: 'offload-sqlite',
  config: `sqlite({ path }) defaults (WAL, synchronous FULL); start({ concurrency }); enqueueMany for bulk; ${OFFLOAD_BUILD}`,
  completion: 'durable',
  pollBoundRate: () => null,
  // Run from TypeScript source, the store thread registers tsx again, and on Node 20 that starts one
  // more loader thread. A built package (dist/), what the bench loads by default, has neither.
  ...(FROM_SOURCE ? { rssNote: 'from source, the SQLite store thread loads its own tsx (an extra loader thread); built, it does not' } : {}),
  // The loop scenario runs offload on this store only: one store is enough to show where the CPU
  // job runs, and SQLite has no database server competing with the job for the 2 cores.
  loopWays: OFFLOAD_LOOP_WAYS,
  async create() {
    const dir = await mkdtemp(join(tmpdir(), 'offload-bench-'));
    return { dir, path: join(dir, 'offload.db') };
  },
  async open(state, job) {
    return offloadClient(sqliteStore.sqlite({ path: state['path']! }), job);
  },
  async destroy(state) {
    await rm(state['dir']!, { recursive: true, force: true });
  },
};
