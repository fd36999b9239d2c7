/**
 * The worker registry's SQL on SQLite (offload_workers), run on the store thread by the engine,
 * which lends it its statement cache and its write transaction (BEGIN IMMEDIATE, busy retries).
 *
 * The table holds one row per worker process, so it stays small (tens of rows): no statement
 * here needs more than the primary key, and the prune scan has its own index. Times are the host
 * clock read here, which is the database clock of a SQLite file.
 */
import type { Statement } from 'better-sqlite3';
import type { WorkerBeat, WorkerRow } from '../driver.ts';

interface Row {
  id: string;
  host: string;
  pid: number;
  version: string;
  queues: string;
  concurrency: number;
  running: number;
  heartbeat_ms: number;
  threads: string | null;
  loop_delay_p99_ms: number | null;
  loop_utilization: number | null;
  loop_overloaded: number | null;
  started_at: number;
  heartbeat_at: number;
  age_ms: number;
}

function toWorker(r: Row): WorkerRow {
  return {
    id: r.id,
    host: r.host,
    pid: r.pid,
    version: r.version,
    queues: JSON.parse(r.queues) as string[],
    concurrency: r.concurrency,
    running: r.running,
    heartbeatMs: r.heartbeat_ms,
    threads: r.threads === null ? null : (JSON.parse(r.threads) as WorkerRow['threads']),
    loop: r.loop_delay_p99_ms === null ? null : { delayP99Ms: r.loop_delay_p99_ms, utilization: r.loop_utilization ?? 0, overloaded: r.loop_overloaded === 1 },
    startedAt: new Date(r.started_at),
    heartbeatAt: new Date(r.heartbeat_at),
    heartbeatAgeMs: Math.max(0, r.age_ms),
  };
}

export class SqliteWorkerTable {
  constructor(
    private readonly stmt: (sql: string) => Statement,
    private readonly write: <T>(fn: () => T) => T,
  ) {}

  heartbeat(p: { worker: WorkerBeat }): void {
    const w = p.worker;
    // started_at is not in the UPDATE: it keeps the first beat's time.
    const s = this.stmt(`INSERT INTO offload_workers (id, host, pid, version, queues, concurrency, running, heartbeat_ms, threads,
        loop_delay_p99_ms, loop_utilization, loop_overloaded, started_at, heartbeat_at)
      VALUES (@id, @host, @pid, @version, @queues, @concurrency, @running, @heartbeatMs, @threads, @delay, @utilization, @overloaded, @now, @now)
      ON CONFLICT (id) DO UPDATE SET host = excluded.host, pid = excluded.pid, version = excluded.version, queues = excluded.queues,
        concurrency = excluded.concurrency, running = excluded.running, heartbeat_ms = excluded.heartbeat_ms, threads = excluded.threads,
        loop_delay_p99_ms = excluded.loop_delay_p99_ms, loop_utilization = excluded.loop_utilization,
        loop_overloaded = excluded.loop_overloaded, heartbeat_at = excluded.heartbeat_at`);
    this.write(() =>
      s.run({
        id: w.id,
        host: w.host,
        pid: w.pid,
        version: w.version,
        queues: JSON.stringify(w.queues),
        concurrency: w.concurrency,
        running: w.running,
        heartbeatMs: w.heartbeatMs,
        threads: w.threads === null ? null : JSON.stringify(w.threads),
        delay: w.loop?.delayP99Ms ?? null,
        utilization: w.loop?.utilization ?? null,
        overloaded: w.loop === null ? null : w.loop.overloaded ? 1 : 0,
        now: Date.now(),
      }),
    );
  }

  list(p: { limit: number }): WorkerRow[] {
    const s = this.stmt('SELECT *, @now - heartbeat_at AS age_ms FROM offload_workers ORDER BY host, pid, id LIMIT @limit');
    return (s.all({ now: Date.now(), limit: p.limit }) as Row[]).map(toWorker);
  }

  remove(p: { id: string }): boolean {
    const s = this.stmt('DELETE FROM offload_workers WHERE id = ?');
    return this.write(() => s.run(p.id).changes === 1);
  }

  prune(p: { deadMs: number }): string[] {
    const s = this.stmt('DELETE FROM offload_workers WHERE heartbeat_at < ? RETURNING id');
    return (this.write(() => s.all(Date.now() - p.deadMs)) as Array<{ id: string }>).map((r) => r.id);
  }

  testAge(p: { id: string; ms: number }): void {
    const s = this.stmt('UPDATE offload_workers SET started_at = started_at - @ms, heartbeat_at = heartbeat_at - @ms WHERE id = @id');
    this.write(() => s.run({ id: p.id, ms: p.ms }));
  }
}
