/**
 * The worker registry, from the side of one worker process: its row in the store's workers table,
 * registered at start, beaten every `heartbeatMs`, removed on graceful stop. Any client reads the
 * table (`offload.workers.list()`); a process killed without a stop leaves its row behind, ageing
 * by the database clock until readers call it stale and, after `DEAD_WORKER_RETENTION_MS` of
 * silence, a live process's registry prunes it.
 *
 * Modes: idle (constructed), beating (a Periodic runs `runOnce()`; never two rounds at once, so a
 * slow store cannot pile up beats), stopped (timer cleared, the round in flight awaited, then the
 * row removed: awaiting first means no late beat can re-create the row after its removal).
 *
 * Failure is never fatal: a beat, prune or removal that fails is an `error` event (component
 * `worker-registry`) and the next round tries again. A store that stays down makes this process
 * look stale to others, which is the truth they need.
 */
import type { TypedEvents } from '../observability/events.ts';
import type { Driver, WorkerBeat } from '../storage/driver.ts';
import type { Clock } from './clock.ts';
import { Periodic } from './maintenance/periodic.ts';

/** Rows silent this long are deleted: a killed worker stays visible (stale) for an hour. */
export const DEAD_WORKER_RETENTION_MS = 3_600_000;

export interface WorkerRegistrySettings {
  /** The row's id: the Workers id, the one `beat()` reports. */
  id: string;
  heartbeatMs: number;
  /** Pruning of dead rows runs at most this often (with a beat). */
  pruneIntervalMs: number;
}

export class WorkerRegistry {
  readonly #driver: Driver;
  readonly #beat: () => WorkerBeat;
  readonly #events: TypedEvents;
  readonly #clock: Clock;
  readonly #s: WorkerRegistrySettings;
  readonly #periodic: Periodic;
  #lastPruneAt = Number.NEGATIVE_INFINITY;
  #stopped = false;

  /** `beat`: this process's figures now, read at every round. */
  constructor(driver: Driver, beat: () => WorkerBeat, s: WorkerRegistrySettings, events: TypedEvents, clock: Clock) {
    this.#driver = driver;
    this.#beat = beat;
    this.#s = s;
    this.#events = events;
    this.#clock = clock;
    this.#periodic = new Periodic('worker-registry', s.heartbeatMs, () => this.runOnce(), events);
  }

  /** Registers now (a failure is an `error` event; the next beat retries) and starts beating. */
  async start(): Promise<void> {
    if (this.#stopped) return;
    await this.#periodic.tick();
    this.#periodic.start();
  }

  /** One round: the beat, then dead rows when the prune interval has passed. Throws on failure. */
  async runOnce(): Promise<void> {
    await this.#driver.workerHeartbeat({ worker: this.#beat() });
    const now = this.#clock.now();
    if (now - this.#lastPruneAt < this.#s.pruneIntervalMs) return;
    this.#lastPruneAt = now;
    const ids = await this.#driver.workerPrune({ deadMs: DEAD_WORKER_RETENTION_MS });
    if (ids.length > 0) this.#events.emit('workers:pruned', { ids });
  }

  /** Stops beating and removes this process's row. Idempotent; never throws. */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    await this.#periodic.stop();
    try {
      await this.#driver.workerRemove({ id: this.#s.id });
    } catch (err) {
      // The row stays and goes stale, then is pruned: readers are misled for a while, not broken.
      this.#events.emit('error', { error: err as Error, component: 'worker-registry' });
    }
  }
}
