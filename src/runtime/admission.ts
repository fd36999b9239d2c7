/**
 * Admission control: a queue with `maxBacklog` refuses enqueues beyond that many waiting jobs
 * (scheduled, available, retryable) with OFFLOAD_OVERLOADED, before anything is stored, and says
 * when to come back (`retryAfterMs`) from the rate at which the queue is draining.
 *
 * Counting every enqueue would cost a query each; instead each bounded queue keeps a view:
 * `waiting` read from the store's job counts (kept by triggers, so a deep queue costs no more
 * than an empty one) at most every `refreshMs`, plus what this client admitted since. One refresh
 * is in flight per queue at a time; concurrent enqueues wait for it together. Each refresh reads
 * the counts itself: a read shared with another queue's refresh would predate what this queue
 * admitted since that read began, and the view would forget it. The drain rate, a rate over 10 s,
 * is one read shared by every queue, made at most every DRAIN_REFRESH_MS.
 *
 * The bound is exact for one client. Several clients enqueueing into one queue each see the
 * others' jobs at their next refresh, so together they can overshoot by what they admit within
 * one `refreshMs` (250 ms by default): a bounded overshoot, where an unbounded queue has none.
 */
import { retryAfterMs } from '../core/retry-after.ts';
import { WAITING_STATES } from '../core/state-machine.ts';
import { OffloadError } from '../errors.ts';
import type { Driver } from '../storage/driver.ts';
import { ANY_QUEUE } from './client-settings.ts';

/** The window over which the drain rate is measured. */
export const DRAIN_WINDOW_MS = 10_000;
/**
 * The drain rate is read again at most this often, whatever `refreshMs`: over a 10 s window a read
 * every 2 s moves it little, and the read scans every job finished in the window (~40 ms of the
 * SQLite store thread at 30k jobs/s), where the backlog is a few rows of the kept counts.
 */
const DRAIN_REFRESH_MS = 2_000;

/** A drain-rate read, shared by the refreshes of every bounded queue. */
interface DrainRead {
  at: number;
  rows: Promise<Array<{ queue: string; count: number }>>;
  failed: boolean;
}

interface View {
  waiting: number;
  drainPerSec: number;
  at: number;
  refreshing: Promise<void> | null;
}

export interface OverloadDetails {
  queue: string;
  task: string;
  maxBacklog: number;
  waiting: number;
  retryAfterMs: number;
}

export class Admission {
  readonly #driver: Driver;
  readonly #limits: ReadonlyMap<string, number>;
  readonly #refreshMs: number;
  readonly #now: () => number;
  readonly #views = new Map<string, View>();
  /** One drain read (every queue's) serves every bounded queue refreshing within DRAIN_REFRESH_MS. */
  #drain: DrainRead | null = null;

  constructor(driver: Driver, limits: ReadonlyMap<string, number>, refreshMs: number, now: () => number) {
    this.#driver = driver;
    this.#limits = limits;
    this.#refreshMs = refreshMs;
    this.#now = now;
  }

  /** A queue's bound: its own, else the one of every queue (`'*'`), else none. */
  limitOf(queue: string): number | null {
    return this.#limits.get(queue) ?? this.#limits.get(ANY_QUEUE) ?? null;
  }

  /**
   * Reserves room for `count` jobs of `task` in `queue`, or throws OFFLOAD_OVERLOADED. A queue
   * without a bound admits everything without any query.
   */
  async admit(queue: string, task: string, count: number): Promise<void> {
    const max = this.limitOf(queue);
    if (max === null) return;
    const view = await this.#view(queue);
    if (view.waiting + count > max) {
      throw new OffloadError('OFFLOAD_OVERLOADED', `queue '${queue}' is full: ${view.waiting} jobs wait (maxBacklog ${max}); retry later`, {
        details: { queue, task, maxBacklog: max, waiting: view.waiting, retryAfterMs: retryAfterMs(view.waiting + count - max, view.drainPerSec, DRAIN_WINDOW_MS) } satisfies OverloadDetails,
      });
    }
    view.waiting += count;
  }

  /** Gives back room reserved for jobs that were not stored after all (a failed insert, a replayed key). */
  release(queue: string, count: number): void {
    const view = this.#views.get(queue);
    if (view !== undefined) view.waiting = Math.max(0, view.waiting - count);
  }

  async #view(queue: string): Promise<View> {
    let view = this.#views.get(queue);
    if (view === undefined) {
      view = { waiting: 0, drainPerSec: 0, at: Number.NEGATIVE_INFINITY, refreshing: null };
      this.#views.set(queue, view);
    }
    if (this.#now() - view.at >= this.#refreshMs) {
      const v = view;
      v.refreshing ??= this.#refresh(queue, v).finally(() => {
        v.refreshing = null;
      });
      await v.refreshing;
    }
    return view;
  }

  async #refresh(queue: string, view: View): Promise<void> {
    const [counts, finished] = await Promise.all([
      this.#driver.jobCounts(),
      this.#drainRows(),
    ]);
    view.waiting = counts.reduce((n, c) => (c.queue === queue && WAITING_STATES.includes(c.state) ? n + c.count : n), 0);
    view.drainPerSec = (finished.find((f) => f.queue === queue)?.count ?? 0) / (DRAIN_WINDOW_MS / 1000);
    view.at = this.#now();
  }

  /** The drain read in hand while it is younger than DRAIN_REFRESH_MS, else a new one. */
  #drainRows(): Promise<Array<{ queue: string; count: number }>> {
    const now = this.#now();
    const held = this.#drain;
    if (held !== null && now - held.at < DRAIN_REFRESH_MS && !held.failed) return held.rows;
    const fresh: DrainRead = { at: now, rows: this.#driver.jobFinishedRecently({ windowMs: DRAIN_WINDOW_MS }), failed: false };
    // A failed read is not kept: the next refresh asks again.
    fresh.rows.catch(() => {
      fresh.failed = true;
    });
    this.#drain = fresh;
    return fresh.rows;
  }
}

