/**
 * The claim loop of one worker process.
 *
 * Modes: stopped -> idle (waiting for a wake-up: a local enqueue, a NOTIFY, a finished job or the
 * poll timer) -> claiming (one claim in flight, never more) -> idle. A wake-up that arrives while
 * claiming is remembered and claims again right after, so bursts of wake-ups (every job that
 * finishes is one) coalesce into one claim per round trip with a batch as large as the free slots.
 * A claim that fills its batch claims again at once: there may be more due work.
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
}

export class Producer {
  readonly #driver: Driver;
  readonly #o: ProducerOptions;
  readonly #events: TypedEvents;
  readonly #run: (job: ClaimedJob) => Promise<void>;
  #running = false;
  #claiming: Promise<void> | null = null;
  #wanted = false;
  #inFlight = 0;
  #timer: NodeJS.Timeout | null = null;
  #unlisten: (() => Promise<void>) | null = null;
  #idle: Array<() => void> = [];

  constructor(driver: Driver, options: ProducerOptions, events: TypedEvents, run: (job: ClaimedJob) => Promise<void>) {
    this.#driver = driver;
    this.#o = options;
    this.#events = events;
    this.#run = run;
  }

  get inFlight(): number {
    return this.#inFlight;
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

  /** Stops claiming at once; resolves when the claim in flight (if any) has returned. */
  async stop(): Promise<void> {
    this.#running = false;
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
    const un = this.#unlisten;
    this.#unlisten = null;
    if (un !== null) await un().catch(() => {});
    await this.#claiming;
  }

  /** Resolves when no job of this producer is executing. */
  idle(): Promise<void> {
    if (this.#inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idle.push(resolve));
  }

  wake(): void {
    if (!this.#running) return;
    if (this.#claiming !== null) {
      this.#wanted = true;
      return;
    }
    this.#claiming = this.#claimLoop().finally(() => {
      this.#claiming = null;
    });
  }

  #schedulePoll(): void {
    if (!this.#running) return;
    // Referenced on purpose: a started worker keeps its process alive.
    this.#timer = setTimeout(() => {
      this.wake();
      this.#schedulePoll();
    }, this.#o.pollMs);
  }

  async #claimLoop(): Promise<void> {
    try {
      for (;;) {
        this.#wanted = false;
        const free = this.#o.concurrency - this.#inFlight;
        if (!this.#running || free <= 0) return;
        const limit = Math.min(free, this.#o.claimBatch);
        const jobs = await this.#driver.jobClaim({
          queues: this.#o.queues,
          tasks: this.#o.tasks,
          limit,
          workerId: this.#o.workerId,
          leaseMs: this.#o.leaseMs,
        });
        for (const job of jobs) this.#start(job);
        if (jobs.length < limit && !this.#wanted) return;
      }
    } catch (err) {
      this.#events.emit('error', { error: err as Error, component: 'producer' });
    }
  }

  #start(job: ClaimedJob): void {
    this.#inFlight++;
    // #run never rejects (the executor reports its own failures); finally frees the slot.
    void this.#run(job).finally(() => {
      this.#inFlight--;
      if (this.#inFlight === 0) {
        const idle = this.#idle;
        this.#idle = [];
        for (const fn of idle) fn();
      }
      this.wake();
    });
  }
}
