/**
 * `offload/sqlite`: the embedded store. Zero infrastructure: one file, any number of worker
 * processes on the same machine.
 */
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { checkKeys, intOption, oneOf } from '../../core/options.ts';
import { OffloadError } from '../../errors.ts';
import type { Driver } from '../driver.ts';
import { SqliteDriver } from './driver.ts';

export interface SqliteStoreOptions {
  /** Database file; its folder is created. Default `.offload/offload.db`. `:memory:` is refused (a store thread has its own memory). */
  path?: string;
  /**
   * How long one try of a write waits in SQLite's busy handler for another process's lock. Default
   * 5000. A write keeps trying, with a growing pause, for 30 s (or this, if longer) before it fails
   * with OFFLOAD_STORE: SQLITE_BUSY does not reach callers sooner.
   */
  busyTimeoutMs?: number;
  /** `full` (default) survives power loss; `normal` only process crashes, and is faster. */
  synchronous?: 'full' | 'normal';
}

/**
 * The embedded SQLite store.
 * @example
 * const offload = createOffload({ store: sqlite({ path: '.offload/offload.db' }), tasks: [resize] })
 */
export function sqlite(options: SqliteStoreOptions = {}): Driver {
  const o = checkKeys(options, ['path', 'busyTimeoutMs', 'synchronous'], 'sqlite()');
  const raw = o['path'] ?? '.offload/offload.db';
  if (typeof raw !== 'string' || raw.length === 0) throw new OffloadError('OFFLOAD_INVALID_OPTIONS', 'sqlite(): path must be a non-empty string');
  if (raw === ':memory:' || raw.startsWith('file::memory:')) {
    throw new OffloadError('OFFLOAD_INVALID_OPTIONS', 'sqlite(): an in-memory database cannot be shared with the store thread; use a file path (a temporary directory in tests)');
  }
  const path = resolve(raw);
  mkdirSync(dirname(path), { recursive: true });
  return new SqliteDriver({
    path,
    busyTimeoutMs: intOption(o['busyTimeoutMs'], 'sqlite(): busyTimeoutMs', 0, 600_000, 5000),
    synchronous: oneOf(o['synchronous'], 'sqlite(): synchronous', ['full', 'normal'], 'full'),
  });
}
