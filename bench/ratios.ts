/**
 * The comparisons the suite exists for, computed from this run's own measurements (never from a
 * number measured elsewhere): offload-postgres against graphile-worker (both PostgreSQL, both
 * Node), offload-sqlite against BullMQ (both "no extra database server to run" for a Node app,
 * roughly), and both offload stores against graphile-worker for enqueueing under load. The loop
 * scenario adds one comparison within offload: its thread tasks against the same jobs on its main
 * thread (two metrics of one system, each side named).
 *
 * A ratio is offload's figure divided by the peer's; whether above 1 is good depends on the metric.
 */
import { METRICS, type Measurement, type MetricId } from './measurement.ts';
import type { SystemName } from './systems/system.ts';

const PROCESS: MetricId[] = ['process.1x1', 'process.1x10', 'process.1x50', 'process.2x50'];

interface Comparison {
  offload: SystemName;
  peer: SystemName;
  metrics: MetricId[];
  /** The peer's metric for each of `metrics`, where it is another one (default: the same). */
  peerMetrics?: MetricId[];
  /** Names of the two sides, where the system names alone would not tell them apart. */
  sides?: readonly [string, string];
}

const COMPARISONS: readonly Comparison[] = [
  { offload: 'offload-postgres', peer: 'graphile-worker', metrics: PROCESS },
  { offload: 'offload-sqlite', peer: 'bullmq', metrics: PROCESS },
  { offload: 'offload-sqlite', peer: 'graphile-worker', metrics: ['enqueue.inflight50'] },
  { offload: 'offload-postgres', peer: 'graphile-worker', metrics: ['enqueue.inflight50'] },
  { offload: 'offload-postgres', peer: 'graphile-worker', metrics: ['latency.p99'] },
  { offload: 'offload-sqlite', peer: 'bullmq', metrics: ['latency.p99'] },
  { offload: 'offload-postgres', peer: 'graphile-worker', metrics: ['rss.peak'] },
  { offload: 'offload-sqlite', peer: 'bullmq', metrics: ['rss.peak'] },
  { offload: 'offload-sqlite', peer: 'bullmq', metrics: ['loop.off.p99', 'loop.off.rate'], sides: ['offload threads', 'BullMQ sandboxed threads'] },
  {
    offload: 'offload-sqlite',
    peer: 'offload-sqlite',
    metrics: ['loop.off.p99', 'loop.off.rate'],
    peerMetrics: ['loop.on.p99', 'loop.on.rate'],
    sides: ['offload threads', 'offload main thread'],
  },
];

export interface Ratio {
  metric: MetricId;
  offload: SystemName;
  peer: SystemName;
  /** The peer's metric: `metric` unless the comparison is within one system. */
  peerMetric: MetricId;
  /** What the two sides are called in the report, where the system names are not enough. */
  sides?: readonly [string, string];
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
    for (const [k, metric] of c.metrics.entries()) {
      const peerMetric = c.peerMetrics?.[k] ?? metric;
      const a = find(c.offload, metric);
      const b = find(c.peer, peerMetric);
      if (a === undefined || b === undefined || !(b.value > 0)) continue;
      const { better } = METRICS[metric];
      const ratio = a.value / b.value;
      // Process notes are caps; a loop run that was not saturated says so in its detail.
      const capped = (m: Measurement) => (m.note !== undefined && metric.startsWith('process.')) || m.detail?.['saturated'] === 0;
      const caveats = [a, b].filter(capped).map((m) => `${m.system}: ${m.note}`);
      out.push({
        metric,
        offload: c.offload,
        peer: c.peer,
        peerMetric,
        ...(c.sides === undefined ? {} : { sides: c.sides }),
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
