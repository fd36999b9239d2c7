/**
 * Follows jobs for the event streams: reads each watched job from the store, with pauses that
 * grow from `minPollMs` to `maxPollMs` while nothing changes, and start again from the minimum
 * after a change. A local event about the job (this process's workers started, finished, failed,
 * snoozed or released it) cuts the pause short. Polling, not events, is what makes it correct:
 * a job run by another process, and its progress (which raises no event), arrive the same way.
 *
 * Modes of one watched job:
 *   idle      no subscriber: no timer, no read, forgotten.
 *   waiting   a timer (or a local event) will start the next read.
 *   reading   one store read in flight; a local event arriving now asks for another read at once.
 * Any number of subscribers of one job share one loop, so N clients following one job cost one
 * read per pause, not N. A loop ends when its last subscriber leaves, or after delivering a final
 * state or the job's disappearance.
 */
import type { Job, Offload } from '../index.ts';

export interface WatchListener {
  /** Every read: the job, or null once it is gone (deleted or pruned). */
  job(job: Job | null): void;
  /** A read failed; the loop goes on at its longest pause. */
  error(err: unknown): void;
}

interface Watched {
  listeners: Set<WatchListener>;
  timer: NodeJS.Timeout | null;
  reading: boolean;
  again: boolean;
  pauseMs: number;
  last: string | null;
}

const FINAL = new Set(['completed', 'cancelled', 'discarded']);

/** What decides "changed": state, attempt and progress, and the times that move with them. */
function fingerprint(job: Job): string {
  return `${job.state}|${job.attempt}|${job.runAt.getTime()}|${job.finishedAt?.getTime() ?? ''}|${job.cancelRequestedAt?.getTime() ?? ''}|${JSON.stringify(job.progress ?? null)}`;
}

export class JobWatcher {
  readonly #offload: Offload;
  readonly #minPollMs: number;
  readonly #maxPollMs: number;
  readonly #watched = new Map<string, Watched>();
  #unsubscribe: Array<() => void> = [];
  #closed = false;

  constructor(offload: Offload, options: { minPollMs: number; maxPollMs: number }) {
    this.#offload = offload;
    this.#minPollMs = options.minPollMs;
    this.#maxPollMs = options.maxPollMs;
  }

  /** Starts delivering reads of job `id` to `listener` (the first at once). Returns the unsubscribe function. */
  watch(id: string, listener: WatchListener): () => void {
    if (this.#closed) throw new Error('JobWatcher is closed');
    let w = this.#watched.get(id);
    if (w === undefined) {
      w = { listeners: new Set(), timer: null, reading: false, again: false, pauseMs: this.#minPollMs, last: null };
      this.#watched.set(id, w);
      this.#subscribeEvents();
      this.#read(id, w);
    } else {
      // A late subscriber gets the current job on the next read, which happens now.
      this.#wake(id);
    }
    w.listeners.add(listener);
    return () => {
      w.listeners.delete(listener);
      if (w.listeners.size === 0) this.#forget(id, w);
    };
  }

  /** Stops every loop. Listeners get nothing more. */
  close(): void {
    this.#closed = true;
    for (const [id, w] of this.#watched) this.#forget(id, w);
  }

  #subscribeEvents(): void {
    if (this.#unsubscribe.length > 0) return;
    const wake = (p: { job: Job }) => this.#wake(p.job.id);
    for (const event of ['job:started', 'job:progress', 'job:completed', 'job:failed', 'job:cancelled', 'job:snoozed', 'job:released', 'job:lease-lost', 'job:expired'] as const) {
      this.#unsubscribe.push(this.#offload.on(event, wake));
    }
  }

  #forget(id: string, w: Watched): void {
    if (w.timer !== null) clearTimeout(w.timer);
    w.timer = null;
    w.listeners.clear();
    if (this.#watched.get(id) === w) this.#watched.delete(id);
    if (this.#watched.size === 0) {
      for (const off of this.#unsubscribe) off();
      this.#unsubscribe = [];
    }
  }

  #wake(id: string): void {
    const w = this.#watched.get(id);
    if (w === undefined) return;
    w.pauseMs = this.#minPollMs;
    if (w.reading) {
      w.again = true;
      return;
    }
    if (w.timer !== null) clearTimeout(w.timer);
    w.timer = null;
    this.#read(id, w);
  }

  #read(id: string, w: Watched): void {
    w.reading = true;
    w.again = false;
    this.#offload.jobs.get(id).then(
      (job) => {
        w.reading = false;
        if (this.#watched.get(id) !== w) return;
        for (const l of w.listeners) l.job(job);
        if (job === null || FINAL.has(job.state)) return this.#forget(id, w);
        const f = fingerprint(job);
        // A change starts the pauses over: the next change tends to follow soon (a running job).
        w.pauseMs = f !== w.last ? this.#minPollMs : Math.min(w.pauseMs * 2, this.#maxPollMs);
        w.last = f;
        this.#schedule(id, w);
      },
      (err: unknown) => {
        w.reading = false;
        if (this.#watched.get(id) !== w) return;
        for (const l of w.listeners) l.error(err);
        w.pauseMs = this.#maxPollMs;
        this.#schedule(id, w);
      },
    );
  }

  #schedule(id: string, w: Watched): void {
    if (w.listeners.size === 0) return this.#forget(id, w);
    if (w.again) return this.#read(id, w);
    w.timer = setTimeout(() => {
      w.timer = null;
      this.#read(id, w);
    }, w.pauseMs);
    // A watch never keeps the process alive on its own: the server's sockets do.
    w.timer.unref();
  }
}
