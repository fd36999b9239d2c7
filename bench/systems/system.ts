/**
 * The seam every benchmarked system implements, so that scenarios never branch on a system's name.
 *
 * A system hands out fresh state (`create`), clients on that state (`open`, also from a child
 * process, which is why a state is plain strings) and drops it again (`destroy`). A client can
 * enqueue one job or a batch, run a worker in its own process and count the jobs its store does not
 * yet record as finished.
 *
 * Completion is where systems differ, and the scenarios must not pretend otherwise: offload and
 * BullMQ report a job finished after its completion is written, graphile-worker (with batched
 * completion) and pg-boss (which does not await `complete`) write it a moment after the handler
 * returned. `completion` says which; for `handler` systems the process scenario stops the clock
 * only once `unfinished()` reads 0.
 */
export const SYSTEM_NAMES = ['offload-sqlite', 'offload-postgres', 'bullmq', 'graphile-worker', 'pg-boss'] as const;
export type SystemName = (typeof SYSTEM_NAMES)[number];

/**
 * What every job carries: its index; in the latency scenario, `performance.now()` of the producer
 * at enqueue; in the loop scenario, the CPU job's rounds (cpu-job.ts).
 */
export interface Payload {
  i: number;
  t?: number;
  rounds?: number;
}

/**
 * What a client's jobs do: nothing (every scenario but one), or the loop scenario's CPU job, run
 * off the main thread (on a thread the system manages) or on it. Fixed when the client is opened.
 */
export type JobKind = 'noop' | 'cpu-off-loop' | 'cpu-on-loop';

/** Where one fresh state lives (a file, a schema, a queue name), as strings a child process can receive. */
export type StateRef = Readonly<Record<string, string>>;

export interface WorkerHooks {
  /** Called as a handler starts, with its job's payload. */
  onStart?: (payload: Payload) => void;
  /** Called once per finished job; when exactly is the system's `completion`. */
  onDone: () => void;
}

export interface BenchWorker {
  /** Stops claiming, lets running jobs finish, and releases the worker's connections. */
  stop(): Promise<void>;
}

export interface BenchClient {
  enqueue(payload: Payload): Promise<void>;
  /** One call of the system's batch API (enqueueMany, addBulk, addJobs, insert). */
  enqueueBulk(payloads: readonly Payload[]): Promise<void>;
  startWorker(concurrency: number, hooks: WorkerHooks): Promise<BenchWorker>;
  /** Jobs the store does not yet record as finished: waiting, running, or done but not yet written. */
  unfinished(): Promise<number>;
  /** System-specific figures worth keeping with a loop measurement (offload: its pool and loop guard). */
  details?(): Promise<Record<string, number>>;
  close(): Promise<void>;
}

export interface BenchSystem {
  readonly name: SystemName;
  /** The configuration used, as printed with the results: what a reader needs to reproduce it. */
  readonly config: string;
  readonly completion: 'durable' | 'handler';
  /**
   * The most jobs per second the system's design allows at this concurrency, when that bound is far
   * below what the machine could do (pg-boss polls); null when not bound. The process scenario caps
   * its job count with it so that a run takes seconds, not hours.
   */
  pollBoundRate(concurrency: number): number | null;
  /** Said with this system's RSS figure when something about how it runs here inflates it. */
  readonly rssNote?: string;
  /**
   * How this system runs the loop scenario's CPU job off the main thread and on it, each as its
   * configuration text; a way left out is not offered, and without any the scenario does not apply.
   */
  readonly loopWays?: { off?: string; on?: string };
  create(): Promise<StateRef>;
  /** A client whose jobs are `job` (default `noop`). Called through openClient, which refuses a kind not offered. */
  open(state: StateRef, job?: JobKind): Promise<BenchClient>;
  destroy(state: StateRef): Promise<void>;
}

/**
 * Loads one system's adapter. Imported on demand so that a process loads only the library it
 * measures: its RSS is then that library's, and no other library's import-time work runs.
 */
export async function loadSystem(name: SystemName): Promise<BenchSystem> {
  return LOADERS[name]();
}

/** One loader per system; the Record type makes adding a name without its loader a type error. */
const LOADERS: Record<SystemName, () => Promise<BenchSystem>> = {
  'offload-sqlite': async () => (await import('./offload-sqlite.ts')).offloadSqlite,
  'offload-postgres': async () => (await import('./offload-postgres.ts')).offloadPostgres,
  bullmq: async () => (await import('./bullmq.ts')).bullmq,
  'graphile-worker': async () => (await import('./graphile-worker.ts')).graphileWorker,
  'pg-boss': async () => (await import('./pg-boss.ts')).pgBoss,
};

/** Opens a client of `system` whose jobs are `job`, refusing a CPU way the system does not declare in `loopWays`. */
export async function openClient(system: BenchSystem, state: StateRef, job: JobKind = 'noop'): Promise<BenchClient> {
  const way = job === 'cpu-off-loop' ? 'off' : job === 'cpu-on-loop' ? 'on' : null;
  if (way !== null && system.loopWays?.[way] === undefined) throw new Error(`${system.name} does not run the CPU job ${way} the loop`);
  return system.open(state, job);
}

export function isJobKind(value: string): value is JobKind {
  return value === 'noop' || value === 'cpu-off-loop' || value === 'cpu-on-loop';
}

export function isSystemName(value: string): value is SystemName {
  return (SYSTEM_NAMES as readonly string[]).includes(value);
}

/** A name no earlier run used, for schemas, files and queues. Lower case: it is also a PostgreSQL identifier. */
export function freshName(prefix: string): string {
  return `${prefix}_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 8)}`;
}

/** When freshName() made `name` (epoch ms), or null for a name it did not make. */
export function freshNameTime(name: string): number | null {
  const parts = name.split('_');
  const stamp = parts.length >= 3 ? parts[parts.length - 2]! : '';
  if (!/^[0-9a-z]{8,9}$/.test(stamp)) return null;
  return Number.parseInt(stamp, 36);
}
