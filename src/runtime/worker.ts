/**
 * The workers of one process: producer (claims), executor (runs), lease keeper (heartbeats,
 * cancels), completer (batched acks) and maintenance (rescuer, pruner), with one start/stop
 * contract.
 *
 * Stop: claiming stops at once; running jobs get `graceMs` to finish; then their signals are
 * aborted and they are released to `available` without charging the attempt; the completer is
 * drained so nothing is left `running` by this process.
 */
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { Driver, JobCompletion, WorkerBeat } from '../storage/driver.ts';
import { OffloadError } from '../errors.ts';
import type { TypedEvents } from '../observability/events.ts';
import type { Instrumentation } from '../observability/tracing.ts';
import type { Logger, TaskDefinition } from '../types.ts';
import type { Clock } from './clock.ts';
import { AttemptSet } from './attempt-abort.ts';
import { executeJob } from './executor.ts';
import { GroupCommit } from './group-commit.ts';
import { LeaseKeeper } from './lease-keeper.ts';
import type { LoopHealth } from './loop-health.ts';
import { Expirer } from './maintenance/expirer.ts';
import { Periodic } from './maintenance/periodic.ts';
import { Pruner, type Retention } from './maintenance/pruner.ts';
import { Rescuer } from './maintenance/rescuer.ts';
import { Producer, type Handoff, type RunJob } from './producer.ts';
import { ThreadPool, type ThreadPoolOptions, type ThreadPoolStats } from './threads/pool.ts';
import { offloadVersion } from './version.ts';
import { WorkerRegistry } from './worker-registry.ts';

export interface WorkerSettings {
  queues: readonly string[];
  concurrency: number;
  claimBatch: number;
  /** Jobs claimed ahead of free slots at most (see local-queue.ts). */
  prefetch: number;
  pollMs: number;
  leaseMs: number;
  heartbeatMs: number;
  cancelCheckMs: number;
  rescueIntervalMs: number;
  pruneIntervalMs: number;
  expireIntervalMs: number;
  /** Claiming stops while it reports the loop overloaded; null: never. */
  loop: LoopHealth | null;
  instrumentation: Instrumentation | null;
  /** The pool for `kind: 'thread'` tasks (started only when such a task is registered). */
  threads: Omit<ThreadPoolOptions, 'typescript'>;
  retention: Retention;
  maxResultBytes: number;
  progress: (id: string, token: string, value: unknown) => Promise<boolean>;
}

export class Workers {
  readonly #host = hostname();
  readonly id = `${this.#host}:${process.pid}:${randomBytes(3).toString('hex')}`;
  readonly #producer: Producer;
  readonly #keeper: LeaseKeeper;
  readonly #completer: GroupCommit<JobCompletion, boolean>;
  readonly #rescue: Periodic;
  readonly #prune: Periodic;
  readonly #expire: Periodic;
  readonly #registry: WorkerRegistry;
  /** The attempts running now: a stop past its grace aborts them together. */
  readonly #attempts = new AttemptSet();
  readonly #settings: WorkerSettings;
  /** Main-thread tasks started since the loop monitor last asked, and those running (by token). */
  readonly #recent = new Set<string>();
  readonly #runningTasks = new Map<string, string>();
  readonly #pool: ThreadPool | null;
  #unwatchLoop: (() => void) | null = null;

  constructor(driver: Driver, tasks: ReadonlyMap<string, TaskDefinition<any, any, any>>, s: WorkerSettings, events: TypedEvents, logger: Logger, clock: Clock) {
    this.#settings = s;
    this.#keeper = new LeaseKeeper(driver, { leaseMs: s.leaseMs, heartbeatMs: s.heartbeatMs, cancelCheckMs: s.cancelCheckMs }, events);
    this.#completer = new GroupCommit((completions) => driver.jobCompleteMany({ completions }), 1000, 2);
    const threadModules = [...tasks.values()].filter((t) => t.kind === 'thread').map((t) => t.module!);
    this.#pool = threadModules.length === 0 ? null : new ThreadPool({ ...s.threads, typescript: threadModules.some((m) => /\.[mc]?ts$/.test(m)) });
    const deps = {
      tasks,
      completer: this.#completer,
      keeper: this.#keeper,
      events,
      logger,
      clock,
      progress: s.progress,
      maxResultBytes: s.maxResultBytes,
      threads: this.#pool,
      instrumentation: s.instrumentation,
      wakeAfter: (ms: number) => this.#producer.wakeAfter(ms),
    };
    const run: RunJob = async (job, release, decided) => {
      if (decided !== null) return executeJob(job, deps, this.#attempts, release, decided);
      // Thread tasks cannot block the loop: only main-thread ones are named in loop:blocked.
      if (tasks.get(job.job.task)?.kind !== 'thread') {
        this.#recent.add(job.job.task);
        this.#runningTasks.set(job.token, job.job.task);
      }
      try {
        await executeJob(job, deps, this.#attempts, release);
      } finally {
        this.#runningTasks.delete(job.token);
      }
    };
    this.#producer = new Producer(
      driver,
      {
        queues: s.queues,
        tasks: [...tasks.keys()],
        concurrency: s.concurrency,
        claimBatch: s.claimBatch,
        prefetch: s.prefetch,
        pollMs: s.pollMs,
        leaseMs: s.leaseMs,
        workerId: this.id,
        mayClaim: () => !(s.loop?.holdingBack() ?? false),
        hold: (claimed, onAbort) => this.#keeper.add(claimed.job.id, claimed.token, onAbort),
        unhold: (token) => this.#keeper.remove(token),
      },
      events,
      run,
    );
    const rescuer = new Rescuer(driver, events);
    const pruner = new Pruner(driver, s.retention, events);
    this.#rescue = new Periodic('rescuer', s.rescueIntervalMs, async () => void (await rescuer.runOnce()), events);
    this.#prune = new Periodic('pruner', s.pruneIntervalMs, async () => void (await pruner.runOnce()), events);
    const expirer = new Expirer(driver, events);
    this.#expire = new Periodic('expirer', s.expireIntervalMs, async () => void (await expirer.runOnce()), events);
    const registry = { id: this.id, heartbeatMs: s.heartbeatMs, pruneIntervalMs: s.pruneIntervalMs };
    this.#registry = new WorkerRegistry(driver, () => this.#registryBeat(), registry, events, clock);
  }

  /** This process's row in the worker registry, as of now. */
  #registryBeat(): WorkerBeat {
    const loop = this.#settings.loop?.stats() ?? null;
    return {
      id: this.id,
      host: this.#host,
      pid: process.pid,
      version: offloadVersion(),
      queues: this.#settings.queues,
      concurrency: this.#settings.concurrency,
      running: this.running,
      heartbeatMs: this.#settings.heartbeatMs,
      threads: this.threads,
      loop: loop === null ? null : { delayP99Ms: loop.delayP99Ms, utilization: loop.utilization, overloaded: loop.overloaded },
    };
  }

  /** The thread pool's occupancy, or null when no thread task is registered. */
  get threads(): ThreadPoolStats | null {
    return this.#pool?.stats() ?? null;
  }

  get claimHealth(): { lastClaimAt: Date | null; failuresInARow: number } {
    return this.#producer.claimHealth;
  }

  get concurrency(): number {
    return this.#settings.concurrency;
  }

  /** Claiming is held back because the event loop is overloaded. */
  get pausedByLoop(): boolean {
    return this.#settings.loop?.overloaded ?? false;
  }

  /** For the loop monitor: tasks that ran on the main thread since the last call (see loop-health.ts). */
  takeRecentMainThreadTasks(): string[] {
    const tasks = new Set([...this.#recent, ...this.#runningTasks.values()]);
    this.#recent.clear();
    return [...tasks];
  }

  get queues(): readonly string[] {
    return this.#settings.queues;
  }

  get running(): number {
    return this.#producer.inFlight;
  }

  /** Claimed ahead, waiting for a slot. */
  get waiting(): number {
    return this.#producer.waiting;
  }

  async start(): Promise<void> {
    await this.#keeper.start();
    // Registered before the first claim: a job's worker id is in the registry once it runs.
    await this.#registry.start();
    this.#rescue.start();
    this.#prune.start();
    this.#expire.start();
    // A recovered loop claims again at once rather than at the next poll.
    this.#unwatchLoop = this.#settings.loop?.onChange((overloaded) => overloaded || this.#producer.wake()) ?? null;
    await this.#producer.start();
  }

  wake(): void {
    this.#producer.wake();
  }

  /** A slot for a job of this process's enqueue to be inserted already claimed, if idle (Producer.offer). */
  offer(task: string, queue: string): Handoff | null {
    return this.#producer.offer(task, queue);
  }

  async stop(graceMs: number): Promise<void> {
    await this.#producer.stop();
    let timer: NodeJS.Timeout | undefined;
    const graceOver = new Promise<'grace-over'>((resolve) => {
      timer = setTimeout(() => resolve('grace-over'), graceMs);
    });
    const finished = await Promise.race([this.#producer.idle().then(() => 'idle' as const), graceOver]);
    clearTimeout(timer);
    if (finished === 'grace-over') {
      // Every executor races its handler against this signal, so they all settle promptly.
      this.#attempts.abortAll(new OffloadError('OFFLOAD_SHUTDOWN', 'the worker is stopping and the grace period is over'));
      await this.#producer.idle();
    }
    await this.#completer.drained();
    await this.#pool?.close();
    await this.#keeper.stop();
    this.#unwatchLoop?.();
    await this.#rescue.stop();
    await this.#prune.stop();
    await this.#expire.stop();
    // Last: the row shows the drain (running falling to 0) until this process is done.
    await this.#registry.stop();
  }
}
