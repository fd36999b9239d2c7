/**
 * The abort of one attempt (timeout, cancel, lost lease, shutdown), and the set of attempts a
 * stopping worker aborts together.
 *
 * Why not a bare AbortController per attempt: most attempts are never aborted and most handlers
 * never read `ctx.signal`, yet an AbortController, its signal and the listeners on it were a
 * visible share of a busy worker's CPU and garbage. Here the controller is made only when the
 * handler (or the thread pool) reads the signal, and the executor's own wait for an abort is a
 * plain callback. The first reason wins; later ones are ignored, as with AbortController.
 */
import type { OffloadError } from '../errors.ts';

export class AttemptAbort {
  #reason: OffloadError | null = null;
  #controller: AbortController | null = null;
  #listener: (() => void) | null = null;

  get aborted(): boolean {
    return this.#reason !== null;
  }

  get reason(): OffloadError | null {
    return this.#reason;
  }

  /** An AbortSignal that follows this abort, made on first read. */
  get signal(): AbortSignal {
    if (this.#controller === null) {
      this.#controller = new AbortController();
      if (this.#reason !== null) this.#controller.abort(this.#reason);
    }
    return this.#controller.signal;
  }

  /** Bound, so it can be handed out as a callback. */
  readonly abort = (reason: OffloadError): void => {
    if (this.#reason !== null) return;
    this.#reason = reason;
    this.#controller?.abort(reason);
    const listener = this.#listener;
    this.#listener = null;
    listener?.();
  };

  /** One listener (the executor's), called once on abort; null removes it. */
  onAbort(listener: (() => void) | null): void {
    this.#listener = listener;
  }
}

/** Attempts running now, for a stop that aborts them all at once. */
export class AttemptSet {
  readonly #live = new Set<AttemptAbort>();
  #reason: OffloadError | null = null;

  /** Adds an attempt; after `abortAll`, the attempt is aborted on arrival. */
  add(a: AttemptAbort): void {
    if (this.#reason !== null) a.abort(this.#reason);
    else this.#live.add(a);
  }

  delete(a: AttemptAbort): void {
    this.#live.delete(a);
  }

  abortAll(reason: OffloadError): void {
    this.#reason = reason;
    for (const a of this.#live) a.abort(reason);
    this.#live.clear();
  }
}
