/**
 * What a scenario reports: one number per (system, metric), with what was counted and how long it
 * took, so that a reader of the JSON can recompute it. Metrics are listed here once, in table order.
 */
import type { SystemName } from './systems/system.ts';

export const SCENARIO_NAMES = ['enqueue', 'process', 'latency', 'rss', 'loop'] as const;
export type ScenarioName = (typeof SCENARIO_NAMES)[number];

/**
 * The systems a scenario runs on, where that is not all of them. The loop scenario compares where a
 * CPU job runs: offload's thread tasks and main thread (on its SQLite store) and BullMQ's sandboxed
 * processor; graphile-worker and pg-boss run handlers on the main thread only. Each system listed
 * declares its ways in `loopWays`.
 */
const SCENARIO_SYSTEMS: Partial<Record<ScenarioName, readonly SystemName[]>> = {
  loop: ['offload-sqlite', 'bullmq'],
};

export function scenarioRunsOn(scenario: ScenarioName, system: SystemName): boolean {
  return SCENARIO_SYSTEMS[scenario]?.includes(system) ?? true;
}

export const METRICS = {
  'enqueue.one': { scenario: 'enqueue', label: 'enqueue, 1 at a time', unit: 'jobs/s', better: 'higher' },
  'enqueue.inflight50': { scenario: 'enqueue', label: 'enqueue, 50 in flight', unit: 'jobs/s', better: 'higher' },
  'enqueue.bulk1000': { scenario: 'enqueue', label: 'enqueue, bulk of 1000', unit: 'jobs/s', better: 'higher' },
  'process.1x1': { scenario: 'process', label: 'process, 1 proc x c1', unit: 'jobs/s', better: 'higher' },
  'process.1x10': { scenario: 'process', label: 'process, 1 proc x c10', unit: 'jobs/s', better: 'higher' },
  'process.1x50': { scenario: 'process', label: 'process, 1 proc x c50', unit: 'jobs/s', better: 'higher' },
  'process.2x50': { scenario: 'process', label: 'process, 2 procs x c50', unit: 'jobs/s', better: 'higher' },
  'latency.p50': { scenario: 'latency', label: 'latency p50 @100/s', unit: 'ms', better: 'lower' },
  'latency.p99': { scenario: 'latency', label: 'latency p99 @100/s', unit: 'ms', better: 'lower' },
  'rss.peak': { scenario: 'rss', label: 'worker RSS peak, c100', unit: 'MB', better: 'lower' },
  'rss.idle': { scenario: 'rss', label: 'worker RSS before start', unit: 'MB', better: 'lower' },
  'loop.off.p50': { scenario: 'loop', label: 'loop delay p50, jobs on threads', unit: 'ms', better: 'lower' },
  'loop.off.p99': { scenario: 'loop', label: 'loop delay p99, jobs on threads', unit: 'ms', better: 'lower' },
  'loop.off.max': { scenario: 'loop', label: 'loop delay max, jobs on threads', unit: 'ms', better: 'lower' },
  'loop.off.rate': { scenario: 'loop', label: 'CPU jobs done, on threads', unit: 'jobs/s', better: 'higher' },
  'loop.on.p50': { scenario: 'loop', label: 'loop delay p50, jobs on main thread', unit: 'ms', better: 'lower' },
  'loop.on.p99': { scenario: 'loop', label: 'loop delay p99, jobs on main thread', unit: 'ms', better: 'lower' },
  'loop.on.max': { scenario: 'loop', label: 'loop delay max, jobs on main thread', unit: 'ms', better: 'lower' },
  'loop.on.rate': { scenario: 'loop', label: 'CPU jobs done, on main thread', unit: 'jobs/s', better: 'higher' },
} as const satisfies Record<string, { scenario: ScenarioName; label: string; unit: string; better: 'higher' | 'lower' }>;

export type MetricId = keyof typeof METRICS;

export interface Measurement {
  system: SystemName;
  metric: MetricId;
  value: number;
  /** Jobs the number is computed from (enqueued, processed or sampled). */
  jobs: number;
  /** Wall time measured, where the number is a rate. */
  elapsedMs?: number;
  /** Anything a reader must know to read the number right: a cap, a timeout, a mismatch. */
  note?: string;
  /** Supporting figures (mean, max, samples ...). */
  detail?: Record<string, number>;
}

export function isScenarioName(value: string): value is ScenarioName {
  return (SCENARIO_NAMES as readonly string[]).includes(value);
}
