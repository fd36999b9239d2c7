/**
 * The workers of one process: producer (claims), executor (runs), lease keeper (heartbeats,
 * cancels), completer (batched acks) and maintenance (rescuer, pruner), with one start/stop
 * contract.
 *
 * Stop: claiming stops at once; running jobs get `graceMs` to finish; then their signals are
 * aborted and they are released to `available` without charging the attempt; the completer is
 * drained so nothing is left `running` by this process.
 */
import { setMaxListeners } from 'node:events';
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { ClaimedJob, Driver, JobCompletion } from '../storage/driver.ts';
import type { TypedEvents } from '../observability/events.ts';
import type { Logger, TaskDefinition } from '../types.ts';
import type { Clock } from './clock.ts';
import { executeJob } from './executor.ts';
import { GroupCommit } from './group-commit.ts';
import { LeaseKeeper } from './lease-keeper.ts';
import { Periodic } from './maintenance/periodic.ts';
import { Pruner, type Retention } from './maintenance/pruner.ts';
import { Rescuer } from './maintenance/rescuer.ts';
import { Producer } from './producer.ts';

export interface WorkerSettings {
  queues: readonly string[];
  concurrency: number;
  claimBatch: number;
  pollMs: number;
  leaseMs: number;
  heartbeatMs: number;
  cancelCheckMs: number;
  rescueIntervalMs: number;
  pruneIntervalMs: number;
  retention: Retention;
  maxResultBytes: number;
  progress: (id: string, token: string, value: unknown) => Promise<boolean>;
}

export class Workers {
  readonly id = `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
  readonly #producer: Producer;
  readonly #keeper: LeaseKeeper;
  readonly #completer: GroupCommit<JobCompletion, boolean>;
  readonly #rescue: Periodic;
  readonly #prune: Periodic;
  readonly #shutdown = new AbortController();
  readonly #settings: WorkerSettings;

  constructor(driver: Driver, tasks: ReadonlyMap<string, TaskDefinition<any, any, any>>, s: WorkerSettings, events: TypedEvents, logger: Logger, clock: Clock) {
    this.#settings = s;
    // One listener per running job: as many as the concurrency, by design.
    setMaxListeners(0, this.#shutdown.signal);
    this.#keeper = new LeaseKeeper(driver, { leaseMs: s.leaseMs, heartbeatMs: s.heartbeatMs, cancelCheckMs: s.cancelCheckMs }, events);
    this.#completer = new GroupCommit((completions) => driver.jobCompleteMany({ completions }), 1000);
    const deps = { tasks, completer: this.#completer, keeper: this.#keeper, events, logger, clock, progress: s.progress, maxResultBytes: s.maxResultBytes };
    const run = (job: ClaimedJob, release: () => void) => executeJob(job, deps, this.#shutdown.signal, release);
    this.#producer = new Producer(
      driver,
      { queues: s.queues, tasks: [...tasks.keys()], concurrency: s.concurrency, claimBatch: s.claimBatch, pollMs: s.pollMs, leaseMs: s.leaseMs, workerId: this.id },
      events,
      run,
    );
    const rescuer = new Rescuer(driver, events);
    const pruner = new Pruner(driver, s.retention, events);
    this.#rescue = new Periodic('rescuer', s.rescueIntervalMs, async () => void (await rescuer.runOnce()), events);
    this.#prune = new Periodic('pruner', s.pruneIntervalMs, async () => void (await pruner.runOnce()), events);
  }

  get queues(): readonly string[] {
    return this.#settings.queues;
  }

  get running(): number {
    return this.#producer.inFlight;
  }

  async start(): Promise<void> {
    await this.#keeper.start();
    this.#rescue.start();
    this.#prune.start();
    await this.#producer.start();
  }

  wake(): void {
    this.#producer.wake();
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
      this.#shutdown.abort();
      await this.#producer.idle();
    }
    await this.#completer.drained();
    await this.#keeper.stop();
    await this.#rescue.stop();
    await this.#prune.stop();
  }
}
