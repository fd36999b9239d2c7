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
 * store works on one batch while this process runs the other (a claim asks for half of what is
 * missing for that reason). Without a backlog one claim at a time is enough, and idle polls
 * stay one query.
 *
 * Slots: a job holds a slot while its handler runs, not while its outcome is being written. The
 * executor calls `release` as soon as it has handed the outcome to the completer, so the next
 * job starts while the completion is written instead of waiting for it. Outcomes still being
 * written are bounded (2 x (concurrency + prefetch) of them): past that the producer stops
 * claiming until writes catch up, so a slow store cannot make a worker run unbounded work ahead
 * of its acknowledgements.
 *
 * Claiming ahead: claimed jobs wait in a local queue (local-queue.ts) until a slot frees, so one
 * claim feeds many starts. A claim asks for the free slots plus the local queue's target minus
 * what it holds. Jobs waiting there start on the next turn after a slot frees; a waiting job
 * whose start deadline passed, or that waited too long, is handed back to the store (released:
 * `available`, no attempt charged) rather than run; a cancel request ends it without running it;
 * a lost lease drops it. On stop, every waiting job is handed back at once.
 *
 * Handed over at enqueue: while this producer is idle (its last claim found no backlog, no
 * wake-up is pending, nothing waits locally, and a slot is free that no claim in flight has
 * reserved), an enqueue of this process for one of its queues and tasks may insert the job
 * already claimed by it (`offer`, JobInsert.claim): the job starts on the turn after the insert
 * returns, without the claim's round trip after it, and the store does one write less for it.
 * Like every claim it starts in the producer's own async context (SCOPE), never the enqueuing
 * caller's (a request's AsyncLocalStorage, its active span), and after `enqueue` has returned,
 * so a handler's synchronous part never delays the caller. Idle means the store had nothing due
 * for us at the last claim and no wake-up is pending, so the job jumps the queue only ahead of
 * jobs that became due since (a retry's backoff ending, say), and only until the next claim. The
 * slot is held from the offer until the job starts (or the insert says it was not claimed:
 * `take`); a stop waits for held slots like for claims.
 *
 * Held back: while `mayClaim()` says no (the event loop is overloaded, see loop-health.ts) no
 * claim starts, so a drowning process takes no more work; jobs already running go on. Whoever
 * lifts the hold wakes the producer.
 *
 * Failures (store unreachable) are reported as `error` events and retried on the next poll.
 */
import { AsyncResource } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { OffloadError } from '../errors.ts';
import type { AttemptOutcome } from '../core/outcome.ts';
import type { ClaimedJob, Driver, InsertClaim } from '../storage/driver.ts';
import type { Job } from '../types.ts';
import type { TypedEvents } from '../observability/events.ts';
import { cancelReasonOf } from './lease-keeper.ts';
import { LocalQueue, type Waiting } from './local-queue.ts';

/**
 * How long jobs may start one after another within one turn of the event loop (see #start): a
 * local queue of microsecond jobs drains in one go (hundreds of starts), while timers and I/O of the
 * process wait at most this plus one job's synchronous part.
 */
const CHAIN_MS = 2;

/**
 * The async context claims and starts run in: the one this module was loaded in, not that of
 * whoever woke the producer (an enqueue inside a request, with its AsyncLocalStorage and active
 * span), so no caller's context leaks into the jobs a claim or a hand-over starts.
 */
const SCOPE = new AsyncResource('offload.producer');

export interface ProducerOptions {
  queues: readonly string[];
  tasks: readonly string[];
  concurrency: number;
  /** Jobs per claim at most. */
  claimBatch: number;
  /** Jobs claimed ahead at most (see local-queue.ts); 0: claim only for free slots. */
  prefetch: number;
  pollMs: number;
  leaseMs: number;
  workerId: string;
  /** Checked before every claim and start: false holds them back (an overloaded event loop). */
  mayClaim: () => boolean;
  /** Keeps a waiting job's lease alive; `onAbort` hears of a lost lease or a cancel request. */
  hold: (claimed: ClaimedJob, onAbort: (reason: OffloadError) => void) => void;
  unhold: (token: string) => void;
}

/**
 * Runs a job to its written outcome; never rejects. `release` frees its slot. `decided`: the
 * outcome is already known (the job never started: handed back or cancelled while waiting), so
 * no handler runs and only the outcome is written.
 */
export type RunJob = (job: ClaimedJob, release: () => void, decided: AttemptOutcome | null) => Promise<void>;

/**
 * A free slot held for a job being inserted already claimed (Producer.offer). `take` must be
 * called exactly once, with the inserted job, or null when it was not inserted claimed (an
 * existing key, a paused queue, a failed insert).
 */
export interface Handoff {
  readonly claim: InsertClaim;
  take(job: Job | null): void;
}

/** Work held ahead, in time at the measured turnover (see local-queue.ts). */
const PREFETCH_HORIZON_MS = 50;
/** A claimed job that waited this long goes back to the store for another process to take. */
const PREFETCH_MAX_WAIT_MS = 1000;

export class Producer {
  readonly #driver: Driver;
  readonly #o: ProducerOptions;
  readonly #events: TypedEvents;
  readonly #run: RunJob;
  readonly #waiting: LocalQueue;
  #running = false;
  /** A claim round is scheduled for the next turn of the event loop. */
  #tick = false;
  /** When the current run of same-turn starts began (see release in #start); null: none this turn. */
  #chainSince: number | null = null;
  readonly #claims = new Set<Promise<void>>();
  /** Jobs asked for by the claims in flight. */
  #reserved = 0;
  /** Slots held for jobs being inserted claimed (offer); each settles when its job started or was not claimed. */
  readonly #handoffs = new Set<Promise<void>>();
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

  constructor(driver: Driver, options: ProducerOptions, events: TypedEvents, run: RunJob) {
    this.#driver = driver;
    this.#o = options;
    this.#events = events;
    this.#run = run;
    this.#waiting = new LocalQueue({
      max: options.prefetch,
      horizonMs: PREFETCH_HORIZON_MS,
      maxWaitMs: PREFETCH_MAX_WAIT_MS,
      concurrency: options.concurrency,
    });
  }

  /** When the last claim answered (successfully, jobs or none), and failed claims since. */
  get claimHealth(): { lastClaimAt: Date | null; failuresInARow: number } {
    return { lastClaimAt: this.#lastClaimAt === null ? null : new Date(this.#lastClaimAt), failuresInARow: this.#claimFailures };
  }

  /** Jobs of this producer not yet finished, outcome writes included. */
  get inFlight(): number {
    return this.#pending;
  }

  /** Claimed jobs waiting for a slot. */
  get waiting(): number {
    return this.#waiting.size;
  }

  async start(): Promise<void> {
    if (this.#running) return;
    this.#running = true;
    if (this.#driver.onJobsAvailable !== undefined) {
      try {
        const un = await this.#driver.onJobsAvailable((queue) => {
          if (this.#o.queues.includes(queue)) this.wake();
        });
        // Stopped while LISTEN was being set up: stop() found nothing to undo, so undo it here.
        if (this.#running) this.#unlisten = un;
        else await un().catch(() => undefined);
      } catch (err) {
        // Polling alone is correct; LISTEN only lowers latency.
        this.#events.emit('error', { error: err as Error, component: 'producer (listen)' });
      }
    }
    this.#schedulePoll();
    this.wake();
  }

  /**
   * Stops claiming at once and hands every waiting job back to the store; resolves when the
   * claims in flight (if any) have returned (what they bring is handed back too).
   */
  async stop(): Promise<void> {
    this.#running = false;
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
    const un = this.#unlisten;
    this.#unlisten = null;
    if (un !== null) await un().catch(() => {});
    this.#handBack(this.#waiting.takeAll());
    await Promise.all([...this.#claims, ...this.#handoffs]);
  }

  /**
   * Holds a slot for a job of `task` in `queue` about to be inserted, when this producer is idle
   * (see the header); null otherwise. The insert carries `claim`; its outcome goes to `take`.
   */
  offer(task: string, queue: string): Handoff | null {
    // Idle: a claim has answered, the last one found no backlog, and no wake-up waits to claim
    // (for a job that finished, a NOTIFY, a retry); nothing waits here.
    if (!this.#running || this.#lastClaimAt === null || this.#backlog || this.#tick || this.#wanted) return null;
    if (this.#waiting.size > 0 || !this.#o.mayClaim()) return null;
    // A slot nobody holds: not running a job, not held for another insert, not reserved by a claim in flight.
    const busy = this.#inFlight + this.#handoffs.size + this.#reserved;
    if (busy >= this.#o.concurrency || this.#writesBehind()) return null;
    if (!this.#o.queues.includes(queue) || !this.#o.tasks.includes(task)) return null;
    let settle!: () => void;
    const slot = new Promise<void>((resolve) => (settle = resolve));
    this.#handoffs.add(slot);
    const claim = { token: randomUUID(), leaseMs: this.#o.leaseMs, workerId: this.#o.workerId };
    const offeredAt = performance.now();
    let taken = false;
    return {
      claim,
      take: (job) => {
        if (taken) return;
        taken = true;
        if (job === null || job.state !== 'running') {
          this.#handoffs.delete(slot);
          this.wake();
          settle();
          return;
        }
        const claimed = { job, token: claim.token };
        SCOPE.runInAsyncScope(() =>
          setImmediate(() => {
            this.#handoffs.delete(slot);
            // Stopped meanwhile, or its start deadline passed: back to the store like a claimed job.
            const startBy = startDeadline(job, offeredAt);
            const now = performance.now();
            if (this.#running && (startBy === null || now < startBy)) this.#start(claimed);
            else this.#decide({ claimed, since: now, startBy }, { kind: 'released' });
            settle();
          }),
        );
      },
    };
  }

  /** Resolves when no job of this producer is executing or has its outcome being written. */
  idle(): Promise<void> {
    if (this.#pending === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idle.push(resolve));
  }

  wake(): void {
    if (!this.#running || this.#tick) return;
    this.#tick = true;
    SCOPE.runInAsyncScope(() =>
      setImmediate(() => {
        this.#tick = false;
        this.#chainSince = null;
        this.#fill();
      }),
    );
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
      this.#handBack(this.#waiting.takeStale(performance.now()));
      this.wake();
      this.#schedulePoll();
    }, this.#o.pollMs);
  }

  /** Starts waiting jobs on the free slots, then claims for what is missing, as many claims as may be in flight. */
  #fill(): void {
    // Held back (a drowning loop must not take more work); the caller wakes us on recovery.
    if (!this.#running || !this.#o.mayClaim()) return;
    this.#startWaiting();
    let started = false;
    while (this.#running) {
      const target = this.#waiting.target;
      const missing = this.#o.concurrency - this.#inFlight - this.#handoffs.size + target - this.#waiting.size - this.#reserved;
      if (missing <= 0 || this.#writesBehind()) return;
      if (this.#claims.size >= (this.#backlog ? 2 : 1)) {
        // A wake-up that finds every claim in flight claims again when one returns. Not when this
        // round started the claim itself: that claim is the answer to the wake-up, and wanting
        // another would make an idle producer claim in a tight loop.
        if (!started) this.#wanted = true;
        return;
      }
      // Half of a full buffer per claim, so that two claims can overlap under a backlog.
      const limit = Math.min(missing, Math.ceil((this.#o.concurrency + target) / 2), this.#o.claimBatch);
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
    const sentAt = performance.now();
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
    const now = performance.now();
    for (const job of jobs) {
      const startBy = startDeadline(job.job, sentAt);
      // A cancel request that came while the job's last attempt was ending (it failed, snoozed or
      // was released before its signal was aborted) left it waiting with the request: end it now,
      // as the request asked, rather than run it again until the request is noticed.
      if (job.job.cancelRequestedAt !== null) {
        this.#decide({ claimed: job, since: now, startBy }, { kind: 'cancelled', reason: job.job.cancelReason });
        continue;
      }
      const replaced = this.#waiting.push(job, now, startBy);
      if (replaced !== undefined) this.#o.unhold(replaced.claimed.token);
      this.#o.hold(job, (reason) => this.#onWaitingAbort(job.token, reason));
    }
    // Stopped while the claim was out: what it brought goes back at once.
    if (!this.#running) this.#handBack(this.#waiting.takeAll());
    else this.#startWaiting();
    this.#backlog = jobs.length === limit;
    if (this.#backlog || this.#wanted) {
      this.#wanted = false;
      this.wake();
    }
  }

  /**
   * Outcomes still being written reached their bound (see the header): take no more work until
   * they catch up. Twice a full buffer: at one buffer, a worker whose jobs all finished stopped
   * claiming until their write returned, and the store sat idle while the claim waited (claim,
   * run, write in lockstep); with room for a second buffer, the next claim goes out while the
   * last batch's outcomes are written (~8% more jobs/s at concurrency 50, both stores).
   */
  #writesBehind(): boolean {
    return this.#pending - this.#inFlight >= 2 * (this.#o.concurrency + this.#o.prefetch);
  }

  /** Starts waiting jobs while slots are free. */
  #startWaiting(): void {
    while (this.#inFlight + this.#handoffs.size < this.#o.concurrency) {
      const w = this.#waiting.shift();
      if (w === undefined) return;
      this.#o.unhold(w.claimed.token);
      // Claimed before its start deadline but not started by it: never run late. Handed back, the
      // claim passes it over and the expirer ends it (cancelled, reason expired) like any other.
      if (w.startBy !== null && performance.now() >= w.startBy) this.#decide(w, { kind: 'released' });
      else this.#start(w.claimed);
    }
  }

  /** A waiting job's lease was lost (drop it: someone else owns it now) or its cancel was requested. */
  #onWaitingAbort(token: string, reason: OffloadError): void {
    const w = this.#waiting.remove(token);
    if (w === undefined) return;
    this.#o.unhold(token);
    if (reason.code === 'OFFLOAD_CANCELLED') this.#decide(w, { kind: 'cancelled', reason: cancelReasonOf(reason) });
  }

  #handBack(entries: Waiting[]): void {
    for (const w of entries) {
      this.#o.unhold(w.claimed.token);
      this.#decide(w, { kind: 'released' });
    }
  }

  /** Writes the outcome of a job that never started; it holds no slot. */
  #decide(w: Waiting, outcome: AttemptOutcome): void {
    this.#track(this.#run(w.claimed, () => {}, outcome));
  }

  #start(job: ClaimedJob): void {
    this.#inFlight++;
    const startedAt = performance.now();
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      this.#inFlight--;
      this.#waiting.recordSlotTime(performance.now() - startedAt);
      // The freed slot takes the next waiting job now rather than on the next turn of the event
      // loop: at low concurrency a turn per job was most of a short job's cost, and the
      // completions of one turn share one write. Such starts chain (each runs until its first
      // await, in microtasks), and no I/O runs until the chain ends: it ends once it has run for
      // CHAIN_MS, and the rest start on the next turn (wake), as before. Claims stay there too.
      if (this.#running && this.#waiting.size > 0 && this.#o.mayClaim()) {
        const now = performance.now();
        this.#chainSince ??= now;
        if (now - this.#chainSince < CHAIN_MS) this.#startWaiting();
      }
      this.wake();
    };
    // #run never rejects (the executor reports its own failures); its end frees what is left.
    this.#track(this.#run(job, release, null), release);
  }

  /** Counts `p` as pending until it settles; `then` runs first when it does (one callback per job, not a chain). */
  #track(p: Promise<void>, then?: () => void): void {
    this.#pending++;
    const settled = () => {
      then?.();
      this.#pending--;
      if (this.#pending === 0) {
        const idle = this.#idle;
        this.#idle = [];
        for (const fn of idle) fn();
      }
      // Writes catching up may have lifted the bound on outcomes being written.
      this.wake();
    };
    void p.then(settled, settled);
  }
}

/**
 * When a claimed job must have started, on this process's performance.now() clock, or null when
 * it has no start deadline. The deadline (expiresAt) and the claim's time (attemptedAt) are both
 * the database's clock, which this host's clock may differ from by any amount (PostgreSQL on
 * another machine): only their difference counts, from when the claim was sent, which is at or
 * before the database's now, so the deadline errs early by at most a round trip, never late.
 */
export function startDeadline(job: Job, sentAt: number): number | null {
  if (job.expiresAt === null) return null;
  const claimedAt = job.attemptedAt?.getTime() ?? job.expiresAt.getTime();
  return sentAt + (job.expiresAt.getTime() - claimedAt);
}
