/**
 * The composition root: `createOffload` wires a store, tasks and the runtime into the client
 * users hold. It does no I/O until first used; migrations run once, on the first call that
 * needs the store.
 */
import { encodeJson } from '../core/json-value.ts';
import { checkKeys, intOption, NAME_PATTERN, stringOption } from '../core/options.ts';
import { IdempotencyConflictError, isOffloadError, OffloadError } from '../errors.ts';
import { TypedEvents, type OffloadEventName, type OffloadEvents } from '../observability/events.ts';
import { consoleLogger } from '../observability/logger.ts';
import type { Driver, InsertOutcome, JobInsert } from '../storage/driver.ts';
import type { EnqueueOptions, EnqueueResult, Job, Logger, LoopStats, QueueStats, TaskDefinition } from '../types.ts';
import { Admission } from './admission.ts';
import type { ThreadPoolStats } from './threads/pool.ts';
import { loadInstrumentation, type Instrumentation, type TracingOptions } from '../observability/tracing.ts';
import { createMetrics, type Metrics, type MetricsOptions } from '../observability/metrics.ts';
import { systemClock, type Clock } from './clock.ts';
import { buildInsert, checkEnqueueOptions, fingerprintOf, validatePayload } from './enqueue.ts';
import { GroupCommit } from './group-commit.ts';
import { JobsApi } from './jobs-api.ts';
import { LoopHealth } from './loop-health.ts';
import { loopHealthOptions, queueLimits, resolveSettings, type ClientSettings } from './client-settings.ts';
import { Expirer } from './maintenance/expirer.ts';
import type { Retention } from './maintenance/pruner.ts';
import { Pruner } from './maintenance/pruner.ts';
import { Rescuer } from './maintenance/rescuer.ts';
import { QueuesApi } from './queues-api.ts';
import { Workers } from './worker.ts';
import { WorkersApi } from './workers-api.ts';

export interface OffloadOptions {
  /** `sqlite({ path })` from `offload/sqlite` or `postgres({ url })` from `offload/postgres`. */
  store: Driver;
  tasks?: ReadonlyArray<TaskDefinition<any, any, any>>;
  /** pino or anything with its level methods and `child`. Default: JSON lines on stderr, warn and up. */
  logger?: Logger;
  /** Lease of a running job; a dead worker's jobs return after it expires. Default 15000. */
  leaseMs?: number;
  /** Heartbeat period. Default a third of leaseMs. */
  heartbeatMs?: number;
  /** How often running jobs are checked for cancel requests. Default 500. */
  cancelCheckMs?: number;
  /** Poll period when no wake-up arrives. Default 1000 (PostgreSQL, with NOTIFY) or 200 (SQLite). */
  pollMs?: number;
  /** Default 5000: with leaseMs, bounds the recovery time of a crashed worker's jobs. */
  rescueIntervalMs?: number;
  pruneIntervalMs?: number;
  /** How often waiting jobs past their start deadline are ended (`expired`). Default 1000. */
  expireIntervalMs?: number;
  /** How long final jobs are kept. Default completed and cancelled 24 h, discarded 7 days. */
  retention?: Partial<Retention>;
  /**
   * Per-queue settings. `maxBacklog`: at most this many jobs wait in the queue (scheduled,
   * available, retryable); `enqueue` beyond it fails fast with OFFLOAD_OVERLOADED and a
   * `retryAfterMs`, and nothing is stored.
   * The key `'*'` holds for every queue not named: without it, a queue nobody named (one an
   * enqueue or an HTTP submit names) has no bound.
   * @example
   * queues: { emails: { maxBacklog: 10_000 }, '*': { maxBacklog: 100_000 } }
   */
  queues?: Record<string, { maxBacklog?: number }>;
  /** How often a bounded queue's backlog is read from the store by enqueue. Default 250. */
  admissionRefreshMs?: number;
  /**
   * Event-loop health. `maxDelayMs` (default 100): over this delay p99 the process stops claiming
   * until it falls under `resumeDelayMs` (default half). `blockedMs` (default 200): one stretch
   * this long raises `loop:blocked` naming the main-thread tasks that ran. `false` turns it off.
   */
  loop?: false | { maxDelayMs?: number; resumeDelayMs?: number; blockedMs?: number };
  /**
   * The worker-thread pool of `kind: 'thread'` tasks. `size`: threads (default: the machine's
   * available parallelism). `maxMemoryMb`: V8 heap limit per thread (default none); a job over it
   * fails with OFFLOAD_THREAD_OUT_OF_MEMORY. `maxJobsPerThread`: a thread is replaced after this
   * many jobs (default 10000). `terminateGraceMs`: how long an aborted handler (timeout, cancel,
   * shutdown) gets to stop before its thread is terminated (default 1000).
   */
  threads?: { size?: number; maxMemoryMb?: number; maxJobsPerThread?: number; terminateGraceMs?: number };
  /**
   * OpenTelemetry tracing (through `@opentelemetry/api` when it is installed; no SDK inside): an
   * enqueue inside an active span stores its trace context with the job, and each attempt runs in
   * a consumer span that continues it. Default on when the API is installed; `false` turns it off.
   */
  tracing?: false | TracingOptions;
  /** Default 1 MiB. */
  maxPayloadBytes?: number;
  /** Default 1 MiB. */
  maxResultBytes?: number;
  /** Default 64 KiB. */
  maxProgressBytes?: number;
  /** @internal tests only */
  clock?: Clock;
}

export interface StartOptions {
  /** Jobs run at once by this process. Default 10. */
  concurrency?: number;
  /** Queues to work. Default: the queues of the registered tasks. */
  queues?: string[];
  /**
   * Jobs claimed ahead of free slots at most, so that one claim feeds many starts. Sized by time
   * within this cap: about 50 ms of work at the measured job duration (short jobs get a deep
   * buffer, second-long jobs none), and a job that waited 1 s goes back to the store. 0 claims
   * only for free slots. Default 300.
   */
  prefetch?: number;
}

export interface StopOptions {
  /** Time running jobs get to finish before their signals are aborted. Default 10000. */
  graceMs?: number;
}

/** What `offload.stats()` reports. */
export interface OffloadStats {
  loop: LoopStats;
  queues: QueueStats[];
  /** This process's workers, or null when not started. */
  workers: {
    id: string;
    concurrency: number;
    running: number;
    /** Jobs claimed ahead and waiting for a slot (see `prefetch`). */
    waiting: number;
    /** Not held back by the loop guard. */
    claiming: boolean;
    pausedBy: 'loop' | null;
    /** When a claim last answered, and how many claims failed since (a store that refuses them). */
    lastClaimAt: Date | null;
    claimFailuresInARow: number;
  } | null;
  /** The thread pool of this process's workers: null when not started or without thread tasks. */
  threads: ThreadPoolStats | null;
}

type AnyTask = TaskDefinition<any, any, any>;
type InputOf<T> = T extends TaskDefinition<infer I, any, any> ? I : unknown;


/**
 * Creates a client: enqueue jobs, run workers, read and control jobs.
 * @example
 * const offload = createOffload({ store: sqlite(), tasks: [resize] })
 * const { job } = await offload.enqueue(resize, { url, width: 200 })
 * await offload.start({ concurrency: 50 })
 */
export function createOffload(options: OffloadOptions): Offload {
  return new Offload(options);
}

export class Offload {
  readonly #driver: Driver;
  readonly #tasks = new Map<string, AnyTask>();
  readonly #events = new TypedEvents();
  readonly #logger: Logger;
  readonly #clock: Clock;
  readonly #o: ClientSettings;
  readonly #inserts: GroupCommit<JobInsert, InsertOutcome>;
  readonly #admission: Admission;
  readonly #loop: LoopHealth | null;
  readonly #tracing: false | TracingOptions;
  #instrumentation: Promise<Instrumentation | null> | null = null;
  #metrics: Metrics | null = null;
  #ready: Promise<void> | null = null;
  #workers: Workers | null = null;
  #closed = false;
  #closing = false;

  /** Read, cancel, retry and wait for jobs. */
  readonly jobs: JobsApi;
  /** Queue depth, drain rate and estimated wait; pause and resume. */
  readonly queues: QueuesApi;
  /** Every worker process registered in the store, this one's and others'. */
  readonly workers: WorkersApi;
  /** Maintenance rounds on demand (they also run periodically in started workers). */
  readonly maintenance: {
    rescue: () => Promise<{ retried: string[]; discarded: string[]; cancelled: string[] }>;
    prune: () => Promise<number>;
    expire: () => Promise<Job[]>;
  };

  constructor(options: OffloadOptions) {
    const o = checkKeys(
      options,
      [
        'store',
        'tasks',
        'logger',
        'leaseMs',
        'heartbeatMs',
        'cancelCheckMs',
        'pollMs',
        'rescueIntervalMs',
        'pruneIntervalMs',
        'expireIntervalMs',
        'retention',
        'maxPayloadBytes',
        'maxResultBytes',
        'maxProgressBytes',
        'queues',
        'admissionRefreshMs',
        'loop',
        'threads',
        'tracing',
        'clock',
      ],
      'createOffload()',
    );
    const store = o['store'] as Driver | undefined;
    if (store === undefined || typeof store !== 'object' || typeof store.jobClaim !== 'function') {
      throw new OffloadError('OFFLOAD_INVALID_OPTIONS', "createOffload(): store is required: sqlite() from 'offload/sqlite' or postgres() from 'offload/postgres'");
    }
    this.#driver = store;
    for (const t of (o['tasks'] as AnyTask[] | undefined) ?? []) {
      if (this.#tasks.has(t.name)) throw new OffloadError('OFFLOAD_INVALID_OPTIONS', `createOffload(): two tasks are named '${t.name}'`);
      this.#tasks.set(t.name, t);
    }
    this.#logger = (o['logger'] as Logger | undefined) ?? consoleLogger('warn');
    this.#clock = (o['clock'] as Clock | undefined) ?? systemClock;
    this.#o = resolveSettings(o, store.capabilities.crossProcessNotify);
    this.#inserts = new GroupCommit((jobs) => this.#driver.jobInsertMany({ jobs, atomic: false }), 1000);
    this.#tracing = o['tracing'] === false ? false : ((o['tracing'] as TracingOptions | undefined) ?? {});
    this.#admission = new Admission(this.#driver, queueLimits(o['queues']), this.#o.admissionRefreshMs, () => this.#clock.now());
    const loop = loopHealthOptions(o['loop']);
    this.#loop = loop === null ? null : new LoopHealth(loop, this.#events, this.#logger, () => this.#workers?.takeRecentMainThreadTasks() ?? []);
    this.jobs = new JobsApi(this);
    const queues = () => [...new Set([...[...this.#tasks.values()].map((t) => t.queue), ...Object.keys((o['queues'] as object | undefined) ?? {})])];
    this.queues = new QueuesApi({
      ready: () => this.ready(),
      knownQueues: queues,
      maxBacklogOf: (q) => this.#admission.limitOf(q),
      wakeAll: () => this.#workers?.wake(),
      events: this.#events,
    });
    this.workers = new WorkersApi(() => this.ready());
    const rescuer = new Rescuer(this.#driver, this.#events);
    const pruner = new Pruner(this.#driver, this.#o.retention, this.#events);
    const expirer = new Expirer(this.#driver, this.#events);
    this.maintenance = {
      rescue: async () => (await this.#ensureReady(), rescuer.runOnce()),
      prune: async () => (await this.#ensureReady(), pruner.runOnce()),
      expire: async () => (await this.#ensureReady(), expirer.runOnce()),
    };
  }

  /** @internal the store, for the jobs API and tests. */
  get driver(): Driver {
    return this.#driver;
  }

  /** The id of this process's workers, or null when not started. */
  get workerId(): string | null {
    return this.#workers?.id ?? null;
  }

  /**
   * Subscribes to an event; returns the unsubscribe function.
   * @example
   * offload.on('job:failed', ({ job, error }) => console.warn(job.id, error.message))
   */
  on<E extends OffloadEventName>(event: E, listener: (payload: OffloadEvents[E]) => void): () => void {
    return this.#events.on(event, listener);
  }

  /** Applies migrations (once; later calls reuse the first result). */
  migrate(): Promise<void> {
    return this.#ensureReady();
  }

  /**
   * The tracing seam, loaded once. A broken OpenTelemetry install is reported once and the client
   * runs untraced: tracing must never stop jobs from being enqueued or run.
   */
  #tracer(): Promise<Instrumentation | null> {
    if (this.#tracing === false) return Promise.resolve(null);
    this.#instrumentation ??= loadInstrumentation(this.#tracing).catch((err: unknown) => {
      this.#logger.warn({ err }, 'tracing is off: @opentelemetry/api could not be loaded');
      return null;
    });
    return this.#instrumentation;
  }

  #ensureReady(): Promise<void> {
    if (this.#closed) return Promise.reject(new OffloadError('OFFLOAD_CLOSED', 'this offload client is closed'));
    if (this.#ready === null) {
      this.#ready = this.#driver.migrate();
      // A failed migration is retried by the next call instead of poisoning the client.
      this.#ready.catch(() => {
        this.#ready = null;
      });
    }
    return this.#ready;
  }

  /** @internal */
  async ready(): Promise<Driver> {
    await this.#ensureReady();
    return this.#driver;
  }

  #task(task: AnyTask | string, where: string): AnyTask {
    if (typeof task === 'string') {
      const t = this.#tasks.get(task);
      if (t === undefined) {
        const known = [...this.#tasks.keys()];
        throw new OffloadError('OFFLOAD_UNKNOWN_TASK', `${where}: no task named '${task}'${known.length ? `; known: ${known.join(', ')}` : ''}`, { details: { task } });
      }
      return t;
    }
    if (typeof task !== 'object' || task === null || typeof task.name !== 'string' || typeof task.handler !== 'function') {
      throw new OffloadError('OFFLOAD_UNKNOWN_TASK', `${where}: expected a task from defineTask() or a task name`);
    }
    return task;
  }

  /**
   * Enqueues one job. Concurrent calls share transactions (group commit). When a worker of this
   * process is idle, it takes the job in the insert itself: the job returned is then `running`
   * (attempt 1) and starts on the next turn of the event loop, without a claim.
   * @example
   * const { job, created } = await offload.enqueue(resize, { url, width: 200 }, { idempotencyKey: `resize:${id}` })
   */
  async enqueue<T extends AnyTask | string>(task: T, payload: T extends AnyTask ? InputOf<T> : unknown, options?: EnqueueOptions): Promise<EnqueueResult> {
    const def = this.#task(task, 'enqueue');
    const o = checkEnqueueOptions(options, 'enqueue');
    // Read before any await of ours could leave the caller's span (context follows awaits, but
    // the group commit runs the insert later, from whichever enqueue opened the batch).
    const trace = (await this.#tracer())?.inject() ?? null;
    const insert = buildInsert(def, await validatePayload(def, payload), o, this.#o.maxPayloadBytes, trace);
    await this.#ensureReady();
    try {
      await this.#admit(insert.queue, def.name, 1);
    } catch (err) {
      // A replay of a keyed enqueue adds nothing to the backlog: it answers with the job it made
      // (or the conflict), full queue or not. A client retrying after a lost answer must learn
      // its job exists rather than be told to come back later, again and again.
      const replay = isOffloadError(err, 'OFFLOAD_OVERLOADED') && insert.idempotencyKey !== null ? await this.#replayOf(insert, def) : null;
      if (replay !== null) return replay;
      throw err;
    }
    // An idle worker of this process takes the job in its own insert (Producer.offer). Never in
    // a caller's transaction: the job must not start before that commits, or if it rolls back.
    const handoff = o.tx === undefined && insert.runAt === null && insert.delayMs === 0 ? (this.#workers?.offer(insert.task, insert.queue) ?? null) : null;
    let outcome: InsertOutcome;
    try {
      if (o.tx !== undefined) outcome = (await this.#driver.jobInsertMany({ jobs: [insert], atomic: true, tx: o.tx }))[0]!;
      else {
        const written = this.#inserts.submit(handoff === null ? insert : { ...insert, claim: handoff.claim });
        if (handoff === null) this.#wakeAhead(insert);
        outcome = await written;
      }
    } catch (err) {
      if (handoff !== null) {
        // The error may have come after the commit (a connection lost on the way back): a job
        // inserted under our lease would wait for the rescuer and lose an attempt it never ran.
        // Give the lease back, without holding up the caller's error (the slot stays held until
        // it is done); if the store cannot be reached for that either, the rescuer it is.
        void this.#driver
          .jobUnclaim({ token: handoff.claim.token })
          .catch(() => false)
          .then(() => handoff.take(null));
      }
      this.#admission.release(insert.queue, 1);
      throw err;
    }
    let handed = false;
    try {
      // A job handed over is running: it never waited, so it takes no room in the backlog.
      handed = outcome.kind === 'created' && outcome.job.state === 'running';
      if (outcome.kind !== 'created' || handed) this.#admission.release(insert.queue, 1);
      // Inside a caller's transaction the job is invisible until commit: a wake-up now would find nothing.
      if (o.tx === undefined) this.#afterInsert([outcome]);
    } finally {
      // After job:enqueued, so that listeners hear of the job before it starts.
      handoff?.take(handed ? outcome.job : null);
    }
    return this.#result(outcome, def);
  }

  /**
   * Enqueues many jobs of one task in one transaction: all of them or, on any error, none.
   * `options` apply to every job; idempotency keys are per job, so they are not accepted here.
   * @example
   * await offload.enqueueMany(resize, images.map((i) => ({ url: i.url, width: 200 })))
   */
  async enqueueMany<T extends AnyTask | string>(task: T, payloads: ReadonlyArray<T extends AnyTask ? InputOf<T> : unknown>, options?: Omit<EnqueueOptions, 'idempotencyKey'>): Promise<EnqueueResult[]> {
    const def = this.#task(task, 'enqueueMany');
    if (!Array.isArray(payloads)) throw new OffloadError('OFFLOAD_INVALID_OPTIONS', 'enqueueMany: payloads must be an array');
    const o = checkEnqueueOptions(options, 'enqueueMany');
    if (o.idempotencyKey !== null) throw new OffloadError('OFFLOAD_INVALID_OPTIONS', 'enqueueMany: idempotencyKey is per job; use enqueue() for keyed jobs');
    if (payloads.length === 0) return [];
    const inserts: JobInsert[] = [];
    const trace = (await this.#tracer())?.inject() ?? null;
    for (const [i, p] of payloads.entries()) {
      try {
        inserts.push(buildInsert(def, await validatePayload(def, p), o, this.#o.maxPayloadBytes, trace));
      } catch (err) {
        if (err instanceof OffloadError) throw new OffloadError(err.code, `enqueueMany: payload [${i}]: ${err.message}`, { cause: err, details: { index: i, ...(err.details as object) } });
        throw err;
      }
    }
    await this.#ensureReady();
    const queue = inserts[0]!.queue;
    await this.#admit(queue, def.name, inserts.length);
    let outcomes: InsertOutcome[];
    try {
      // One driver call, one transaction, however many jobs: all of them or none.
      outcomes = await this.#driver.jobInsertMany({ jobs: inserts, atomic: true, tx: o.tx });
    } catch (err) {
      this.#admission.release(queue, inserts.length);
      throw err;
    }
    if (o.tx === undefined) this.#afterInsert(outcomes);
    return outcomes.map((out) => this.#result(out, def));
  }

  /** The answer to a keyed enqueue whose key is taken already, or null when it is not. */
  async #replayOf(insert: JobInsert, def: AnyTask): Promise<EnqueueResult | null> {
    const [prior] = await this.#driver.jobList({ states: null, task: insert.task, queue: null, idempotencyKey: insert.idempotencyKey, beforeId: null, limit: 1 });
    if (prior === undefined) return null;
    return this.#result({ kind: fingerprintOf(prior.payload) === insert.fingerprint ? 'existing' : 'conflict', job: prior }, def);
  }

  /** @internal wakes this process's workers when `job` is theirs to take now. */
  wakeFor(job: Job): void {
    this.#afterInsert([{ kind: 'created', job }]);
  }

  /** @internal wakes this process's workers when one of `queues` is theirs (a bulk retry made jobs due). */
  wakeQueues(queues: readonly string[]): void {
    const w = this.#workers;
    if (w !== null && queues.some((q) => w.queues.includes(q))) w.wake();
  }

  /** Admission control; a refusal is also a `job:rejected` event. */
  async #admit(queue: string, task: string, count: number): Promise<void> {
    try {
      await this.#admission.admit(queue, task, count);
    } catch (err) {
      if (isOffloadError(err, 'OFFLOAD_OVERLOADED')) this.#events.emit('job:rejected', { task, queue, reason: 'backlog' });
      throw err;
    }
  }

  /**
   * On a store that runs this process's requests in order, wakes the workers as the insert goes
   * out rather than once it is acknowledged: the producer's claim, made on a later turn, queues
   * behind the insert, finds the job, and on SQLite both commit in one group (one fsync, one round
   * trip before the job starts instead of two). If the insert's batch leaves later (a previous
   * one still in flight), the claim finds nothing and the wake-up after the insert claims it.
   */
  #wakeAhead(insert: JobInsert): void {
    const w = this.#workers;
    if (w === null || !this.#driver.capabilities.ordered) return;
    if (insert.runAt === null && insert.delayMs === 0 && w.queues.includes(insert.queue)) w.wake();
  }

  #afterInsert(outcomes: InsertOutcome[]): void {
    if (this.#events.wants('job:enqueued')) {
      for (const out of outcomes) if (out.kind === 'created') this.#events.emit('job:enqueued', { job: out.job });
    }
    const w = this.#workers;
    if (w === null) return;
    // The store's state says whether the job is due, on the database's clock: comparing runAt with
    // this host's clock would miss the wake-up whenever the host runs behind the database.
    const claimable = (job: Job) => job.state === 'available' && w.queues.includes(job.queue);
    if (outcomes.some((out) => out.kind === 'created' && claimable(out.job))) w.wake();
  }

  #result(outcome: InsertOutcome, def: AnyTask): EnqueueResult {
    if (outcome.kind === 'conflict') throw new IdempotencyConflictError(def.name, outcome.job.idempotencyKey ?? '', outcome.job.id);
    return { job: outcome.job, created: outcome.kind === 'created' };
  }

  /**
   * Starts workers in this process. Idempotent while started.
   * @example
   * await offload.start({ concurrency: 50 })
   */
  async start(options: StartOptions = {}): Promise<void> {
    const o = checkKeys(options, ['concurrency', 'queues', 'prefetch'], 'start()');
    if (this.#tasks.size === 0) throw new OffloadError('OFFLOAD_INVALID_OPTIONS', 'start(): no tasks registered; pass tasks to createOffload()');
    const concurrency = intOption(o['concurrency'], 'start(): concurrency', 1, 10_000, 10);
    const prefetch = intOption(o['prefetch'], 'start(): prefetch', 0, 100_000, 300);
    const rawQueues = o['queues'];
    if (rawQueues !== undefined && (!Array.isArray(rawQueues) || rawQueues.length === 0)) {
      throw new OffloadError('OFFLOAD_INVALID_OPTIONS', 'start(): queues must be a non-empty array of queue names');
    }
    const queues = rawQueues === undefined ? [...new Set([...this.#tasks.values()].map((t) => t.queue))] : (rawQueues as unknown[]).map((q, i) => stringOption(q, `start(): queues[${i}]`, '', NAME_PATTERN));
    return this.#serially(() => this.#start(queues, concurrency, prefetch));
  }

  /**
   * Runs start and stop one after another, in call order. Each awaits (migrations, LISTEN, the
   * grace period), and interleaved they went wrong: a stop during a start saw no workers yet and
   * returned, and the workers then started with nobody to stop them; a start during a stop saw
   * the old workers and returned, and then there were none.
   */
  #serially<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#lifecycle.then(fn, fn);
    this.#lifecycle = run.catch(() => undefined);
    return run;
  }

  #lifecycle: Promise<unknown> = Promise.resolve();

  async #start(queues: string[], concurrency: number, prefetch: number): Promise<void> {
    if (this.#workers !== null) return;
    if (this.#closing) throw new OffloadError('OFFLOAD_CLOSED', 'start(): the client is closed');
    await this.#ensureReady();
    const instrumentation = await this.#tracer();
    const maxProgressBytes = this.#o.maxProgressBytes;
    const workers = new Workers(
      this.#driver,
      this.#tasks,
      {
        ...this.#o,
        loop: this.#loop,
        instrumentation,
        queues,
        concurrency,
        // One statement's worth: larger claims hold row locks longer than they save round trips.
        claimBatch: 1000,
        prefetch,
        progress: (id, token, value) =>
          this.#driver.jobProgress({ id, token, progress: encodeJson(value, 'progress', maxProgressBytes, 'OFFLOAD_PAYLOAD_TOO_LARGE') }),
      },
      this.#events,
      this.#logger,
      this.#clock,
    );
    this.#workers = workers;
    this.#loop?.start();
    try {
      await workers.start();
    } catch (err) {
      // Undo what did start, so that a later start() begins again instead of finding these.
      this.#workers = null;
      await workers.stop(0).catch(() => undefined);
      throw err;
    }
  }

  /**
   * Event-loop health of this process right now (synchronous and cheap: an HTTP front can call it
   * on every request to shed load). Measuring starts with the first call or with `start()`.
   * @example
   * if (offload.loop().overloaded) reply.code(503).header('retry-after', '1').send()
   */
  loop(): LoopStats {
    if (this.#loop === null) return { delayP50Ms: 0, delayP99Ms: 0, delayMaxMs: 0, utilization: 0, overloaded: false };
    this.#loop.start();
    return this.#loop.stats();
  }

  /**
   * Loop health, every queue's depth and drain rate, and this process's workers.
   * @example
   * const { loop, queues, workers } = await offload.stats()
   */
  async stats(): Promise<OffloadStats> {
    const queues = await this.queues.list();
    const w = this.#workers;
    return {
      loop: this.loop(),
      queues,
      workers:
        w === null
          ? null
          : {
              id: w.id,
              concurrency: w.concurrency,
              running: w.running,
              waiting: w.waiting,
              claiming: !w.pausedByLoop,
              pausedBy: w.pausedByLoop ? 'loop' : null,
              lastClaimAt: w.claimHealth.lastClaimAt,
              claimFailuresInARow: w.claimHealth.failuresInARow,
            },
      threads: w?.threads ?? null,
    };
  }

  /**
   * Prometheus metrics of this client (counters, histograms, gauges; see docs/observability.md).
   * Created on the first call, which starts the counting: call it at startup. Later calls return
   * the same instance (their options are ignored).
   * @example
   * const metrics = offload.metrics()
   * app.get('/metrics', async (_req, reply) => reply.type(metrics.contentType).send(await metrics.text()))
   */
  metrics(options?: MetricsOptions): Metrics {
    this.#metrics ??= createMetrics(this, options);
    return this.#metrics;
  }

  /**
   * Stops this process's workers: claiming stops at once, running jobs get `graceMs`, then are
   * aborted and released without charging the attempt.
   */
  async stop(options: StopOptions = {}): Promise<void> {
    const o = checkKeys(options, ['graceMs'], 'stop()');
    const graceMs = intOption(o['graceMs'], 'stop(): graceMs', 0, 86_400_000, 10_000);
    return this.#serially(async () => {
      const w = this.#workers;
      if (w === null) return;
      await w.stop(graceMs);
      this.#workers = null;
    });
  }

  /** Stops workers (see stop) and closes the store. */
  async close(options: StopOptions = {}): Promise<void> {
    if (this.#closed) return;
    // From here a start() fails: workers started now would outlive the store they run on.
    this.#closing = true;
    await this.stop(options);
    await this.#inserts.drained();
    this.#closed = true;
    this.#loop?.stop();
    this.#metrics?.close();
    await this.#driver.close();
  }

  /** @internal */
  get events(): TypedEvents {
    return this.#events;
  }
}
