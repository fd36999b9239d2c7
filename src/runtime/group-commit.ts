/**
 * Group commit: concurrent single operations share one round trip to the store.
 *
 * Modes: idle (nothing queued) -> scheduled (items queued, a flush is due on the next turn of the
 * event loop) -> flushing (up to `maxInFlight` batches out; new items queue behind them). When a flush settles,
 * whatever queued meanwhile goes out as the next batch at once. So at low load an item waits at
 * most one event-loop turn, and under load batches grow to the size of the backlog (up to
 * `maxBatch`) without any timer: 50 concurrent enqueues cost about two transactions, not 50.
 *
 * `flush` must return one output per input, in order. A rejected flush rejects its whole batch.
 */
export class GroupCommit<In, Out> {
  readonly #flush: (items: In[]) => Promise<Out[]>;
  readonly #maxBatch: number;
  readonly #maxInFlight: number;
  #queue: Array<{ item: In; resolve: (o: Out) => void; reject: (e: unknown) => void }> = [];
  #inFlight = 0;
  #scheduled = false;
  #idle: Array<() => void> = [];

  /**
   * `maxInFlight`: how many batches may be out at once. 1 keeps batches as large as the backlog;
   * 2 lets the next batch go while the store works on one (the store has more than one core),
   * for callers whose batches do not depend on each other's order.
   */
  constructor(flush: (items: In[]) => Promise<Out[]>, maxBatch: number, maxInFlight = 1) {
    this.#flush = flush;
    this.#maxBatch = maxBatch;
    this.#maxInFlight = maxInFlight;
  }

  submit(item: In): Promise<Out> {
    return new Promise<Out>((resolve, reject) => {
      this.#queue.push({ item, resolve, reject });
      this.#schedule();
    });
  }

  /** Resolves once nothing is queued or in flight. */
  drained(): Promise<void> {
    if (this.#inFlight === 0 && !this.#scheduled && this.#queue.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idle.push(resolve));
  }

  #schedule(): void {
    if (this.#scheduled || this.#inFlight >= this.#maxInFlight) return;
    this.#scheduled = true;
    setImmediate(() => {
      this.#scheduled = false;
      this.#send();
    });
  }

  /** Sends what is queued, as many batches as may be in flight. */
  #send(): void {
    while (this.#inFlight < this.#maxInFlight && this.#queue.length > 0) {
      this.#inFlight++;
      void this.#flushBatch(this.#queue.splice(0, this.#maxBatch));
    }
    if (this.#inFlight === 0 && !this.#scheduled) {
      const idle = this.#idle;
      this.#idle = [];
      for (const fn of idle) fn();
    }
  }

  async #flushBatch(batch: Array<{ item: In; resolve: (o: Out) => void; reject: (e: unknown) => void }>): Promise<void> {
    try {
      const out = await this.#flush(batch.map((b) => b.item));
      batch.forEach((b, i) => b.resolve(out[i] as Out));
    } catch (err) {
      for (const b of batch) b.reject(err);
    } finally {
      this.#inFlight--;
      // What queued meanwhile goes out at once: under load, batches grow to the backlog.
      this.#send();
    }
  }
}
