/**
 * The worker registry's SQL on PostgreSQL (`<schema>.workers`) and its row mapping.
 *
 * One row per worker process: a small table written once per heartbeat period by each process
 * (every 5 s by default), so plain upserts on the primary key suffice; the prune scan has its own
 * index. Times and ages are the database's `now()`, so hosts with skewed clocks agree on which
 * worker fell silent.
 */
import type { WorkerBeat, WorkerRow } from '../driver.ts';

export interface PgWorkerRow {
  id: string;
  host: string;
  pid: number;
  version: string;
  queues: string[];
  concurrency: number;
  running: number;
  heartbeat_ms: number;
  threads: WorkerRow['threads'];
  loop_delay_p99_ms: number | null;
  loop_utilization: number | null;
  loop_overloaded: boolean | null;
  started_at: Date;
  heartbeat_at: Date;
  age_ms: number;
}

export function pgWorkerQueries(schema: string) {
  const t = `${schema}.workers`;
  return {
    // started_at is not in the UPDATE: it keeps the first beat's time. threads arrives as JSON text.
    heartbeat: `INSERT INTO ${t} (id, host, pid, version, queues, concurrency, running, heartbeat_ms, threads,
        loop_delay_p99_ms, loop_utilization, loop_overloaded, started_at, heartbeat_at)
      VALUES ($1, $2, $3, $4, $5::text[], $6, $7, $8, $9::text::jsonb, $10, $11, $12, now(), now())
      ON CONFLICT (id) DO UPDATE SET host = excluded.host, pid = excluded.pid, version = excluded.version, queues = excluded.queues,
        concurrency = excluded.concurrency, running = excluded.running, heartbeat_ms = excluded.heartbeat_ms, threads = excluded.threads,
        loop_delay_p99_ms = excluded.loop_delay_p99_ms, loop_utilization = excluded.loop_utilization,
        loop_overloaded = excluded.loop_overloaded, heartbeat_at = now()`,
    // COLLATE "C": byte order, as on SQLite, whatever the database's locale.
    list: `SELECT *, (extract(epoch FROM now() - heartbeat_at) * 1000)::float8 AS age_ms FROM ${t}
      ORDER BY host COLLATE "C", pid, id COLLATE "C" LIMIT $1`,
    remove: `DELETE FROM ${t} WHERE id = $1`,
    prune: `DELETE FROM ${t} WHERE heartbeat_at < now() - $1 * interval '1 millisecond' RETURNING id`,
    testAge: `UPDATE ${t} SET started_at = started_at - $2 * interval '1 millisecond', heartbeat_at = heartbeat_at - $2 * interval '1 millisecond' WHERE id = $1`,
  };
}

/** The heartbeat statement's parameters, in order. */
export function workerBeatParams(w: WorkerBeat): unknown[] {
  return [
    w.id,
    w.host,
    w.pid,
    w.version,
    w.queues,
    w.concurrency,
    w.running,
    w.heartbeatMs,
    w.threads === null ? null : JSON.stringify(w.threads),
    w.loop?.delayP99Ms ?? null,
    w.loop?.utilization ?? null,
    w.loop?.overloaded ?? null,
  ];
}

export function toWorker(r: PgWorkerRow): WorkerRow {
  return {
    id: r.id,
    host: r.host,
    pid: r.pid,
    version: r.version,
    queues: r.queues,
    concurrency: r.concurrency,
    running: r.running,
    heartbeatMs: r.heartbeat_ms,
    threads: r.threads,
    loop: r.loop_delay_p99_ms === null ? null : { delayP99Ms: r.loop_delay_p99_ms, utilization: r.loop_utilization ?? 0, overloaded: r.loop_overloaded === true },
    startedAt: r.started_at,
    heartbeatAt: r.heartbeat_at,
    heartbeatAgeMs: Math.max(0, Math.round(r.age_ms)),
  };
}
