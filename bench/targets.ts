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
  /** At most this for a lower-is-better metric, at least this for a higher-is-better one. */
  limit: number;
  /** Where the target was set, and what it says. */
  source: string;
}

export const TARGETS: readonly Target[] = [
  { system: 'offload-sqlite', metric: 'loop.off.p99', limit: 10, source: 'issue 3: main-thread event-loop delay p99 <= 10 ms with the thread pool saturated' },
];

export interface TargetCheck extends Target {
  value: number;
  met: boolean;
  /** The measurement's note: a target met on an unsaturated run means little. */
  note?: string;
}

/** The targets this run measured, each with its figure; those it did not measure are left out. */
export function checkTargets(measurements: readonly Measurement[], targets: readonly Target[] = TARGETS): TargetCheck[] {
  return targets.flatMap((t) => {
    const m = measurements.find((x) => x.system === t.system && x.metric === t.metric);
    if (m === undefined) return [];
    const met = METRICS[t.metric].better === 'lower' ? m.value <= t.limit : m.value >= t.limit;
    return [{ ...t, value: m.value, met, ...(m.note === undefined ? {} : { note: m.note }) }];
  });
}
