/**
 * Jobs this process has claimed but not started yet: the prefetch buffer.
 *
 * Why: one claim per free slot makes every job pay a claim transaction (and, at low concurrency,
 * its own completion transaction: nothing else finishes in the same turn). Claiming ahead lets one
 * claim feed many starts, and while the completion of one job is being written the next ones run,
 * so completions group too.
 *
 * The cost of claiming ahead is that a claimed job waits here instead of in the store, where
 * another process could take it. So the buffer is sized by time, not count: it holds about
 * `horizonMs` of work at the rate this process's slots turn over (measured, an exponentially
 * weighted mean of how long a job holds its slot), capped at `max` jobs. Millisecond jobs get a
 * deep buffer; one-second jobs get none, and a long job behind a deep buffer is covered by the age
 * limit: an entry that waited longer than `maxWaitMs` is handed back to the store.
 *
 * Every entry's lease is kept alive by the lease keeper like a running job's (a claimed job is
 * `running` in the store from the claim on), and a lost lease or a cancel request reaches the
 * entry through `onAbort`.
 */
import type { ClaimedJob } from '../storage/driver.ts';

export interface LocalQueueOptions {
  /** Jobs held at most; 0 turns claiming ahead off. */
  max: number;
  /** Work held, in time at the measured turnover. */
  horizonMs: number;
  /** An entry older than this goes back to the store. */
  maxWaitMs: number;
  concurrency: number;
}

export interface Waiting {
  claimed: ClaimedJob;
  /** performance.now() at the claim's return. */
  since: number;
  /** performance.now() by which it must start (its start deadline, see startDeadline), or null. */
  startBy: number | null;
}

/** Weight of the newest sample in the mean slot time: about the last 20 jobs count. */
const ALPHA = 0.05;

export class LocalQueue {
  readonly #o: LocalQueueOptions;
  /**
   * FIFO in claim order, which is the store's priority order within each claim. Entries taken
   * out of the middle (remove) stay here as holes and are skipped: `#byToken` is the truth.
   */
  #entries: Waiting[] = [];
  #head = 0;
  readonly #byToken = new Map<string, Waiting>();
  readonly #byJob = new Map<string, Waiting>();
  /** Mean ms a job holds its slot, or null before the first finished job. */
  #slotMs: number | null = null;

  constructor(options: LocalQueueOptions) {
    this.#o = options;
  }

  get size(): number {
    return this.#byToken.size;
  }

  /**
   * How many jobs to hold beyond the running ones. Zero until a job has finished: with nothing
   * measured, claiming ahead could park long jobs here.
   */
  get target(): number {
    if (this.#o.max === 0 || this.#slotMs === null) return 0;
    const perSlot = this.#o.horizonMs / Math.max(this.#slotMs, 0.001);
    return Math.min(this.#o.max, Math.floor(perSlot * this.#o.concurrency));
  }

  /** A job held its slot for `ms`. */
  recordSlotTime(ms: number): void {
    this.#slotMs = this.#slotMs === null ? ms : this.#slotMs + ALPHA * (ms - this.#slotMs);
  }

  /**
   * Adds a claimed job. Returns the entry it replaces: the same job under an older lease, which
   * was lost (the store handed the job out again, and only to a lease that expired) even if no
   * heartbeat has said so yet. Keeping both would run the job twice in this process.
   */
  push(claimed: ClaimedJob, now: number, startBy: number | null): Waiting | undefined {
    const stale = this.#byJob.get(claimed.job.id);
    if (stale !== undefined) this.remove(stale.claimed.token);
    const w = { claimed, since: now, startBy };
    this.#entries.push(w);
    this.#byToken.set(claimed.token, w);
    this.#byJob.set(claimed.job.id, w);
    return stale;
  }

  shift(): Waiting | undefined {
    while (this.#head < this.#entries.length) {
      const w = this.#entries[this.#head++]!;
      if (this.#byToken.get(w.claimed.token) !== w) continue; // a hole
      this.#forget(w);
      this.#compact();
      return w;
    }
    this.#compact();
    return undefined;
  }

  /** Takes the entry of this lease out, if it is still waiting. */
  remove(token: string): Waiting | undefined {
    const w = this.#byToken.get(token);
    if (w !== undefined) this.#forget(w);
    return w;
  }

  /**
   * Takes out the entries that waited longer than `maxWaitMs`. Any such entry means the measured
   * turnover was wrong (a long job holds the slots; its time counts only once it ends), so the
   * measurement is dropped and claiming ahead stops until a job finishes again: otherwise the
   * process would claim ahead again at once and keep the handed-back jobs from other processes.
   */
  takeStale(now: number): Waiting[] {
    const out: Waiting[] = [];
    // Oldest first: entries are in claim order, so the stale ones are a prefix (holes skipped).
    for (;;) {
      const w = this.#peek();
      if (w === undefined || now - w.since <= this.#o.maxWaitMs) break;
      out.push(this.shift()!);
    }
    if (out.length > 0) this.#slotMs = null;
    return out;
  }

  /** Takes out every entry. */
  takeAll(): Waiting[] {
    const out = [...this.#byToken.values()];
    this.#entries = [];
    this.#head = 0;
    this.#byToken.clear();
    this.#byJob.clear();
    return out;
  }

  #peek(): Waiting | undefined {
    while (this.#head < this.#entries.length) {
      const w = this.#entries[this.#head]!;
      if (this.#byToken.get(w.claimed.token) === w) return w;
      this.#head++;
    }
    return undefined;
  }

  #forget(w: Waiting): void {
    this.#byToken.delete(w.claimed.token);
    if (this.#byJob.get(w.claimed.job.id) === w) this.#byJob.delete(w.claimed.job.id);
  }

  /** Drops the consumed prefix once it dominates, so the array does not grow without bound. */
  #compact(): void {
    if (this.#head === this.#entries.length) {
      this.#entries = [];
      this.#head = 0;
    } else if (this.#head > 1024 && this.#head * 2 > this.#entries.length) {
      this.#entries = this.#entries.slice(this.#head);
      this.#head = 0;
    }
  }
}
