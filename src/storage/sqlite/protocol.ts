/**
 * The typed message protocol between the SQLite driver (caller's thread) and its store thread.
 * Every request carries an id; every response answers exactly one id.
 */
import type { SerializedError } from '../../errors.ts';
import type { SqliteEngine, SqliteEngineOptions } from './engine.ts';

/** Engine methods callable over the protocol. */
export type EngineMethod = Exclude<keyof SqliteEngine, 'close' | 'inTransaction'>;

export interface StoreThreadData {
  options: SqliteEngineOptions;
}

export type StoreRequest = { id: number; method: EngineMethod; params: unknown } | { id: number; method: 'close'; params: null };

export type StoreResponse = { id: number; ok: true; value: unknown } | { id: number; ok: false; error: SerializedError };
