/**
 * The dashboard's stats: one sample per interval (1 s), the last 15 minutes kept in memory so a
 * page opened now has history, and each new sample pushed to the open pages.
 *
 * Modes:
 *   stopped   nothing subscribed, no timer (after construction and after stop()).
 *   running   start() subscribed to the client's events and set the timer. Events only count
 *             (job:completed, job:failed, job:rejected) and keep durations (job:started gives
 *             the wait from due to start, job:completed the run time): O(1) each. Every tick,
 *             synchronously, turns the counts into a sample, appends it, and hands it to the
 *             listeners; then it may start a read of `offload.stats()` (queue depth from the
 *             store, workers, threads), never two at once. The read's result is used by the
 *             next tick, so ticks never wait on the store and samples stay in order.
 *
 * Reads: every tick while a page listens, every `idleReadEvery` ticks otherwise (the read costs
 * the store a few queries, counts included, which triggers keep). A sample whose second saw no
 * completed read has `depth: null` rather than a stale copy. A failed read is reported in
 * `current.storeError` until a read succeeds.
 *
 * Throughput and latency are those of this process's workers (events are per process); depth and
 * drain rate come from the store and cover every process.
 */
import { isOffloadError, type Offload, type OffloadStats } from '../../index.ts';
import { LatencySample } from './latency-sample.ts';
import type { JobStateName, QueueJson, StatsCurrent, StatsHistoryEvent, StatsSample, StatsSampleEvent } from './protocol.ts';
import { JOB_STATE_NAMES } from './protocol.ts';

export interface StatsRecorderOptions {
  /** Sample period. Default 1000. */
  intervalMs: number;
  /** Samples kept. Default 900 (15 min at 1 s). */
  capacity: number;
  /** Ticks between reads of the store while no page listens. Default 5. */
  idleReadEvery: number;
  /** The clock (unix ms). */
  now: () => number;
}

type Listener = (event: StatsSampleEvent) => void;

export class StatsRecorder {
  readonly #offload: Offload;
  readonly #o: StatsRecorderOptions;
  readonly #samples: StatsSample[] = [];
  readonly #listeners = new Set<Listener>();
  readonly #waits = new LatencySample();
  readonly #runs = new LatencySample();
  #completed = 0;
  #failed = 0;
  #rejected = 0;
  #unsubscribe: Array<() => void> = [];
  #timer: NodeJS.Timeout | null = null;
  #ticksSinceRead = Number.POSITIVE_INFINITY;
  #reading: Promise<void> | null = null;
  #latest: OffloadStats | null = null;
  #latestAt: number | null = null;
  /** Successful reads so far, and that count at the last tick: a sample's depth is fresh when it grew. */
  #reads = 0;
  #readsAtLastTick = 0;
  #storeError: string | null = null;

  constructor(offload: Offload, options: Partial<StatsRecorderOptions> = {}) {
    this.#offload = offload;
    this.#o = { intervalMs: 1000, capacity: 900, idleReadEvery: 5, now: Date.now, ...options };
  }

  get intervalMs(): number {
    return this.#o.intervalMs;
  }

  get running(): boolean {
    return this.#timer !== null;
  }

  /** Subscribes to the client's events and starts ticking. Idempotent. */
  start(): void {
    if (this.#timer !== null) return;
    const on = this.#offload.on.bind(this.#offload);
    this.#unsubscribe = [
      on('job:started', ({ job }) => {
        if (job.attemptedAt !== null) this.#waits.add(Math.max(0, job.attemptedAt.getTime() - job.runAt.getTime()));
      }),
      on('job:completed', ({ durationMs }) => {
        this.#completed++;
        this.#runs.add(durationMs);
      }),
      on('job:failed', () => {
        this.#failed++;
      }),
      on('job:rejected', () => {
        this.#rejected++;
      }),
    ];
    this.#timer = setInterval(() => this.tick(), this.#o.intervalMs);
    this.#timer.unref();
    // Never rejects: both outcomes are handled in #startRead.
    void this.#startRead();
  }

  /** Stops ticking and unsubscribes; kept samples stay. Idempotent. Resolves once a read in flight settled. */
  async stop(): Promise<void> {
    if (this.#timer !== null) clearInterval(this.#timer);
    this.#timer = null;
    for (const off of this.#unsubscribe.splice(0)) off();
    await this.#reading;
  }

  /** Receives every new sample; returns the unsubscribe function. */
  subscribe(listener: Listener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** The kept samples (oldest first) and the latest full picture. */
  history(): StatsHistoryEvent {
    return { intervalMs: this.#o.intervalMs, samples: [...this.#samples], current: this.current() };
  }

  /** Queues, loop, workers and threads as last read. */
  current(): StatsCurrent {
    const s = this.#latest;
    return {
      queues: s === null ? [] : (s.queues satisfies QueueJson[]),
      loop: this.#offload.loop(),
      workers: s?.workers ?? null,
      threads: s?.threads ?? null,
      readAt: this.#latestAt,
      storeError: this.#storeError,
    };
  }

  /**
   * Closes the current interval: appends its sample, gives it to the listeners, and starts a read
   * of the store when one is due. Called by the timer; tests call it directly.
   */
  tick(): StatsSample {
    const now = this.#o.now();
    const s = this.#latest;
    const freshDepth = s !== null && this.#reads > this.#readsAtLastTick;
    this.#readsAtLastTick = this.#reads;
    const loop = this.#offload.loop();
    const sample: StatsSample = {
      t: now,
      completed: this.#completed,
      failed: this.#failed,
      rejected: this.#rejected,
      depth: freshDepth ? depthOf(s.queues) : null,
      waitMs: this.#waits.take(),
      runMs: this.#runs.take(),
      loop: { p50: loop.delayP50Ms, p99: loop.delayP99Ms, max: loop.delayMaxMs, utilization: loop.utilization },
      threads: s === null || s.threads === null ? null : { busy: s.threads.busy, size: s.threads.size },
      workers: s === null || s.workers === null ? null : { running: s.workers.running, concurrency: s.workers.concurrency },
    };
    this.#completed = 0;
    this.#failed = 0;
    this.#rejected = 0;
    this.#samples.push(sample);
    // 900 entries, one shift a second: cheaper to read than a ring's index arithmetic, and as fast.
    if (this.#samples.length > this.#o.capacity) this.#samples.shift();
    if (this.#listeners.size > 0) {
      const event = { sample, current: this.current() };
      for (const l of this.#listeners) l(event);
    }
    this.#ticksSinceRead++;
    if (this.#listeners.size > 0 || this.#ticksSinceRead >= this.#o.idleReadEvery) void this.#startRead();
    return sample;
  }

  /** Reads the store now (or joins the read in flight); resolves when it settled. Never rejects. */
  refresh(): Promise<void> {
    return this.#startRead();
  }

  /** Resolves once the read in flight, if any, settled; starts none. Never rejects. */
  async whenRead(): Promise<void> {
    await this.#reading;
  }

  #startRead(): Promise<void> {
    if (this.#reading !== null) return this.#reading;
    this.#ticksSinceRead = 0;
    const read = this.#offload.stats().then(
      (stats) => {
        this.#latest = stats;
        this.#latestAt = this.#o.now();
        this.#reads++;
        this.#storeError = null;
      },
      (err: unknown) => {
        // The message may name hosts, tables or SQL: the page gets the code only.
        this.#storeError = `the job store did not answer${isOffloadError(err) ? ` (${err.code})` : ''}`;
      },
    );
    this.#reading = read.finally(() => {
      this.#reading = null;
    });
    return this.#reading;
  }
}

function depthOf(queues: readonly QueueJson[]): Record<JobStateName, number> {
  const depth = Object.fromEntries(JOB_STATE_NAMES.map((s) => [s, 0])) as Record<JobStateName, number>;
  for (const q of queues) for (const s of JOB_STATE_NAMES) depth[s] += q.counts[s];
  return depth;
}
