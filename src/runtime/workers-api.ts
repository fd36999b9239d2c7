/**
 * `offload.workers`: every worker process registered in the store, whichever process asks. Each
 * row is written by its own process (worker-registry.ts); ages come from the database clock, so
 * the reader's own clock does not matter.
 *
 * A worker is *stale* when its last heartbeat is older than `STALE_AFTER_BEATS` of its own
 * heartbeat periods: it was killed, hangs, or cannot reach the store. Its row stays, flagged,
 * until it is pruned an hour after its last beat, or beats again.
 */
import type { Driver, WorkerRow } from '../storage/driver.ts';
import type { ThreadPoolStats } from './threads/pool.ts';

/** Missed beats after which a worker is reported stale. */
export const STALE_AFTER_BEATS = 3;
/** At most this many rows are read. */
const LIST_LIMIT = 1000;

/** A worker process as the registry knows it. */
export interface WorkerInfo {
  /** `hostname:pid:random`, as on the jobs it claims (`job.workerId`). */
  id: string;
  host: string;
  pid: number;
  /** The offload version it runs. */
  version: string;
  queues: string[];
  concurrency: number;
  /** Jobs it ran at its last heartbeat. */
  running: number;
  /** Its thread pool at its last heartbeat; null without thread tasks. */
  threads: ThreadPoolStats | null;
  /** Its event loop at its last heartbeat; null when its loop monitor is off. */
  loop: { delayP99Ms: number; utilization: number; overloaded: boolean } | null;
  startedAt: Date;
  heartbeatAt: Date;
  /** How long ago it last beat, by the database clock. */
  heartbeatAgeMs: number;
  /** Its heartbeat period. */
  heartbeatMs: number;
  /** No heartbeat for more than STALE_AFTER_BEATS periods. */
  stale: boolean;
}

export class WorkersApi {
  readonly #ready: () => Promise<Driver>;
  constructor(ready: () => Promise<Driver>) {
    this.#ready = ready;
  }

  /**
   * Every registered worker process, by host, pid and id, stale ones included (flagged).
   * @example
   * for (const w of await offload.workers.list()) console.log(w.host, w.pid, w.running, w.stale ? 'stale' : 'alive')
   */
  async list(): Promise<WorkerInfo[]> {
    const rows = await (await this.#ready()).workerList({ limit: LIST_LIMIT });
    return rows.map(toInfo);
  }
}

function toInfo(r: WorkerRow): WorkerInfo {
  return {
    id: r.id,
    host: r.host,
    pid: r.pid,
    version: r.version,
    queues: [...r.queues],
    concurrency: r.concurrency,
    running: r.running,
    threads: r.threads,
    loop: r.loop,
    startedAt: r.startedAt,
    heartbeatAt: r.heartbeatAt,
    heartbeatAgeMs: r.heartbeatAgeMs,
    heartbeatMs: r.heartbeatMs,
    stale: r.heartbeatAgeMs > STALE_AFTER_BEATS * r.heartbeatMs,
  };
}
