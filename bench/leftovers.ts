/**
 * Removes what killed runs left behind, found by the suite's own prefixes only: PostgreSQL schemas
 * `bench_*`, Redis keys of BullMQ queues `bench_*`, and SQLite directories `offload-bench-XXXXXX`
 * (mkdtemp's six characters: not `offload-bench-api-*`, which bench/api makes) in the temporary
 * directory. A normal run drops its own state as it goes; this is for the abnormal ones.
 *
 * Only state older than LEFTOVER_AGE_MS is removed: on a shared machine a younger one may belong to
 * a run going on right now. Schema and queue names carry their creation time (freshName); a
 * directory's age is that of its newest entry.
 */
import { readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { REDIS_URL } from './endpoints.ts';
import { dropLeftoverSchemas } from './systems/pg-schema.ts';
import { freshNameTime, type SystemName } from './systems/system.ts';

/** A system's run is killed after 5 minutes at most, so state three times that old is no run's. */
export const LEFTOVER_AGE_MS = 15 * 60_000;
const SQLITE_DIR = /^offload-bench-[A-Za-z0-9]{6}$/;

/** Whether state made at `madeAt` (null: unknown, made by an older suite) is old enough to remove. */
export function isLeftover(madeAt: number | null, now: number): boolean {
  return madeAt === null || now - madeAt >= LEFTOVER_AGE_MS;
}

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
    await attempt('PostgreSQL', async () => (await dropLeftoverSchemas((name) => isLeftover(freshNameTime(name), Date.now()))).map((s) => `schema ${s}`));
  }
  if (systems.includes('bullmq')) await attempt('Redis', dropRedisKeys);
  if (systems.includes('offload-sqlite')) await attempt('the temporary directory', dropSqliteDirs);
  return dropped;
}

async function dropSqliteDirs(): Promise<string[]> {
  const dropped: string[] = [];
  for (const entry of await readdir(tmpdir())) {
    if (!SQLITE_DIR.test(entry)) continue;
    const dir = join(tmpdir(), entry);
    if (!isLeftover(await newestChange(dir), Date.now())) continue;
    await rm(dir, { recursive: true, force: true });
    dropped.push(`directory ${entry}`);
  }
  return dropped;
}

/** The latest modification time of a directory and its entries (a live database file is written constantly). */
async function newestChange(dir: string): Promise<number> {
  let newest = (await stat(dir)).mtimeMs;
  for (const entry of await readdir(dir)) {
    try {
      newest = Math.max(newest, (await stat(join(dir, entry))).mtimeMs);
    } catch {
      // Removed meanwhile (a WAL checkpoint): it no longer counts.
    }
  }
  return newest;
}

async function dropRedisKeys(): Promise<string[]> {
  const redis = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await redis.connect();
    const queues = new Set<string>();
    let cursor = '0';
    do {
      const [next, found] = await redis.scan(cursor, 'MATCH', 'bull:bench_*', 'COUNT', 1000);
      cursor = next;
      const keys = found.filter((k) => isLeftover(freshNameTime(k.split(':')[1]!), Date.now()));
      if (keys.length > 0) await redis.unlink(...keys);
      for (const k of keys) queues.add(k.split(':')[1]!);
    } while (cursor !== '0');
    return [...queues].map((q) => `redis queue ${q}`);
  } finally {
    redis.disconnect();
  }
}
