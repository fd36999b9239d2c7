/**
 * The claim loop of one worker process.
 *
 * Modes: stopped -> idle (waiting for a wake-up: a local enqueue, a NOTIFY, a finished job or the
 * poll timer) -> claiming (one claim in flight; two while there is a backlog) -> idle.
 *
 * Wake-ups are coalesced: a claim starts on the turn of the event loop after the wake-up, so every
 * job that finished in one turn leads to one claim, and the outcomes those jobs queued with the
 * completer go out in the same turn (a store that groups requests, such as SQLite's store thread,
 * then commits the completions and the claim together). A wake-up that arrives while no further
 * claim may start is remembered and claims again when one returns.
 *
 * Pipelining: a claim reserves the slots it asks for. While the last claim came back full (a
 * backlog), a second claim may be in flight, for the slots the first did not reserve, so the
 * store works on one batch while this process runs the other (the batch size is half the
 * concurrency for that reason). Without a backlog one claim at a time is enough, and idle polls
 * stay one query.
 *
 * Slots: a job holds a slot while its handler runs, not while its outcome is being written. The
 * executor calls `release` as soon as it has handed the outcome to the completer, so the next
 * claim overlaps the completion write instead of waiting for it. Outcomes still being written are
 * bounded: at 2 x concurrency of them the producer stops claiming until writes catch up, so a slow
 * store cannot make a worker run unbounded work ahead of its acknowledgements.
 *
 * Held back: while `mayClaim()` says no (the event loop is overloaded, see loop-health.ts) no
 * claim starts, so a drowning process takes no more work; jobs already running go on. Whoever
 * lifts the hold wakes the producer.
 *
 * Failures (store unreachable) are reported as `error` events and retried on the next poll.
 */
import type { ClaimedJob, Driver } from '../storage/driver.ts';
import type { TypedEvents } from '../observability/events.ts';

export interface ProducerOptions {
  queues: readonly string[];
  tasks: readonly string[];
  concurrency: number;
  /** Jobs per claim at most. */
  claimBatch: number;
  pollMs: number;
  leaseMs: number;
  workerId: string;
  /** Checked before every claim: false holds claiming back (an overloaded event loop). */
  mayClaim: () => boolean;
}

export class Producer {
  readonly #driver: Driver;
  readonly #o: ProducerOptions;
  readonly #events: TypedEvents;
  readonly #run: (job: ClaimedJob, release: () => void) => Promise<void>;
  #running = false;
  /** A claim round is scheduled for the next turn of the event loop. */
  #tick = false;
  readonly #claims = new Set<Promise<void>>();
  /** Slots asked for by the claims in flight. */
  #reserved = 0;
  /** The last claim came back full: more work is probably due. */
  #backlog = false;
  /** A wake-up arrived while no further claim could start. */
  #wanted = false;
  /** Jobs whose handler runs: these hold the slots. */
  #inFlight = 0;
  /** Jobs not yet fully finished (handler running or outcome being written). */
  #pending = 0;
  #timer: NodeJS.Timeout | null = null;
  #lastClaimAt: number | null = null;
  #claimFailures = 0;
  #unlisten: (() => Promise<void>) | null = null;
  #idle: Array<() => void> = [];

  constructor(driver: Driver, options: ProducerOptions, events: TypedEvents, run: (job: ClaimedJob, release: () => void) => Promise<void>) {
    this.#driver = driver;
    this.#o = options;
    this.#events = events;
    this.#run = run;
  }

  /** When the last claim answered (successfully, jobs or none), and failed claims since. */
  get claimHealth(): { lastClaimAt: Date | null; failuresInARow: number } {
    return { lastClaimAt: this.#lastClaimAt === null ? null : new Date(this.#lastClaimAt), failuresInARow: this.#claimFailures };
  }

  /** Jobs of this producer not yet finished, outcome writes included. */
  get inFlight(): number {
    return this.#pending;
  }

  async start(): Promise<void> {
    if (this.#running) return;
    this.#running = true;
    if (this.#driver.onJobsAvailable !== undefined) {
      try {
        this.#unlisten = await this.#driver.onJobsAvailable((queue) => {
          if (this.#o.queues.includes(queue)) this.wake();
        });
      } catch (err) {
        // Polling alone is correct; LISTEN only lowers latency.
        this.#events.emit('error', { error: err as Error, component: 'producer (listen)' });
      }
    }
    this.#schedulePoll();
    this.wake();
  }

  /** Stops claiming at once; resolves when the claims in flight (if any) have returned. */
  async stop(): Promise<void> {
    this.#running = false;
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
    const un = this.#unlisten;
    this.#unlisten = null;
    if (un !== null) await un().catch(() => {});
    await Promise.all(this.#claims);
  }

  /** Resolves when no job of this producer is executing or has its outcome being written. */
  idle(): Promise<void> {
    if (this.#pending === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idle.push(resolve));
  }

  wake(): void {
    if (!this.#running || this.#tick) return;
    this.#tick = true;
    setImmediate(() => {
      this.#tick = false;
      this.#fill();
    });
  }

  /**
   * A job of ours is due in `ms` (a short retry backoff or snooze): claim then instead of up to a
   * poll period later. Beyond the poll period the poll finds it anyway.
   */
  wakeAfter(ms: number): void {
    if (!this.#running || ms >= this.#o.pollMs) return;
    setTimeout(() => this.wake(), ms).unref();
  }

  #schedulePoll(): void {
    if (!this.#running) return;
    // Referenced on purpose: a started worker keeps its process alive.
    this.#timer = setTimeout(() => {
      this.wake();
      this.#schedulePoll();
    }, this.#o.pollMs);
  }

  /** Starts claims for the free slots, as many as may be in flight. */
  #fill(): void {
    let started = false;
    while (this.#running) {
      // Held back (a drowning loop must not take more work); the caller wakes us on recovery.
      if (!this.#o.mayClaim()) return;
      const free = this.#o.concurrency - this.#inFlight - this.#reserved;
      if (free <= 0 || this.#pending >= 2 * this.#o.concurrency) return;
      if (this.#claims.size >= (this.#backlog ? 2 : 1)) {
        // A wake-up that finds every claim in flight claims again when one returns. Not when this
        // round started the claim itself: that claim is the answer to the wake-up, and wanting
        // another would make an idle producer claim in a tight loop.
        if (!started) this.#wanted = true;
        return;
      }
      const limit = Math.min(free, this.#o.claimBatch);
      this.#reserved += limit;
      const claim = this.#claim(limit).finally(() => {
        this.#claims.delete(claim);
        this.#reserved -= limit;
      });
      this.#claims.add(claim);
      started = true;
    }
  }

  async #claim(limit: number): Promise<void> {
    let jobs: ClaimedJob[];
    try {
      jobs = await this.#driver.jobClaim({
        queues: this.#o.queues,
        tasks: this.#o.tasks,
        limit,
        workerId: this.#o.workerId,
        leaseMs: this.#o.leaseMs,
      });
    } catch (err) {
      this.#backlog = false;
      this.#claimFailures++;
      this.#events.emit('error', { error: err as Error, component: 'producer' });
      return;
    }
    this.#lastClaimAt = Date.now();
    this.#claimFailures = 0;
    for (const job of jobs) this.#start(job);
    this.#backlog = jobs.length === limit;
    if (this.#backlog || this.#wanted) {
      this.#wanted = false;
      this.wake();
    }
  }

  #start(job: ClaimedJob): void {
    this.#inFlight++;
    this.#pending++;
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      this.#inFlight--;
      this.wake();
    };
    // #run never rejects (the executor reports its own failures); finally frees what is left.
    void this.#run(job, release).finally(() => {
      release();
      this.#pending--;
      if (this.#pending === 0) {
        const idle = this.#idle;
        this.#idle = [];
        for (const fn of idle) fn();
      }
      // Writes catching up may have lifted the 2 x concurrency bound.
      this.wake();
    });
  }
}
