/**
 * The comparisons the suite exists for, computed from this run's own measurements (never from a
 * number measured elsewhere): offload-postgres against graphile-worker (both PostgreSQL, both
 * Node), offload-sqlite against BullMQ (both "no extra database server to run" for a Node app,
 * roughly), and both offload stores against graphile-worker for enqueueing under load.
 *
 * A ratio is offload's figure divided by the peer's; whether above 1 is good depends on the metric.
 */
import { METRICS, type Measurement, type MetricId } from './measurement.ts';
import type { SystemName } from './systems/system.ts';

const PROCESS: MetricId[] = ['process.1x1', 'process.1x10', 'process.1x50', 'process.2x50'];

const COMPARISONS: ReadonlyArray<{ offload: SystemName; peer: SystemName; metrics: MetricId[] }> = [
  { offload: 'offload-postgres', peer: 'graphile-worker', metrics: PROCESS },
  { offload: 'offload-sqlite', peer: 'bullmq', metrics: PROCESS },
  { offload: 'offload-sqlite', peer: 'graphile-worker', metrics: ['enqueue.inflight50'] },
  { offload: 'offload-postgres', peer: 'graphile-worker', metrics: ['enqueue.inflight50'] },
  { offload: 'offload-postgres', peer: 'graphile-worker', metrics: ['latency.p99'] },
  { offload: 'offload-sqlite', peer: 'bullmq', metrics: ['latency.p99'] },
  { offload: 'offload-postgres', peer: 'graphile-worker', metrics: ['rss.peak'] },
  { offload: 'offload-sqlite', peer: 'bullmq', metrics: ['rss.peak'] },
];

export interface Ratio {
  metric: MetricId;
  offload: SystemName;
  peer: SystemName;
  offloadValue: number;
  peerValue: number;
  /** offloadValue / peerValue. */
  ratio: number;
  better: 'higher' | 'lower';
  /** Whether offload comes out ahead on this metric. */
  offloadAhead: boolean;
  /** Within 5 % either way: closer than run-to-run noise, so neither is called ahead. */
  even: boolean;
  /** Set when either figure carries a note (a cap, a timeout): read the notes before the ratio. */
  caveat?: string;
}

export function computeRatios(measurements: readonly Measurement[]): Ratio[] {
  const find = (system: SystemName, metric: MetricId) => measurements.find((m) => m.system === system && m.metric === metric);
  const out: Ratio[] = [];
  for (const c of COMPARISONS) {
    for (const metric of c.metrics) {
      const a = find(c.offload, metric);
      const b = find(c.peer, metric);
      if (a === undefined || b === undefined || !(b.value > 0)) continue;
      const { better } = METRICS[metric];
      const ratio = a.value / b.value;
      const caveats = [a, b].filter((m) => m.note !== undefined && metric.startsWith('process.')).map((m) => `${m.system}: ${m.note}`);
      out.push({
        metric,
        offload: c.offload,
        peer: c.peer,
        offloadValue: a.value,
        peerValue: b.value,
        ratio,
        better,
        offloadAhead: better === 'higher' ? ratio > 1 : ratio < 1,
        even: Math.abs(ratio - 1) < 0.05,
        ...(caveats.length > 0 ? { caveat: caveats.join('; ') } : {}),
      });
    }
  }
  return out;
}
