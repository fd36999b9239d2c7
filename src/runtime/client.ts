/**
 * The composition root: `createOffload` wires a store, tasks and the runtime into the client
 * users hold. It does no I/O until first used; migrations run once, on the first call that
 * needs the store.
 */
import { encodeJson } from '../core/json-value.ts';
import { checkKeys, describe, intOption, NAME_PATTERN, stringOption } from '../core/options.ts';
import { FINAL_STATES, sourcesOf, WAITING_STATES } from '../core/state-machine.ts';
import { IdempotencyConflictError, OffloadError } from '../errors.ts';
import { TypedEvents, type OffloadEventName, type OffloadEvents } from '../observability/events.ts';
import { consoleLogger } from '../observability/logger.ts';
import type { Driver, InsertOutcome, JobInsert } from '../storage/driver.ts';
import type { EnqueueOptions, EnqueueResult, Job, JobListFilter, JobPage, JobState, Logger, TaskDefinition } from '../types.ts';
import { JOB_STATES } from '../types.ts';
import { systemClock, type Clock } from './clock.ts';
import { buildInsert, checkEnqueueOptions, validatePayload } from './enqueue.ts';
import { GroupCommit } from './group-commit.ts';
import type { Retention } from './maintenance/pruner.ts';
import { Pruner } from './maintenance/pruner.ts';
import { Rescuer } from './maintenance/rescuer.ts';
import { Workers } from './worker.ts';

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
  /** How long final jobs are kept. Default completed and cancelled 24 h, discarded 7 days. */
  retention?: Partial<Retention>;
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
}

export interface StopOptions {
  /** Time running jobs get to finish before their signals are aborted. Default 10000. */
  graceMs?: number;
}

export interface WaitOptions {
  timeoutMs?: number;
  signal?: AbortSignal;
}

type AnyTask = TaskDefinition<any, any, any>;
type InputOf<T> = T extends TaskDefinition<infer I, any, any> ? I : unknown;

const HOUR = 3_600_000;

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
  readonly #o: Required<Omit<OffloadOptions, 'store' | 'tasks' | 'logger' | 'clock' | 'retention'>> & { retention: Retention };
  readonly #inserts: GroupCommit<JobInsert, InsertOutcome>;
  #ready: Promise<void> | null = null;
  #workers: Workers | null = null;
  #closed = false;

  /** Read, cancel, retry and wait for jobs. */
  readonly jobs: JobsApi;
  /** Maintenance rounds on demand (they also run periodically in started workers). */
  readonly maintenance: { rescue: () => Promise<{ retried: string[]; discarded: string[]; cancelled: string[] }>; prune: () => Promise<number> };

  constructor(options: OffloadOptions) {
    const o = checkKeys(
      options,
      ['store', 'tasks', 'logger', 'leaseMs', 'heartbeatMs', 'cancelCheckMs', 'pollMs', 'rescueIntervalMs', 'pruneIntervalMs', 'retention', 'maxPayloadBytes', 'maxResultBytes', 'maxProgressBytes', 'clock'],
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
    const leaseMs = intOption(o['leaseMs'], 'createOffload(): leaseMs', 100, 86_400_000, 15_000);
    const r = checkKeys(o['retention'], ['completedMs', 'cancelledMs', 'discardedMs'], 'createOffload(): retention');
    this.#o = {
      leaseMs,
      heartbeatMs: intOption(o['heartbeatMs'], 'createOffload(): heartbeatMs', 10, leaseMs - 1, Math.floor(leaseMs / 3)),
      cancelCheckMs: intOption(o['cancelCheckMs'], 'createOffload(): cancelCheckMs', 10, 60_000, 500),
      pollMs: intOption(o['pollMs'], 'createOffload(): pollMs', 10, 60_000, store.capabilities.crossProcessNotify ? 1000 : 200),
      rescueIntervalMs: intOption(o['rescueIntervalMs'], 'createOffload(): rescueIntervalMs', 10, 3_600_000, 5000),
      pruneIntervalMs: intOption(o['pruneIntervalMs'], 'createOffload(): pruneIntervalMs', 10, 86_400_000, 60_000),
      retention: {
        completedMs: intOption(r['completedMs'], 'createOffload(): retention.completedMs', 0, 2 ** 40, 24 * HOUR),
        cancelledMs: intOption(r['cancelledMs'], 'createOffload(): retention.cancelledMs', 0, 2 ** 40, 24 * HOUR),
        discardedMs: intOption(r['discardedMs'], 'createOffload(): retention.discardedMs', 0, 2 ** 40, 7 * 24 * HOUR),
      },
      maxPayloadBytes: intOption(o['maxPayloadBytes'], 'createOffload(): maxPayloadBytes', 16, 256 * 2 ** 20, 2 ** 20),
      maxResultBytes: intOption(o['maxResultBytes'], 'createOffload(): maxResultBytes', 16, 256 * 2 ** 20, 2 ** 20),
      maxProgressBytes: intOption(o['maxProgressBytes'], 'createOffload(): maxProgressBytes', 16, 16 * 2 ** 20, 64 * 2 ** 10),
    };
    this.#inserts = new GroupCommit((jobs) => this.#driver.jobInsertMany({ jobs, atomic: false }), 1000);
    this.jobs = new JobsApi(this);
    const rescuer = new Rescuer(this.#driver, this.#events);
    const pruner = new Pruner(this.#driver, this.#o.retention, this.#events);
    this.maintenance = {
      rescue: async () => (await this.#ensureReady(), rescuer.runOnce()),
      prune: async () => (await this.#ensureReady(), pruner.runOnce()),
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
   * Enqueues one job. Concurrent calls share transactions (group commit).
   * @example
   * const { job, created } = await offload.enqueue(resize, { url, width: 200 }, { idempotencyKey: `resize:${id}` })
   */
  async enqueue<T extends AnyTask | string>(task: T, payload: T extends AnyTask ? InputOf<T> : unknown, options?: EnqueueOptions): Promise<EnqueueResult> {
    const def = this.#task(task, 'enqueue');
    const o = checkEnqueueOptions(options, 'enqueue');
    const insert = buildInsert(def, await validatePayload(def, payload), o, this.#o.maxPayloadBytes);
    await this.#ensureReady();
    const outcome =
      o.tx !== undefined
        ? (await this.#driver.jobInsertMany({ jobs: [insert], atomic: true, tx: o.tx }))[0]!
        : await this.#inserts.submit(insert);
    // Inside a caller's transaction the job is invisible until commit: a wake-up now would find nothing.
    if (o.tx === undefined) this.#afterInsert([outcome]);
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
    for (const [i, p] of payloads.entries()) {
      try {
        inserts.push(buildInsert(def, await validatePayload(def, p), o, this.#o.maxPayloadBytes));
      } catch (err) {
        if (err instanceof OffloadError) throw new OffloadError(err.code, `enqueueMany: payload [${i}]: ${err.message}`, { cause: err, details: { index: i, ...(err.details as object) } });
        throw err;
      }
    }
    await this.#ensureReady();
    const outcomes: InsertOutcome[] = [];
    for (let i = 0; i < inserts.length; i += 5000) {
      outcomes.push(...(await this.#driver.jobInsertMany({ jobs: inserts.slice(i, i + 5000), atomic: true, tx: o.tx })));
    }
    if (o.tx === undefined) this.#afterInsert(outcomes);
    return outcomes.map((out) => this.#result(out, def));
  }

  /** @internal wakes this process's workers when `job` is theirs to take now. */
  wakeFor(job: Job): void {
    this.#afterInsert([{ kind: 'created', job }]);
  }

  #afterInsert(outcomes: InsertOutcome[]): void {
    const w = this.#workers;
    if (w === null) return;
    const now = Date.now();
    if (outcomes.some((out) => out.kind === 'created' && out.job.runAt.getTime() <= now && w.queues.includes(out.job.queue))) w.wake();
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
    const o = checkKeys(options, ['concurrency', 'queues'], 'start()');
    if (this.#workers !== null) return;
    if (this.#tasks.size === 0) throw new OffloadError('OFFLOAD_INVALID_OPTIONS', 'start(): no tasks registered; pass tasks to createOffload()');
    const concurrency = intOption(o['concurrency'], 'start(): concurrency', 1, 10_000, 10);
    const rawQueues = o['queues'];
    if (rawQueues !== undefined && (!Array.isArray(rawQueues) || rawQueues.length === 0)) {
      throw new OffloadError('OFFLOAD_INVALID_OPTIONS', 'start(): queues must be a non-empty array of queue names');
    }
    const queues = rawQueues === undefined ? [...new Set([...this.#tasks.values()].map((t) => t.queue))] : (rawQueues as unknown[]).map((q, i) => stringOption(q, `start(): queues[${i}]`, '', NAME_PATTERN));
    await this.#ensureReady();
    const maxProgressBytes = this.#o.maxProgressBytes;
    const workers = new Workers(
      this.#driver,
      this.#tasks,
      {
        ...this.#o,
        queues,
        concurrency,
        // Half the concurrency: two claims can be in flight under a backlog (see producer.ts).
        claimBatch: Math.min(Math.ceil(concurrency / 2), 1000),
        progress: (id, token, value) =>
          this.#driver.jobProgress({ id, token, progress: encodeJson(value, 'progress', maxProgressBytes, 'OFFLOAD_PAYLOAD_TOO_LARGE') }),
      },
      this.#events,
      this.#logger,
      this.#clock,
    );
    this.#workers = workers;
    await workers.start();
  }

  /**
   * Stops this process's workers: claiming stops at once, running jobs get `graceMs`, then are
   * aborted and released without charging the attempt.
   */
  async stop(options: StopOptions = {}): Promise<void> {
    const o = checkKeys(options, ['graceMs'], 'stop()');
    const graceMs = intOption(o['graceMs'], 'stop(): graceMs', 0, 86_400_000, 10_000);
    const w = this.#workers;
    if (w === null) return;
    await w.stop(graceMs);
    this.#workers = null;
  }

  /** Stops workers (see stop) and closes the store. */
  async close(options: StopOptions = {}): Promise<void> {
    if (this.#closed) return;
    await this.stop(options);
    await this.#inserts.drained();
    this.#closed = true;
    await this.#driver.close();
  }

  /** @internal */
  get events(): TypedEvents {
    return this.#events;
  }
}

const CURSOR = /^[0-9]{1,18}$/;

/** The jobs API of a client: `offload.jobs`. */
export class JobsApi {
  readonly #c: Offload;
  constructor(client: Offload) {
    this.#c = client;
  }

  /** The job, or null when there is none with this id. */
  async get(id: string): Promise<Job | null> {
    return (await this.#c.ready()).jobGet({ id: idOf(id) });
  }

  /**
   * A page of jobs, newest first.
   * @example
   * let page = await offload.jobs.list({ state: 'discarded' })
   * while (page.nextCursor) page = await offload.jobs.list({ state: 'discarded', cursor: page.nextCursor })
   */
  async list(filter: JobListFilter = {}): Promise<JobPage> {
    const f = checkKeys(filter, ['state', 'task', 'queue', 'cursor', 'limit'], 'jobs.list()');
    const rawStates = f['state'];
    const states = rawStates === undefined ? null : Array.isArray(rawStates) ? rawStates : [rawStates];
    for (const s of states ?? []) {
      if (!JOB_STATES.includes(s as JobState)) throw new OffloadError('OFFLOAD_INVALID_OPTIONS', `jobs.list(): unknown state '${String(s)}'; states: ${JOB_STATES.join(', ')}`);
    }
    const cursor = f['cursor'];
    if (cursor !== undefined && (typeof cursor !== 'string' || !CURSOR.test(cursor))) throw new OffloadError('OFFLOAD_INVALID_OPTIONS', 'jobs.list(): cursor is not one returned by a previous page');
    const limit = intOption(f['limit'], 'jobs.list(): limit', 1, 1000, 100);
    const jobs = await (await this.#c.ready()).jobList({
      states: states as JobState[] | null,
      task: f['task'] === undefined ? null : stringOption(f['task'], 'jobs.list(): task', ''),
      queue: f['queue'] === undefined ? null : stringOption(f['queue'], 'jobs.list(): queue', ''),
      beforeId: cursor ?? null,
      limit: limit + 1,
    });
    const more = jobs.length > limit;
    if (more) jobs.pop();
    return { jobs, nextCursor: more ? jobs[jobs.length - 1]!.id : null };
  }

  /**
   * Cancels a job: a waiting one ends `cancelled` at once; a running one has its signal aborted
   * within about half a second, wherever it runs, and ends `cancelled`.
   */
  async cancel(id: string, reason = 'cancelled by request'): Promise<Job> {
    const job = await (await this.#c.ready()).jobCancel({ id: idOf(id), waitingFrom: sourcesOf('cancelled', 'cancel').filter((s) => WAITING_STATES.includes(s)), reason });
    if (job === null) throw notFound(id);
    if (job.state === 'completed' || job.state === 'discarded') {
      throw new OffloadError('OFFLOAD_INVALID_STATE', `job ${id} is ${job.state}; only waiting or running jobs can be cancelled`, { details: { state: job.state } });
    }
    return job;
  }

  /** Redrives a discarded or cancelled job (or runs a waiting one now) with a fresh attempt budget. */
  async retry(id: string): Promise<Job> {
    const d = await this.#c.ready();
    const job = await d.jobRetry({ id: idOf(id), from: sourcesOf('available', 'retry') });
    if (job !== null) {
      this.#c.wakeFor(job);
      return job;
    }
    const current = await d.jobGet({ id: idOf(id) });
    if (current === null) throw notFound(id);
    throw new OffloadError('OFFLOAD_INVALID_STATE', `job ${id} is ${current.state}; retry applies to ${sourcesOf('available', 'retry').join(', ')} jobs`, { details: { state: current.state } });
  }

  /** Deletes a job that is not running. */
  async delete(id: string): Promise<void> {
    const d = await this.#c.ready();
    const from = [...WAITING_STATES, ...FINAL_STATES];
    if (await d.jobDelete({ id: idOf(id), from })) return;
    const current = await d.jobGet({ id: idOf(id) });
    if (current === null) throw notFound(id);
    throw new OffloadError('OFFLOAD_INVALID_STATE', `job ${id} is running; cancel it first`, { details: { state: current.state } });
  }

  /**
   * Resolves with the job once it reaches a final state (completed, cancelled, discarded).
   * @example
   * const done = await offload.jobs.waitFor(job.id, { timeoutMs: 30_000 })
   */
  async waitFor(id: string, options: WaitOptions = {}): Promise<Job> {
    const o = checkKeys(options, ['timeoutMs', 'signal'], 'jobs.waitFor()');
    const timeoutMs = intOption(o['timeoutMs'], 'jobs.waitFor(): timeoutMs', 0, 2_147_483_647, 2_147_483_647);
    const signal = o['signal'] as AbortSignal | undefined;
    const d = await this.#c.ready();
    const deadline = Date.now() + timeoutMs;
    let delay = 5;
    for (;;) {
      const job = await d.jobGet({ id: idOf(id) });
      if (job === null) throw notFound(id);
      if (FINAL_STATES.includes(job.state)) return job;
      if (signal?.aborted) throw signal.reason;
      const left = deadline - Date.now();
      if (left <= 0) throw new OffloadError('OFFLOAD_TIMEOUT', `job ${id} is still ${job.state} after ${timeoutMs} ms`, { details: { state: job.state } });
      // Poll with growing pauses, cut short by a local event about this job.
      await this.#pause(idOf(id), Math.min(delay, left), signal);
      delay = Math.min(delay * 2, 250);
    }
  }

  #pause(id: string, ms: number, signal: AbortSignal | undefined): Promise<void> {
    return new Promise((resolve) => {
      const offs: Array<() => void> = [];
      const done = () => {
        clearTimeout(timer);
        for (const off of offs) off();
        signal?.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      const mine = (p: { job: Job }) => {
        if (p.job.id === id) done();
      };
      offs.push(this.#c.on('job:completed', mine), this.#c.on('job:failed', mine), this.#c.on('job:cancelled', mine));
      signal?.addEventListener('abort', done, { once: true });
    });
  }
}

/**
 * Job ids are decimal strings; a number from plain JavaScript is accepted too. Anything else is a
 * caller's mistake and gets a clear error instead of a silent "not found".
 */
function idOf(id: unknown): string {
  if (typeof id === 'string' && id.length > 0) return id;
  if (typeof id === 'number' && Number.isSafeInteger(id)) return `${id}`;
  throw new OffloadError('OFFLOAD_INVALID_OPTIONS', `a job id must be a non-empty string, got ${describe(id)}`);
}

function notFound(id: string): OffloadError {
  return new OffloadError('OFFLOAD_JOB_NOT_FOUND', `no job with id '${id}'`, { details: { id } });
}
