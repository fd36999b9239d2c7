/**
 * offload on its PostgreSQL store, with the store's defaults (pool of 10, LISTEN/NOTIFY wake-ups).
 * Each state is a new schema, created by offload's own migrations on first use.
 */
import { PG_URL } from '../endpoints.ts';
import { offloadClient } from './offload-client.ts';
import { OFFLOAD_BUILD, postgresStore } from './offload-package.ts';
import { dropSchema, SCHEMA_PREFIX } from './pg-schema.ts';
import { freshName, type BenchSystem } from './system.ts';

export const offloadPostgres: BenchSystem = {
  name: 'offload-postgres',
  config: `postgres({ url, schema }) defaults (pool 10, LISTEN/NOTIFY); start({ concurrency }); enqueueMany for bulk; ${OFFLOAD_BUILD}`,
  completion: 'durable',
  pollBoundRate: () => null,
  async create() {
    return { schema: freshName(`${SCHEMA_PREFIX}offload`) };
  },
  async open(state) {
    return offloadClient(postgresStore.postgres({ url: PG_URL, schema: state['schema']! }));
  },
  async destroy(state) {
    await dropSchema(state['schema']!);
  },
};
