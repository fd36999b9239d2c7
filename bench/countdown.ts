import { now } from './clock.ts';

/**
 * Counts finished jobs and lets a scenario wait for a number of them. `add` is on every job's path,
 * so it does one comparison and nothing else; the waiter is settled only when the target is hit.
 */
export class Countdown {
  count = 0;
  /** When the first and the latest add happened, on the suite's clock (clock.ts). */
  firstAt = 0;
  lastAt = 0;
  #target = Number.POSITIVE_INFINITY;
  #reached: (() => void) | null = null;

  add(n = 1, at = now(), firstAt = at): void {
    if (this.count === 0 || firstAt < this.firstAt) this.firstAt = firstAt;
    this.count += n;
    this.lastAt = Math.max(this.lastAt, at);
    if (this.count >= this.#target && this.#reached !== null) {
      const reached = this.#reached;
      this.#reached = null;
      reached();
    }
  }

  /** Resolves true once `target` jobs are counted, or false when `timeoutMs` passes first. */
  waitFor(target: number, timeoutMs: number): Promise<boolean> {
    if (this.count >= target) return Promise.resolve(true);
    this.#target = target;
    return new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => {
        this.#reached = null;
        resolve(false);
      }, timeoutMs);
      this.#reached = () => {
        clearTimeout(timer);
        resolve(true);
      };
    });
  }
}
