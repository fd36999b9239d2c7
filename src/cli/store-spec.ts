/**
 * Store specs on the command line (`--store` or `OFFLOAD_STORE`): the one place where the
 * concrete drivers are chosen.
 *
 *   sqlite:PATH                              an SQLite file (relative to the working directory)
 *   postgres://user@host:5432/db             PostgreSQL (also postgresql://), schema `offload`
 *   postgres://user@host/db?schema=jobs      the same, another schema
 */
import { resolve } from 'node:path';
import { isOffloadError, type OffloadOptions } from '../index.ts';
import { postgres } from '../storage/postgres/index.ts';
import { sqlite } from '../storage/sqlite/index.ts';
import { FatalError, UsageError } from './usage-error.ts';

export const DEFAULT_STORE = 'sqlite:.offload/offload.db';

/** The spec with any password replaced, for messages and logs. */
export function redactStoreSpec(spec: string): string {
  if (!/^postgres(ql)?:\/\//.test(spec)) return spec;
  try {
    const url = new URL(spec);
    if (url.password !== '') url.password = '***';
    return url.toString();
  } catch {
    return 'postgres://(unparsable)';
  }
}

function open(make: () => OffloadOptions['store'], spec: string): OffloadOptions['store'] {
  try {
    return make();
  } catch (err) {
    if (isOffloadError(err, 'OFFLOAD_INVALID_OPTIONS')) throw new UsageError(`--store ${redactStoreSpec(spec)}: ${err.message}`);
    // sqlite() creates the file's folder: a path that cannot be written is the machine's problem.
    throw new FatalError(`cannot open the store ${redactStoreSpec(spec)}: ${(err as Error).message}`, { cause: err });
  }
}

/** Opens the store a spec names; a spec that names none is a usage error. */
export function openStore(spec: string, cwd: string): OffloadOptions['store'] {
  if (spec.startsWith('sqlite:')) {
    const path = spec.slice('sqlite:'.length);
    if (path === '') throw new UsageError('--store sqlite:PATH needs a path, e.g. sqlite:.offload/offload.db');
    return open(() => sqlite({ path: resolve(cwd, path) }), spec);
  }
  if (/^postgres(ql)?:\/\//.test(spec)) {
    let url: URL;
    try {
      url = new URL(spec);
    } catch {
      throw new UsageError(`--store: not a valid URL: ${redactStoreSpec(spec)}`);
    }
    const schema = url.searchParams.get('schema');
    // Ours, not the server's: postgres.js would send unknown parameters as connection settings.
    url.searchParams.delete('schema');
    return open(() => postgres({ url: url.toString(), ...(schema === null ? {} : { schema }) }), spec);
  }
  throw new UsageError(`--store must be sqlite:PATH or a postgres:// URL, got '${redactStoreSpec(spec)}'`);
}
