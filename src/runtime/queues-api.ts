/**
 * `offload.queues`: depth, drain rate and estimated wait of every queue, and pause/resume.
 *
 * A pause is stored, so it holds for every process sharing the store: their claims skip the
 * queue from their next round (PostgreSQL pushes the resume as a wake-up; other processes see it
 * at their next poll). Jobs can still be enqueued into a paused queue; they wait.
 */
import { NAME_PATTERN, stringOption } from '../core/options.ts';
import { WAITING_STATES } from '../core/state-machine.ts';
import { OffloadError } from '../errors.ts';
import type { TypedEvents } from '../observability/events.ts';
import type { Driver } from '../storage/driver.ts';
import type { JobState, QueueStats } from '../types.ts';
import { JOB_STATES } from '../types.ts';
import { DRAIN_WINDOW_MS } from './admission.ts';

/** What the queues API needs of its client. */
export interface QueuesApiHost {
  ready(): Promise<Driver>;
  /** Queues this client knows of without asking the store (its tasks' and configured ones). */
  knownQueues(): readonly string[];
  maxBacklogOf(queue: string): number | null;
  /** Called after a resume: this process's workers may claim again at once. */
  wakeAll(): void;
  readonly events: TypedEvents;
}

export class QueuesApi {
  readonly #c: QueuesApiHost;
  constructor(client: QueuesApiHost) {
    this.#c = client;
  }

  /**
   * Every queue that has jobs, is paused, or is known to this client, by name.
   * @example
   * for (const q of await offload.queues.list()) console.log(q.name, q.waiting, q.estimatedWaitMs)
   */
  async list(): Promise<QueueStats[]> {
    const d = await this.#c.ready();
    const [counts, infos, finished] = await Promise.all([d.jobCounts(), d.queueList(), d.jobFinishedRecently({ windowMs: DRAIN_WINDOW_MS })]);
    const names = new Set<string>([...this.#c.knownQueues(), ...counts.map((c) => c.queue), ...infos.map((i) => i.name)]);
    return [...names].toSorted().map((name) => {
      const byState = Object.fromEntries(JOB_STATES.map((s) => [s, 0])) as Record<JobState, number>;
      for (const c of counts) if (c.queue === name) byState[c.state] += c.count;
      const waiting = WAITING_STATES.reduce((n, s) => n + byState[s], 0);
      const drainPerSec = (finished.find((f) => f.queue === name)?.count ?? 0) / (DRAIN_WINDOW_MS / 1000);
      return {
        name,
        paused: infos.some((i) => i.name === name && i.pausedAt !== null),
        counts: byState,
        waiting,
        drainPerSec,
        estimatedWaitMs: waiting === 0 ? 0 : drainPerSec > 0 ? Math.round((waiting / drainPerSec) * 1000) : null,
        maxBacklog: this.#c.maxBacklogOf(name),
      };
    });
  }

  /** One queue's stats (a queue with no jobs has zero counts). */
  async get(name: string): Promise<QueueStats> {
    const n = queueName(name, 'queues.get()');
    const all = await this.list();
    return all.find((q) => q.name === n) ?? emptyQueue(n, this.#c.maxBacklogOf(n));
  }

  /**
   * Stops every process from claiming this queue's jobs until `resume`. Running jobs finish.
   * @example
   * await offload.queues.pause('emails')
   */
  async pause(name: string): Promise<QueueStats> {
    const n = queueName(name, 'queues.pause()');
    await (await this.#c.ready()).queuePause({ name: n });
    this.#c.events.emit('queue:paused', { queue: n });
    return this.get(n);
  }

  /** Lets claims take this queue's jobs again. */
  async resume(name: string): Promise<QueueStats> {
    const n = queueName(name, 'queues.resume()');
    await (await this.#c.ready()).queueResume({ name: n });
    this.#c.events.emit('queue:resumed', { queue: n });
    this.#c.wakeAll();
    return this.get(n);
  }
}

function queueName(value: unknown, where: string): string {
  if (value === undefined) throw new OffloadError('OFFLOAD_INVALID_OPTIONS', `${where}: a queue name is required`);
  return stringOption(value, `${where}: name`, '', NAME_PATTERN);
}

function emptyQueue(name: string, maxBacklog: number | null): QueueStats {
  const counts = Object.fromEntries(JOB_STATES.map((s) => [s, 0])) as Record<JobState, number>;
  return { name, paused: false, counts, waiting: 0, drainPerSec: 0, estimatedWaitMs: 0, maxBacklog };
}
