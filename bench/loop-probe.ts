/**
 * Measures the main thread's event-loop delay of the process it runs in, over one window, two ways:
 *
 * - `perf_hooks.monitorEventLoopDelay({ resolution: 10 })`: a libuv timer every 10 ms, recorded in
 *   a histogram by Node itself. It records the whole interval between two firings, so an idle loop
 *   reads ~10 ms; the resolution is subtracted here to give the delay (0 for a loop that is free).
 * - a 10 ms `setTimeout` chain in JavaScript: each firing's lateness against its schedule. It also
 *   waits behind the JavaScript callbacks queued before it (I/O callbacks, promise jobs), which is
 *   what a request handler in the same process would wait behind.
 *
 * Both are on while the window is open and off afterwards; the timer is unreferenced. Event-loop
 * utilisation over the window goes with them.
 */
import { monitorEventLoopDelay, performance, type EventLoopUtilization, type IntervalHistogram } from 'node:perf_hooks';
import { percentile } from './percentile.ts';

export const PROBE_RESOLUTION_MS = 10;

export interface DelayFigures {
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  meanMs: number;
  samples: number;
}

export interface LoopReading {
  /** monitorEventLoopDelay, resolution subtracted. The headline figure. */
  histogram: DelayFigures;
  /** Lateness of a 10 ms setTimeout chain. */
  timer: DelayFigures;
  /** Event-loop utilisation over the window, 0..1. */
  utilization: number;
  /** The window as it really was (its closing timer may itself fire late). */
  elapsedMs: number;
}

/** The part of a Node histogram read here (so a RecordableHistogram can stand in for tests). */
export type HistogramLike = Pick<IntervalHistogram, 'percentile' | 'max' | 'mean' | 'count'>;

const NS_PER_MS = 1e6;

/** Delay figures from a monitorEventLoopDelay histogram (nanoseconds, whole intervals). */
export function histogramFigures(h: HistogramLike, resolutionMs: number): DelayFigures {
  if (h.count === 0) return { p50Ms: Number.NaN, p99Ms: Number.NaN, maxMs: Number.NaN, meanMs: Number.NaN, samples: 0 };
  const delay = (ns: number) => Math.max(0, ns / NS_PER_MS - resolutionMs);
  return { p50Ms: delay(h.percentile(50)), p99Ms: delay(h.percentile(99)), maxMs: delay(h.max), meanMs: delay(h.mean), samples: h.count };
}

/** Delay figures from lateness samples in milliseconds. */
export function sampleFigures(samples: readonly number[]): DelayFigures {
  const meanMs = samples.length === 0 ? Number.NaN : samples.reduce((a, b) => a + b, 0) / samples.length;
  return { p50Ms: percentile(samples, 50), p99Ms: percentile(samples, 99), maxMs: percentile(samples, 100), meanMs, samples: samples.length };
}

export class LoopProbe {
  readonly #histogram = monitorEventLoopDelay({ resolution: PROBE_RESOLUTION_MS });
  readonly #lateness: number[] = [];
  #timer: NodeJS.Timeout | null = null;
  #t0 = 0;
  #elu: EventLoopUtilization | null = null;

  start(): void {
    if (this.#timer !== null) return;
    this.#t0 = performance.now();
    this.#elu = performance.eventLoopUtilization();
    this.#histogram.enable();
    const tick = (due: number) => {
      const now = performance.now();
      this.#lateness.push(Math.max(0, now - due));
      this.#timer = setTimeout(tick, PROBE_RESOLUTION_MS, now + PROBE_RESOLUTION_MS).unref();
    };
    this.#timer = setTimeout(tick, PROBE_RESOLUTION_MS, this.#t0 + PROBE_RESOLUTION_MS).unref();
  }

  stop(): LoopReading {
    const elapsedMs = performance.now() - this.#t0;
    this.#histogram.disable();
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
    const utilization = this.#elu === null ? Number.NaN : performance.eventLoopUtilization(this.#elu).utilization;
    return { histogram: histogramFigures(this.#histogram, PROBE_RESOLUTION_MS), timer: sampleFigures(this.#lateness), utilization, elapsedMs };
  }
}
