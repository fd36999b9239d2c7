/**
 * Removes what killed runs left behind, found by the suite's own prefixes only: PostgreSQL schemas
 * `bench_*`, Redis keys of BullMQ queues `bench_*`, and SQLite directories `offload-bench-*` in the
 * temporary directory. A normal run drops its own state as it goes; this is for the abnormal ones.
 */
import { readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { REDIS_URL } from './endpoints.ts';
import { dropLeftoverSchemas } from './systems/pg-schema.ts';
import type { SystemName } from './systems/system.ts';

export async function dropLeftovers(systems: readonly SystemName[]): Promise<string[]> {
  const dropped: string[] = [];
  // Each store on its own: one that is down must not stop the others' cleanup (its runs will fail and say why).
  const attempt = async (what: string, drop: () => Promise<string[]>) => {
    try {
      dropped.push(...(await drop()));
    } catch (err) {
      console.error(`could not look for leftovers in ${what}: ${(err as Error).message}`);
    }
  };
  if (systems.some((s) => s === 'offload-postgres' || s === 'graphile-worker' || s === 'pg-boss')) {
    await attempt('PostgreSQL', async () => (await dropLeftoverSchemas()).map((s) => `schema ${s}`));
  }
  if (systems.includes('bullmq')) await attempt('Redis', dropRedisKeys);
  if (systems.includes('offload-sqlite')) await attempt('the temporary directory', dropSqliteDirs);
  return dropped;
}

async function dropSqliteDirs(): Promise<string[]> {
  const dropped: string[] = [];
  for (const entry of await readdir(tmpdir())) {
    if (!entry.startsWith('offload-bench-')) continue;
    await rm(join(tmpdir(), entry), { recursive: true, force: true });
    dropped.push(`directory ${entry}`);
  }
  return dropped;
}

async function dropRedisKeys(): Promise<string[]> {
  const redis = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await redis.connect();
    const queues = new Set<string>();
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', 'bull:bench_*', 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) await redis.unlink(...keys);
      for (const k of keys) queues.add(k.split(':')[1]!);
    } while (cursor !== '0');
    return [...queues].map((q) => `redis queue ${q}`);
  } finally {
    redis.disconnect();
  }
}
