/**
 * `offload/postgres`: the shared store for many worker processes on many machines.
 */
import postgresjs, { type Sql } from 'postgres';
import { checkKeys, intOption, stringOption } from '../../core/options.ts';
import { OffloadError } from '../../errors.ts';
import type { Driver } from '../driver.ts';
import { PostgresDriver } from './driver.ts';

export interface PostgresStoreOptions {
  /** Connection URL, e.g. `postgres://user@host:5432/db`. Either this or `sql`. */
  url?: string;
  /** Your own postgres.js instance (offload will not end it). Either this or `url`. */
  sql?: Sql;
  /** Schema holding offload's tables; created if missing. Default `offload`. A name of letters, digits and `_`, at most 48 characters. */
  schema?: string;
  /** Pool size when offload opens the connection itself. Default 10. */
  max?: number;
}

/** The longest schema name: 63 bytes (PostgreSQL's names) less `offload_cancel:`. */
export const MAX_SCHEMA_LENGTH = 63 - 'offload_cancel:'.length;

/**
 * The PostgreSQL store.
 * @example
 * const offload = createOffload({ store: postgres({ url: process.env.DATABASE_URL }), tasks })
 */
export function postgres(options: PostgresStoreOptions): Driver {
  const o = checkKeys(options, ['url', 'sql', 'schema', 'max'], 'postgres()');
  const schema = stringOption(o['schema'], 'postgres(): schema', 'offload', /^[A-Za-z_][A-Za-z0-9_]*$/);
  // PostgreSQL cuts identifiers, channel names included, at 63 bytes without a word; the longest
  // channel is `offload_cancel:` and the schema (see driver.ts).
  if (schema.length > MAX_SCHEMA_LENGTH) {
    throw new OffloadError(
      'OFFLOAD_INVALID_OPTIONS',
      `postgres(): schema must be at most ${MAX_SCHEMA_LENGTH} characters, got ${schema.length}: its notification channels (offload_cancel:<schema>) must fit PostgreSQL's 63-byte names`,
    );
  }
  const max = intOption(o['max'], 'postgres(): max', 1, 1000, 10);
  if ((o['url'] === undefined) === (o['sql'] === undefined)) {
    throw new OffloadError('OFFLOAD_INVALID_OPTIONS', 'postgres(): give exactly one of url or sql');
  }
  if (o['sql'] !== undefined) {
    if (typeof o['sql'] !== 'function') throw new OffloadError('OFFLOAD_INVALID_OPTIONS', 'postgres(): sql must be a postgres.js instance');
    return new PostgresDriver({ sql: o['sql'] as Sql, ownsSql: false, schema });
  }
  const url = stringOption(o['url'], 'postgres(): url', '');
  let sql: Sql;
  try {
    sql = postgresjs(url, {
      max,
      onnotice: () => {},
      connection: { application_name: 'offload' },
      // Connect failures surface at first use as OFFLOAD_STORE errors rather than hanging.
      connect_timeout: 10,
    });
  } catch (err) {
    // postgres.js parses the URL here: a malformed one (a bad %-escape, say) is the caller's mistake.
    throw new OffloadError('OFFLOAD_INVALID_OPTIONS', `postgres(): url is not a valid connection URL: ${(err as Error).message}`, { cause: err });
  }
  return new PostgresDriver({ sql, ownsSql: true, schema });
}
