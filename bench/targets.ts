/**
 * Figures the project has set itself a target for, checked against this run's own measurements
 * and printed as met or missed. A report, never an assertion: a missed target does not change
 * the suite's exit code.
 */
import { METRICS, type Measurement, type MetricId } from './measurement.ts';
import type { SystemName } from './systems/system.ts';

export interface Target {
  system: SystemName;
  metric: MetricId;
  /**
   * At most this for a lower-is-better metric, at least this for a higher-is-better one: the
   * figure itself, or with `peer` the ratio of the figure to the peer's in the same run.
   */
  limit: number;
  peer?: SystemName;
  /** Where the target was set, and what it says. */
  source: string;
}

const ISSUE_2 = 'issue 2';

export const TARGETS: readonly Target[] = [
  { system: 'offload-postgres', metric: 'process.1x50', limit: 2, peer: 'graphile-worker', source: `${ISSUE_2}: PostgreSQL store >= 2x graphile-worker's processing rate` },
  { system: 'offload-sqlite', metric: 'process.1x50', limit: 3, peer: 'bullmq', source: `${ISSUE_2}: SQLite >= 3x BullMQ-Redis` },
  { system: 'offload-sqlite', metric: 'enqueue.inflight50', limit: 10, peer: 'graphile-worker', source: `${ISSUE_2}: enqueue with 50 in flight >= 10x graphile-worker` },
  { system: 'offload-postgres', metric: 'enqueue.inflight50', limit: 10, peer: 'graphile-worker', source: `${ISSUE_2}: enqueue with 50 in flight >= 10x graphile-worker` },
  { system: 'offload-sqlite', metric: 'latency.p99', limit: 3, source: `${ISSUE_2}: latency p99 <= 3 ms` },
  { system: 'offload-postgres', metric: 'latency.p99', limit: 3, source: `${ISSUE_2}: latency p99 <= 3 ms` },
  { system: 'offload-sqlite', metric: 'rss.peak', limit: 150, source: `${ISSUE_2}: worker RSS <= 150 MB at concurrency 100` },
  { system: 'offload-postgres', metric: 'rss.peak', limit: 150, source: `${ISSUE_2}: worker RSS <= 150 MB at concurrency 100` },
  { system: 'offload-sqlite', metric: 'loop.off.p99', limit: 10, source: 'issue 3: main-thread event-loop delay p99 <= 10 ms with the thread pool saturated' },
];

export interface TargetCheck extends Target {
  /** The figure, or with `peer` the ratio of the figure to the peer's. */
  value: number;
  /** With `peer`: the two figures the ratio is made of. */
  figures?: { system: number; peer: number };
  met: boolean;
  /** The measurement's note: a target met on an unsaturated run means little. */
  note?: string;
}

/**
 * The targets this run measured, each with its figure; those it did not measure (for a ratio: the
 * system's figure or the peer's) are left out.
 */
export function checkTargets(measurements: readonly Measurement[], targets: readonly Target[] = TARGETS): TargetCheck[] {
  const find = (system: SystemName, metric: MetricId) => measurements.find((x) => x.system === system && x.metric === metric);
  return targets.flatMap((t) => {
    const m = find(t.system, t.metric);
    if (m === undefined) return [];
    const p = t.peer === undefined ? undefined : find(t.peer, t.metric);
    if (t.peer !== undefined && (p === undefined || p.value <= 0)) return [];
    const value = p === undefined ? m.value : m.value / p.value;
    const met = METRICS[t.metric].better === 'lower' ? value <= t.limit : value >= t.limit;
    return [{ ...t, value, met, ...(p === undefined ? {} : { figures: { system: m.value, peer: p.value } }), ...(m.note === undefined ? {} : { note: m.note }) }];
  });
}
