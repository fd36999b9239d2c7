/**
 * The facts a reader needs to judge the numbers: machine, versions, and what a commit costs in each
 * store (PostgreSQL's fsync and synchronous_commit, Redis's persistence, SQLite's synchronous mode).
 * A fact that cannot be read is reported as the error, not left out.
 */
import { execFileSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { cpus, loadavg, totalmem, release, platform } from 'node:os';
import { Redis } from 'ioredis';
import { REDIS_URL } from './endpoints.ts';
import { postgresFacts } from './systems/pg-schema.ts';
import type { SystemName } from './systems/system.ts';

const ROOT = new URL('../', import.meta.url);
const PACKAGES = ['bullmq', 'ioredis', 'graphile-worker', 'pg-boss', 'pg', 'better-sqlite3', 'postgres', 'tsx'];

export type Facts = Record<string, Record<string, string>>;

export async function environmentFacts(systems: readonly SystemName[]): Promise<Facts> {
  const facts: Facts = {
    machine: {
      node: process.version,
      os: `${platform()} ${release()}`,
      cpu: `${cpus().length} x ${cpus()[0]?.model ?? '?'}`,
      memoryGiB: (totalmem() / 2 ** 30).toFixed(1),
      // Other processes compete for the cores: what was running when the suite started.
      loadAverage: loadavg().map((l) => l.toFixed(2)).join(' '),
    },
    offload: { version: await packageVersion(''), commit: gitCommit() },
    packages: Object.fromEntries(await Promise.all(PACKAGES.map(async (p) => [p, await packageVersion(`node_modules/${p}/`)] as const))),
  };
  if (systems.some((s) => s !== 'bullmq' && s !== 'offload-sqlite')) facts['postgres'] = await attempt(postgresFacts);
  if (systems.includes('bullmq')) facts['redis'] = await attempt(redisFacts);
  if (systems.includes('offload-sqlite')) facts['sqlite'] = { synchronous: 'FULL (offload default)', journal_mode: 'WAL' };
  return facts;
}

async function attempt(read: () => Promise<Record<string, string>>): Promise<Record<string, string>> {
  try {
    return await read();
  } catch (err) {
    return { error: (err as Error).message };
  }
}

async function packageVersion(dir: string): Promise<string> {
  try {
    return (JSON.parse(await readFile(new URL(`${dir}package.json`, ROOT), 'utf8')) as { version: string }).version;
  } catch {
    return 'not installed';
  }
}

function gitCommit(): string {
  try {
    const sha = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--', 'src'], { cwd: ROOT, encoding: 'utf8' }).trim() !== '';
    return dirty ? `${sha} (src/ modified)` : sha;
  } catch {
    return 'unknown';
  }
}

async function redisFacts(): Promise<Record<string, string>> {
  const redis = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await redis.connect();
    const info = await redis.info();
    const field = (name: string) => new RegExp(`^${name}:(.*)$`, 'm').exec(info)?.[1]?.trim() ?? '?';
    const config = async (name: string) => (await redis.config('GET', name))[1] ?? '?';
    return {
      version: field('redis_version'),
      appendonly: field('aof_enabled') === '1' ? 'yes' : 'no',
      appendfsync: await config('appendfsync'),
      save: (await config('save')) || '(none)',
    };
  } finally {
    redis.disconnect();
  }
}
