/**
 * The gauges of `createMetrics`, set at scrape time from one `stats()` call: prom-client collects
 * every metric of a registry concurrently, so the first gauge to collect starts the read and the
 * others share it.
 *
 * A failed read (store unreachable, client closed) does not fail the scrape: counters are still
 * worth having during an outage. The store's gauges are then absent, `offload_stats_up` is 0, and
 * the event-loop gauges come from the client's synchronous `loop()`.
 */
import type { Counter, Registry } from 'prom-client';
import { promClient } from './lazy-deps.ts';
import { JOB_STATES, type LoopStats } from '../types.ts';
import type { MetricsSource, MetricsStats } from './metrics.ts';

type Snapshot = { ok: true; stats: MetricsStats } | { ok: false; loop: LoopStats | null };

export interface StatsGaugeOptions {
  /** Queues reported; the rest are left out and counted in `overflow`. */
  maxQueues: number;
  overflow: Counter;
}

export function registerStatsGauges(registry: Registry, source: MetricsSource, o: StatsGaugeOptions): { detach(): void } {
  const prom = promClient();
  let attached = true;
  let pending: Promise<Snapshot> | null = null;
  const read = async (): Promise<Snapshot> => {
    let stats: MetricsStats;
    try {
      stats = await source.stats();
    } catch {
      let loop: LoopStats | null = null;
      try {
        loop = source.loop?.() ?? null;
      } catch {
        // The loop is read from this process's memory; if even that fails, leave its gauges out.
      }
      return { ok: false, loop };
    }
    if (stats.queues.length <= o.maxQueues) return { ok: true, stats };
    o.overflow.inc(stats.queues.length - o.maxQueues);
    return { ok: true, stats: { ...stats, queues: stats.queues.slice(0, o.maxQueues) } };
  };
  const snapshot = (): Promise<Snapshot> => {
    pending ??= read().finally(() => {
      pending = null;
    });
    return pending;
  };

  /** A gauge whose samples are rebuilt from the snapshot at every scrape. */
  const gauge = <L extends string>(name: string, help: string, labelNames: readonly L[], fill: (set: (value: number, labels?: Partial<Record<L, string>>) => void, s: Snapshot) => void) =>
    new prom.Gauge<L>({
      name,
      help,
      labelNames,
      registers: [registry],
      async collect() {
        this.reset();
        if (!attached) return;
        const s = await snapshot();
        fill((value, labels) => (labels === undefined ? this.set(value) : this.set(labels, value)), s);
      },
    });

  const stats = (s: Snapshot) => (s.ok ? s.stats : null);
  const loopOf = (s: Snapshot) => (s.ok ? s.stats.loop : s.loop);
  const queues = (s: Snapshot) => stats(s)?.queues ?? [];

  gauge('offload_stats_up', 'Whether the last scrape could read stats from the store (1) or not (0).', [], (set, s) => set(s.ok ? 1 : 0));
  gauge('offload_queue_jobs', 'Jobs in the store by queue and state (the same in every process).', ['queue', 'state'], (set, s) => {
    for (const q of queues(s)) for (const state of JOB_STATES) set(q.counts[state] ?? 0, { queue: q.name, state });
  });
  gauge('offload_queue_paused', 'Whether the queue is paused (1) or not (0).', ['queue'], (set, s) => {
    for (const q of queues(s)) set(q.paused ? 1 : 0, { queue: q.name });
  });
  gauge('offload_queue_drain_per_second', 'Jobs of the queue reaching a final state per second, over the last 10 s, in all processes.', ['queue'], (set, s) => {
    for (const q of queues(s)) set(q.drainPerSec, { queue: q.name });
  });
  gauge('offload_queue_estimated_wait_seconds', 'Waiting jobs divided by the drain rate; absent while nothing drains.', ['queue'], (set, s) => {
    for (const q of queues(s)) if (q.estimatedWaitMs !== null) set(q.estimatedWaitMs / 1000, { queue: q.name });
  });
  gauge('offload_queue_max_backlog', 'The configured bound of waiting jobs; absent when unbounded.', ['queue'], (set, s) => {
    for (const q of queues(s)) if (q.maxBacklog !== null) set(q.maxBacklog, { queue: q.name });
  });
  gauge('offload_worker_running_jobs', "Jobs running in this process's workers.", [], (set, s) => {
    const w = stats(s)?.workers;
    if (w) set(w.running);
  });
  gauge('offload_worker_concurrency', "Slots of this process's workers.", [], (set, s) => {
    const w = stats(s)?.workers;
    if (w) set(w.concurrency);
  });
  gauge('offload_worker_claiming', 'Whether the workers claim jobs (1) or hold back, e.g. with the event loop overloaded (0).', [], (set, s) => {
    const w = stats(s)?.workers;
    if (w) set(w.claiming ? 1 : 0);
  });
  gauge('offload_thread_pool_threads', 'Threads in the pool that runs tasks off the event loop.', [], (set, s) => {
    const t = stats(s)?.threads;
    if (t) set(t.size);
  });
  gauge('offload_thread_pool_busy_threads', 'Threads of the pool running a task now.', [], (set, s) => {
    const t = stats(s)?.threads;
    if (t) set(t.busy);
  });
  gauge('offload_thread_pool_utilization_ratio', 'Busy threads over pool size (0 to 1).', [], (set, s) => {
    const t = stats(s)?.threads;
    if (t) set(t.size === 0 ? 0 : t.busy / t.size);
  });
  gauge('offload_thread_pool_queued_jobs', 'Jobs waiting for a free thread of the pool.', [], (set, s) => {
    const t = stats(s)?.threads;
    if (t?.queued !== undefined) set(t.queued);
  });
  // A monotonic count read from the pool: a counter whose value is set at collect time.
  const retired = new prom.Counter({
    name: 'offload_thread_pool_retired_threads_total',
    help: 'Threads of the pool replaced so far (recycled after maxJobsPerThread, crashed, or terminated).',
    registers: [],
    async collect() {
      this.reset();
      if (!attached) return;
      const t = stats(await snapshot())?.threads;
      if (t?.retired !== undefined) this.inc(t.retired);
    },
  });
  registry.registerMetric(retired);
  const loopGauge = (name: string, help: string, value: (l: LoopStats) => number) =>
    gauge(name, help, [], (set, s) => {
      const l = loopOf(s);
      if (l) set(value(l));
    });
  loopGauge('offload_event_loop_delay_p50_seconds', 'Median event-loop delay over the last second.', (l) => l.delayP50Ms / 1000);
  loopGauge('offload_event_loop_delay_p99_seconds', '99th percentile of the event-loop delay over the last second.', (l) => l.delayP99Ms / 1000);
  loopGauge('offload_event_loop_delay_max_seconds', 'Largest event-loop delay over the last second.', (l) => l.delayMaxMs / 1000);
  loopGauge('offload_event_loop_utilization_ratio', 'Share of the last second the event loop was busy (0 to 1).', (l) => l.utilization);
  loopGauge('offload_event_loop_overloaded', 'Whether this process counts as overloaded (1): it claims no jobs until the delay recovers.', (l) => (l.overloaded ? 1 : 0));

  return {
    detach() {
      attached = false;
    },
  };
}
