/**
 * Group commit: concurrent single operations share one round trip to the store.
 *
 * Modes: idle (nothing queued) -> scheduled (items queued, a flush is due on the next turn of the
 * event loop) -> flushing (one batch in flight; new items queue behind it). When a flush settles,
 * whatever queued meanwhile goes out as the next batch at once. So at low load an item waits at
 * most one event-loop turn, and under load batches grow to the size of the backlog (up to
 * `maxBatch`) without any timer: 50 concurrent enqueues cost about two transactions, not 50.
 *
 * `flush` must return one output per input, in order. A rejected flush rejects its whole batch.
 */
export class GroupCommit<In, Out> {
  readonly #flush: (items: In[]) => Promise<Out[]>;
  readonly #maxBatch: number;
  #queue: Array<{ item: In; resolve: (o: Out) => void; reject: (e: unknown) => void }> = [];
  #flushing = false;
  #scheduled = false;
  #idle: Array<() => void> = [];

  constructor(flush: (items: In[]) => Promise<Out[]>, maxBatch: number) {
    this.#flush = flush;
    this.#maxBatch = maxBatch;
  }

  submit(item: In): Promise<Out> {
    return new Promise<Out>((resolve, reject) => {
      this.#queue.push({ item, resolve, reject });
      this.#schedule();
    });
  }

  /** Resolves once nothing is queued or in flight. */
  drained(): Promise<void> {
    if (!this.#flushing && !this.#scheduled && this.#queue.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idle.push(resolve));
  }

  #schedule(): void {
    if (this.#flushing || this.#scheduled) return;
    this.#scheduled = true;
    setImmediate(() => {
      this.#scheduled = false;
      void this.#run();
    });
  }

  async #run(): Promise<void> {
    if (this.#flushing) return;
    this.#flushing = true;
    try {
      while (this.#queue.length > 0) {
        const batch = this.#queue.splice(0, this.#maxBatch);
        try {
          const out = await this.#flush(batch.map((b) => b.item));
          batch.forEach((b, i) => b.resolve(out[i] as Out));
        } catch (err) {
          for (const b of batch) b.reject(err);
        }
      }
    } finally {
      this.#flushing = false;
      const idle = this.#idle;
      this.#idle = [];
      for (const fn of idle) fn();
    }
  }
}
