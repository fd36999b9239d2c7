/**
 * Opening a client for a command: the store named by `--store`, else `OFFLOAD_STORE`, else the
 * default SQLite file; migrations applied, which is also the check that the store answers. A
 * store that cannot be reached ends the command with exit 1 and a message naming it (password
 * hidden); options the client refuses are the user's mistake (exit 2).
 */
import { createOffload, isOffloadError, type Logger, type Offload, type OffloadOptions } from '../../index.ts';
import type { CliIo } from '../io.ts';
import { DEFAULT_STORE, openStore, redactStoreSpec } from '../store-spec.ts';
import { FatalError, UsageError } from '../usage-error.ts';

export interface StoreFlags {
  store?: string;
}

export const STORE_OPTION_HELP = `sqlite:PATH or postgres://... (env OFFLOAD_STORE; default ${DEFAULT_STORE})`;

/** The store spec a command uses. */
export function storeSpecOf(flags: StoreFlags, io: CliIo): string {
  return flags.store ?? io.env['OFFLOAD_STORE'] ?? DEFAULT_STORE;
}

const noop = (): void => {};
/** Management commands run no job: nothing of the runtime's is worth a line on their terminal. */
export const quietLogger: Logger = { debug: noop, info: noop, warn: noop, error: noop, child: () => quietLogger };

/**
 * A client on the command's store, migrated. The caller closes it.
 * @example
 * const { offload } = await connect(flags, io)
 * try { ... } finally { await offload.close() }
 */
export async function connect(flags: StoreFlags, io: CliIo, options: Omit<OffloadOptions, 'store'> = {}): Promise<{ offload: Offload; spec: string }> {
  const spec = storeSpecOf(flags, io);
  let offload: Offload;
  try {
    offload = createOffload({ logger: quietLogger, ...options, store: openStore(spec, io.cwd) });
  } catch (err) {
    if (isOffloadError(err, 'OFFLOAD_INVALID_OPTIONS')) throw new UsageError(err.message);
    throw err;
  }
  try {
    await offload.migrate();
  } catch (err) {
    await offload.close({ graceMs: 0 }).catch(() => {});
    throw unreachable(spec, err);
  }
  return { offload, spec };
}

/** The exit-1 error for a store that failed to answer, with the driver's cause when there is one. */
export function unreachable(spec: string, err: unknown): FatalError {
  const cause = (err as { cause?: { message?: string } }).cause?.message;
  return new FatalError(`cannot reach the store ${redactStoreSpec(spec)}: ${(err as Error).message}${cause === undefined || cause === (err as Error).message ? '' : ` (${cause})`}`, { cause: err });
}
