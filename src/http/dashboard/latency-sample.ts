/**
 * The durations of one second, kept for their percentiles. At most `capacity` values are kept
 * (reservoir sampling past that: every value of the second has the same chance to be in), so a
 * second with 100 000 completions costs 10 000 numbers, not 100 000.
 */
import type { Percentiles } from './protocol.ts';

/**
 * Nearest-rank percentile of sorted values (`q` in 0..1).
 * @example
 * percentileOf([1, 2, 3, 4], 0.5) // 2
 */
export function percentileOf(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil(q * sorted.length)));
  return sorted[rank - 1]!;
}

export class LatencySample {
  readonly #capacity: number;
  readonly #random: () => number;
  #values: number[] = [];
  #seen = 0;

  constructor(capacity = 10_000, random: () => number = Math.random) {
    this.#capacity = capacity;
    this.#random = random;
  }

  add(ms: number): void {
    if (!Number.isFinite(ms)) return;
    this.#seen++;
    if (this.#values.length < this.#capacity) this.#values.push(ms);
    else {
      const i = Math.floor(this.#random() * this.#seen);
      if (i < this.#capacity) this.#values[i] = ms;
    }
  }

  /** p50, p95 and p99 of the values since the last call, rounded to 0.1 ms, then starts over; null when there were none. */
  take(): Percentiles | null {
    const values = this.#values;
    this.#values = [];
    this.#seen = 0;
    if (values.length === 0) return null;
    values.sort((a, b) => a - b);
    const r = (q: number) => Math.round(percentileOf(values, q) * 10) / 10;
    return { p50: r(0.5), p95: r(0.95), p99: r(0.99) };
  }
}
