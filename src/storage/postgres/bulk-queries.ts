/**
 * The PostgreSQL store's bulk actions (retry, cancel, delete of a filtered set) and its filtered
 * count. One statement per batch, built for the filter fields that are set (at most 16 texts per
 * schema, each prepared once per connection).
 *
 * Locking: each batch picks its rows `ORDER BY id DESC LIMIT n FOR UPDATE SKIP LOCKED`. SKIP
 * LOCKED: a row a claimer, a completer or another bulk run holds right now is passed over instead
 * of waited on, so a bulk run never queues behind the workers nor they behind it, and two bulk
 * runs never deadlock on each other's batches. The row is changing state at that moment anyway;
 * the HTTP docs state what that means for the caller (docs/http.md, bulk actions).
 *
 * Plans (EXPLAIN ANALYZE, PostgreSQL 15, 2 000 000 jobs): with one state per batch, as the
 * runtime sends them, the pick is an index scan backward from the cursor: jobs_state (state, id)
 * for a rare state, the primary key filtered by state for a common one (500 discarded jobs of
 * 250 000: 2.4 ms, 10 ms for the whole retry batch); with a key, jobs_idempotency_search. No sort
 * of the matching rows, no scan of the table.
 */
import type { JobState } from '../../types.ts';
import type { JobFilter } from '../driver.ts';

const lit = (s: string) => `'${s.replace(/'/g, "''")}'`;

export interface BulkStatement {
  text: string;
  params: unknown[];
}

/** The pick of a batch: the filter, the allowed states (the fence) and the cursor; `$1`..`$k`. */
function pick(table: string, filter: JobFilter, allowed: readonly JobState[], beforeId: string | null, limit: number | null, params: unknown[]): string {
  const add = (clause: string, value: unknown) => {
    params.push(value);
    return clause.replace('?', `$${params.length}`);
  };
  const states = filter.states === null ? allowed : allowed.filter((s) => filter.states!.includes(s));
  // One state as `state = $n`: the planner then walks jobs_state (state, id) from the cursor for a
  // rare state too (with `= ANY` it sorted that state's rows first).
  const where = [states.length === 1 ? add('state = ?', states[0]) : add('state = ANY(?::text[])', states)];
  if (filter.task !== null) where.push(add('task = ?', filter.task));
  if (filter.queue !== null) where.push(add('queue = ?', filter.queue));
  if (filter.idempotencyKey !== null) where.push(add('idempotency_key = ?', filter.idempotencyKey));
  if (beforeId !== null) where.push(add('id < ?::bigint', beforeId));
  if (limit === null) return `SELECT 1 FROM ${table} WHERE ${where.join(' AND ')}`;
  return `SELECT id FROM ${table} WHERE ${where.join(' AND ')} ORDER BY id DESC ${add('LIMIT ?', limit)} FOR UPDATE SKIP LOCKED`;
}

export function bulkQueries(schema: string, wakeChannel: string, cancelChannel: string) {
  const t = `${schema}.jobs`;
  return {
    retryMany(p: { filter: JobFilter; from: readonly JobState[]; beforeId: string | null; limit: number }): BulkStatement {
      const params: unknown[] = [];
      const ids = pick(t, p.filter, p.from, p.beforeId, p.limit, params);
      // The same columns as jobRetry; one wake-up per queue (pg_notify is deduplicated per transaction).
      const text = `UPDATE ${t} SET state = 'available', run_at = now(), attempt = 0, finished_at = NULL, cancel_requested_at = NULL,
          cancel_reason = NULL, lease_token = NULL, lease_expires_at = NULL, expires_at = NULL
        WHERE id IN (${ids})
        RETURNING id, queue, state, pg_notify(${lit(wakeChannel)}, queue) AS _notified`;
      return { text, params };
    },
    cancelMany(p: { filter: JobFilter; waitingFrom: readonly JobState[]; reason: string; beforeId: string | null; limit: number }): BulkStatement {
      const params: unknown[] = [p.reason];
      const ids = pick(t, p.filter, [...p.waitingFrom, 'running'], p.beforeId, p.limit, params);
      // As jobCancel's two statements in one: a waiting job ends cancelled; a running one keeps its
      // state, gets the request (the first request's time and reason are kept) and a NOTIFY for its worker.
      const text = `UPDATE ${t} SET
          state = CASE WHEN state = 'running' THEN state ELSE 'cancelled' END,
          finished_at = CASE WHEN state = 'running' THEN finished_at ELSE now() END,
          cancel_reason = CASE WHEN state = 'running' THEN COALESCE(cancel_reason, $1) ELSE $1 END,
          cancel_requested_at = CASE WHEN state = 'running' THEN COALESCE(cancel_requested_at, now()) ELSE now() END
        WHERE id IN (${ids})
        RETURNING id, queue, state, CASE WHEN state = 'running' THEN pg_notify(${lit(cancelChannel)}, id::text) END AS _notified`;
      return { text, params };
    },
    deleteMany(p: { filter: JobFilter; from: readonly JobState[]; beforeId: string | null; limit: number }): BulkStatement {
      const params: unknown[] = [];
      const ids = pick(t, p.filter, p.from, p.beforeId, p.limit, params);
      return { text: `DELETE FROM ${t} WHERE id IN (${ids}) RETURNING id, queue, state`, params };
    },
    count(p: { filter: JobFilter; cap: number }): BulkStatement {
      const params: unknown[] = [];
      const all: JobState[] = ['scheduled', 'available', 'running', 'retryable', 'completed', 'cancelled', 'discarded'];
      const rows = pick(t, p.filter, all, null, null, params);
      params.push(p.cap);
      // LIMIT inside: the count stops at the cap instead of walking the whole index range.
      return { text: `SELECT count(*)::int AS n FROM (${rows} LIMIT $${params.length}) AS c`, params };
    },
  };
}
