/**
 * Event-loop health of this process: delay percentiles, utilisation, an overload state with
 * hysteresis, and detection of a loop held by one synchronous stretch of work.
 *
 * How: a timer scheduled every `sampleMs` (20 ms) measures how late it fires; the lateness is the
 * loop's delay at that moment (a loop held for 500 ms makes one sample of ~500 ms). The last
 * `windowMs` of samples give p50/p99/max. Cost: 50 wake-ups a second, a few microseconds each.
 *
 * Modes: stopped -> healthy <-> overloaded. Healthy -> overloaded when the window's p99 goes over
 * `maxDelayMs` while the loop was busy (utilisation of at least 25% over the window); back to
 * healthy only when p99 falls under `resumeDelayMs` (lower, so the state does not flap at the
 * threshold). Callers (the producer) stop claiming while overloaded.
 *
 * Why the utilisation condition: a timer that fires late while the loop sat idle means the
 * process was not given a CPU (other processes had them), not that this loop is drowning. Seen
 * here on a loaded 2-core machine: 270 ms timer delays at 0.4% utilisation, which alone paused
 * claiming for a second at a time. A handler holding the loop for 500 ms makes the window at
 * least 50% busy, and a loop drowning in callbacks is busy throughout.
 *
 * Blocking: a single sample of at least `blockedMs` means one stretch held the loop that long.
 * The report names the main-thread tasks that ran since the previous sample (the culprit may
 * already have finished when the timer finally fires, so "running now" alone would miss it).
 */
import { performance, type EventLoopUtilization } from 'node:perf_hooks';
import type { TypedEvents } from '../observability/events.ts';
import type { Logger, LoopStats } from '../types.ts';

export interface LoopHealthOptions {
  /** Delay p99 over which the process counts as overloaded. Default 100. */
  maxDelayMs: number;
  /** Delay p99 under which an overloaded process recovers. Default half of maxDelayMs. */
  resumeDelayMs: number;
  /** One stretch this long is reported as `loop:blocked`. Default 200. */
  blockedMs: number;
  sampleMs: number;
  windowMs: number;
}

export const DEFAULT_LOOP_HEALTH: LoopHealthOptions = { maxDelayMs: 100, resumeDelayMs: 50, blockedMs: 200, sampleMs: 20, windowMs: 1000 };

export class LoopHealth {
  readonly #o: LoopHealthOptions;
  readonly #events: TypedEvents;
  readonly #logger: Logger;
  /** Main-thread tasks that ran since the previous sample (see the header). */
  readonly #recentTasks: () => string[];
  /** Samples covering the window: lateness, and the loop's busy time since the previous sample. */
  #samples: Array<{ at: number; delayMs: number; activeMs: number }> = [];
  #timer: NodeJS.Timeout | null = null;
  #expected = 0;
  #overloaded = false;
  #elu: EventLoopUtilization | null = null;
  #listeners = new Set<(overloaded: boolean) => void>();
  /** holdingBack() said yes for an overdue sampler: the next sample that finds no overload lifts it. */
  #overdueHold = false;
  #stats: LoopStats | null = null;

  constructor(options: LoopHealthOptions, events: TypedEvents, logger: Logger, recentTasks: () => string[]) {
    this.#o = options;
    this.#events = events;
    this.#logger = logger;
    this.#recentTasks = recentTasks;
  }

  get options(): LoopHealthOptions {
    return this.#o;
  }

  /** Idempotent. The timer is unreferenced: measuring alone never keeps a process alive. */
  start(): void {
    if (this.#timer !== null) return;
    this.#expected = performance.now() + this.#o.sampleMs;
    this.#elu = performance.eventLoopUtilization();
    this.#timer = setInterval(() => this.#sample(), this.#o.sampleMs).unref();
  }

  stop(): void {
    if (this.#timer !== null) clearInterval(this.#timer);
    this.#timer = null;
    this.#samples = [];
    this.#stats = null;
    if (this.#overloaded) {
      this.#overloaded = false;
      for (const fn of this.#listeners) fn(false);
    }
  }

  get overloaded(): boolean {
    return this.#overloaded;
  }

  /**
   * Overloaded, or held right now: the sampling timer is already more than `maxDelayMs` overdue.
   * The claim that runs first after a long synchronous stretch (an immediate, ahead of timers)
   * would otherwise take one more batch before the sampler has seen the stretch.
   */
  holdingBack(): boolean {
    if (this.#overloaded) return true;
    if (this.#timer === null || performance.now() - this.#expected <= this.#o.maxDelayMs) return false;
    this.#overdueHold = true;
    return true;
  }

  /** Called with the new state whenever it changes. Returns the unsubscribe function. */
  onChange(fn: (overloaded: boolean) => void): () => void {
    this.#listeners.add(fn);
    return () => this.#listeners.delete(fn);
  }

  /** The latest figures: computed once per sample, so reading them costs nothing (HTTP fronts read them on every request). */
  stats(): LoopStats {
    this.#stats ??= this.#compute();
    return this.#stats;
  }

  #compute(): LoopStats {
    const sorted = this.#samples.map((s) => s.delayMs).toSorted((a, b) => a - b);
    const at = (p: number) => (sorted.length === 0 ? 0 : sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)]!);
    return {
      delayP50Ms: round(at(0.5)),
      delayP99Ms: round(at(0.99)),
      delayMaxMs: round(sorted.at(-1) ?? 0),
      utilization: round(this.#utilization(), 3),
      overloaded: this.#overloaded,
    };
  }

  /** Busy share of the window (0..1). */
  #utilization(): number {
    const first = this.#samples[0];
    if (first === undefined) return 0;
    const span = this.#samples.at(-1)!.at - first.at + this.#o.sampleMs;
    return Math.min(1, this.#samples.reduce((n, s) => n + s.activeMs, 0) / span);
  }

  #sample(): void {
    const now = performance.now();
    const delayMs = Math.max(0, now - this.#expected);
    this.#expected = now + this.#o.sampleMs;
    const elu = performance.eventLoopUtilization();
    const activeMs = elu.active - (this.#elu?.active ?? elu.active);
    this.#elu = elu;
    this.#samples.push({ at: now, delayMs, activeMs });
    while (this.#samples.length > 0 && this.#samples[0]!.at < now - this.#o.windowMs) this.#samples.shift();
    this.#stats = null;
    const tasks = this.#recentTasks();
    if (delayMs >= this.#o.blockedMs) {
      const durationMs = Math.round(delayMs);
      if (tasks.length > 0) {
        this.#logger.warn(
          { durationMs, tasks },
          `the event loop was blocked for ${durationMs} ms while ${tasks.join(', ')} ran on the main thread; ` +
            `CPU-heavy or synchronous handlers belong on worker threads: defineTask({ ..., kind: 'thread' })`,
        );
      }
      this.#events.emit('loop:blocked', { durationMs, tasks });
    }
    this.#judge();
    if (this.#overdueHold && !this.#overloaded) {
      this.#overdueHold = false;
      for (const fn of this.#listeners) fn(false);
    }
  }

  #judge(): void {
    const { delayP99Ms: p99, utilization } = this.stats();
    if (!this.#overloaded && p99 > this.#o.maxDelayMs && utilization >= BUSY) {
      this.#overloaded = true;
      this.#stats = null;
      this.#events.emit('loop:overloaded', { delayP99Ms: p99, thresholdMs: this.#o.maxDelayMs });
      for (const fn of this.#listeners) fn(true);
    } else if (this.#overloaded && p99 < this.#o.resumeDelayMs) {
      this.#overloaded = false;
      this.#stats = null;
      this.#events.emit('loop:recovered', { delayP99Ms: p99, thresholdMs: this.#o.resumeDelayMs });
      for (const fn of this.#listeners) fn(false);
    }
  }
}

/** The busy share of the window without which late timers are not counted as overload (see the header). */
const BUSY = 0.25;

const round = (v: number, digits = 2) => Math.round(v * 10 ** digits) / 10 ** digits;
