/**
 * Prometheus metrics of one client, in a prom-client Registry of their own (never prom-client's
 * global default, which belongs to the application).
 *
 * Two sources:
 * - events (counters, histograms): what this process did. `job:enqueued` counts the jobs this
 *   process stored, `job:started` ... the attempts its workers ran. Sum them over processes.
 * - `stats()` at scrape time (gauges, in metrics-gauges.ts): queue depth by state, drain rate and
 *   estimated wait are read from the store and are the same in every process (aggregate them with
 *   max(), not sum()); workers, threads and the event loop are this process's.
 *
 * Cardinality is bounded: labels are task, queue and small fixed sets (state, outcome, reason,
 * component), never a job id. Task and queue names come from code, but a queue name can be built
 * at run time (`queue: \`tenant-${id}\``); past `maxLabelSets` distinct (task, queue) pairs, new
 * pairs are counted under task="_other", queue="_other" and `offload_metrics_label_overflow_total`
 * says how often that happened.
 */
import { performance } from 'node:perf_hooks';
import type { Registry } from 'prom-client';
import { promClient } from './lazy-deps.ts';
import { checkKeys, intOption } from '../core/options.ts';
import { OffloadError } from '../errors.ts';
import type { Job, LoopStats, QueueStats } from '../types.ts';
import type { OffloadEventName, OffloadEvents } from './events.ts';
import { registerStatsGauges } from './metrics-gauges.ts';

/** What metrics read from a client. An `Offload` is one. */
export interface MetricsSource {
  on<E extends OffloadEventName>(event: E, listener: (payload: OffloadEvents[E]) => void): () => void;
  stats(): Promise<MetricsStats>;
  /** This process's loop health, read when `stats()` fails so loop gauges survive a store outage. */
  loop?(): LoopStats;
}

/** The part of `offload.stats()` the gauges read. */
export interface MetricsStats {
  loop: LoopStats;
  queues: QueueStats[];
  workers: { concurrency: number; running: number; claiming: boolean } | null;
  threads?: { size: number; busy: number; queued?: number; retired?: number } | null;
}

export interface MetricsOptions {
  /** Register into this registry instead of a new one (e.g. next to prom-client's default metrics). */
  registry?: Registry;
  /** Distinct (task, queue) label pairs kept before new ones fold into `_other`. Default 1000. */
  maxLabelSets?: number;
  /** Buckets of `offload_job_wait_seconds`. Default 5 ms to 1 h. */
  waitBuckets?: number[];
  /** Buckets of `offload_job_duration_seconds`. Default 5 ms to 15 min. */
  durationBuckets?: number[];
}

export interface Metrics {
  readonly registry: Registry;
  /** The Prometheus text exposition of the registry (reads `stats()` once for the gauges). */
  text(): Promise<string>;
  /** The Content-Type of `text()`. */
  readonly contentType: string;
  /** Stops listening and reading stats. Counters keep their values. Idempotent. */
  close(): void;
}

const DEFAULT_WAIT_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600];
const DEFAULT_DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900];
const LOOP_BLOCK_BUCKETS = [0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 30];
/** Attempts whose end this process has not seen yet; bounded in case an end event never comes. */
const MAX_TRACKED_ATTEMPTS = 100_000;
const OTHER = '_other';

type PairLabels = { task: string; queue: string };
type Outcome = 'completed' | 'retried' | 'discarded' | 'snoozed' | 'cancelled' | 'released' | 'lease_lost';

/**
 * Creates the metrics of a client: subscribe now, read stats at every scrape.
 * @example
 * const metrics = createMetrics(offload)
 * app.get('/metrics', async (_req, reply) => reply.type(metrics.contentType).send(await metrics.text()))
 */
export function createMetrics(source: MetricsSource, options: MetricsOptions = {}): Metrics {
  const o = checkKeys(options, ['registry', 'maxLabelSets', 'waitBuckets', 'durationBuckets'], 'createMetrics()');
  if (typeof source?.on !== 'function' || typeof source.stats !== 'function') {
    throw new OffloadError('OFFLOAD_INVALID_OPTIONS', 'createMetrics(): expected an offload client (with on() and stats())');
  }
  const prom = promClient();
  const registry = (o['registry'] as Registry | undefined) ?? new prom.Registry();
  if (!(registry instanceof prom.Registry)) throw new OffloadError('OFFLOAD_INVALID_OPTIONS', 'createMetrics(): registry must be a prom-client Registry');
  const maxLabelSets = intOption(o['maxLabelSets'], 'createMetrics(): maxLabelSets', 1, 1_000_000, 1000);
  const waitBuckets = buckets(o['waitBuckets'], 'waitBuckets', DEFAULT_WAIT_BUCKETS);
  const durationBuckets = buckets(o['durationBuckets'], 'durationBuckets', DEFAULT_DURATION_BUCKETS);

  const taken = registry.getMetricsAsArray().find((m) => (m as unknown as { name: string }).name.startsWith('offload_'));
  if (taken !== undefined) {
    throw new OffloadError('OFFLOAD_INVALID_OPTIONS', `createMetrics(): this registry already has offload metrics (${(taken as unknown as { name: string }).name}); give each client its own registry, or add a default label`);
  }

  const counter = <L extends string>(name: string, help: string, labelNames: readonly L[]) => new prom.Counter<L>({ name, help, labelNames, registers: [registry] });
  const pair = ['task', 'queue'] as const;
  const c = {
    enqueued: counter('offload_jobs_enqueued_total', 'Jobs stored by this process (idempotent replays not counted).', pair),
    rejected: counter('offload_jobs_rejected_total', 'Enqueues refused before anything was stored, by reason (backlog: the queue is full).', [...pair, 'reason']),
    started: counter('offload_jobs_started_total', "Attempts started by this process's workers.", pair),
    completed: counter('offload_jobs_completed_total', 'Attempts that completed their job.', pair),
    failed: counter('offload_jobs_failed_total', 'Attempts that failed (threw or timed out); the job is retried or discarded.', pair),
    retried: counter('offload_jobs_retried_total', 'Failed attempts whose job will be retried after a backoff.', pair),
    discarded: counter('offload_jobs_discarded_total', 'Failed attempts that discarded their job (attempts used up, or not retryable).', pair),
    cancelled: counter('offload_jobs_cancelled_total', 'Attempts that ended their job cancelled (cancel() thrown, or a cancel request).', pair),
    snoozed: counter('offload_jobs_snoozed_total', 'Attempts that snoozed their job (attempt not charged).', pair),
    released: counter('offload_jobs_released_total', 'Attempts released at shutdown after the grace period (attempt not charged).', pair),
    leaseLost: counter('offload_jobs_lease_lost_total', 'Attempts whose lease was lost before their outcome was written.', pair),
    expired: counter('offload_jobs_expired_total', 'Waiting jobs cancelled by this process because their start deadline passed.', pair),
  };
  const pairCounters = Object.values(c).filter((x) => x !== c.rejected);
  const rescued = counter('offload_jobs_rescued_total', 'Jobs with an expired lease returned by this process, by what became of them.', ['outcome']);
  const pruned = counter('offload_jobs_pruned_total', 'Final jobs deleted by this process after their retention.', []);
  const errors = counter('offload_errors_total', 'Failures of background components (they keep running and retry).', ['component']);
  const overflow = counter('offload_metrics_label_overflow_total', `Events counted under task and queue "${OTHER}", and queues left out of the queue gauges, because maxLabelSets was reached.`, []);
  const overloads = counter('offload_event_loop_overloads_total', 'Times the event-loop delay p99 went over its threshold (claiming paused).', []);
  const wait = new prom.Histogram({
    name: 'offload_job_wait_seconds',
    help: 'Time from a job being due (enqueued, or its delay or backoff over) to the start of its attempt.',
    labelNames: pair,
    buckets: waitBuckets,
    registers: [registry],
  });
  const duration = new prom.Histogram({
    name: 'offload_job_duration_seconds',
    help: 'Run time of attempts in this process, from start to recorded outcome, by outcome.',
    labelNames: [...pair, 'outcome'],
    buckets: durationBuckets,
    registers: [registry],
  });
  const blocked = new prom.Histogram({
    name: 'offload_event_loop_blocked_seconds',
    help: 'Single stretches that held the event loop past the loop:blocked threshold.',
    buckets: LOOP_BLOCK_BUCKETS,
    registers: [registry],
  });
  for (const outcome of ['retried', 'discarded', 'cancelled']) rescued.labels({ outcome }).inc(0);
  pruned.inc(0);
  overflow.inc(0);
  overloads.inc(0);

  // Bounded (task, queue) pairs. A pair's counters start at 0 when it is first seen, so rate()
  // and increase() see its first event.
  const seen = new Set<string>();
  const labels = (task: string, queue: string): PairLabels => {
    const key = `${task}\u0000${queue}`;
    if (seen.has(key)) return { task, queue };
    if (seen.size >= maxLabelSets) {
      overflow.inc();
      if (!seen.has(OTHER)) initPair({ task: OTHER, queue: OTHER });
      seen.add(OTHER);
      return { task: OTHER, queue: OTHER };
    }
    seen.add(key);
    initPair({ task, queue });
    return { task, queue };
  };
  const initPair = (l: PairLabels) => {
    for (const m of pairCounters) m.labels(l).inc(0);
    c.rejected.labels({ ...l, reason: 'backlog' }).inc(0);
  };
  const of = (job: Pick<Job, 'task' | 'queue'>) => labels(job.task, job.queue);

  // Start times of attempts running in this process, to time every outcome the same way.
  const running = new Map<string, number>();
  const ended = (job: Job, outcome: Outcome) => {
    const key = attemptKey(job);
    const at = running.get(key);
    if (at === undefined) return;
    running.delete(key);
    duration.labels({ ...of(job), outcome }).observe((performance.now() - at) / 1000);
  };

  const offs: Array<() => void> = [
    source.on('job:enqueued', ({ job }) => c.enqueued.labels(of(job)).inc()),
    source.on('job:rejected', ({ task, queue, reason }) => c.rejected.labels({ ...labels(task, queue), reason }).inc()),
    source.on('job:started', ({ job }) => {
      c.started.labels(of(job)).inc();
      if (job.attemptedAt !== null) wait.labels(of(job)).observe(Math.max(0, job.attemptedAt.getTime() - job.runAt.getTime()) / 1000);
      if (running.size >= MAX_TRACKED_ATTEMPTS) running.delete(running.keys().next().value!);
      running.set(attemptKey(job), performance.now());
    }),
    source.on('job:completed', ({ job }) => {
      c.completed.labels(of(job)).inc();
      ended(job, 'completed');
    }),
    source.on('job:failed', ({ job, nextState }) => {
      c.failed.labels(of(job)).inc();
      (nextState === 'retryable' ? c.retried : c.discarded).labels(of(job)).inc();
      ended(job, nextState === 'retryable' ? 'retried' : 'discarded');
    }),
    source.on('job:cancelled', ({ job }) => {
      c.cancelled.labels(of(job)).inc();
      ended(job, 'cancelled');
    }),
    source.on('job:snoozed', ({ job }) => {
      c.snoozed.labels(of(job)).inc();
      ended(job, 'snoozed');
    }),
    source.on('job:released', ({ job }) => {
      c.released.labels(of(job)).inc();
      ended(job, 'released');
    }),
    source.on('job:lease-lost', ({ job }) => {
      c.leaseLost.labels(of(job)).inc();
      ended(job, 'lease_lost');
    }),
    source.on('job:expired', ({ job }) => c.expired.labels(of(job)).inc()),
    source.on('jobs:rescued', (r) => {
      if (r.retried.length > 0) rescued.labels({ outcome: 'retried' }).inc(r.retried.length);
      if (r.discarded.length > 0) rescued.labels({ outcome: 'discarded' }).inc(r.discarded.length);
      if (r.cancelled.length > 0) rescued.labels({ outcome: 'cancelled' }).inc(r.cancelled.length);
    }),
    source.on('jobs:pruned', ({ count }) => pruned.inc(count)),
    // Component names are a fixed set in the runtime ('producer', 'rescuer', 'listener of job:failed' ...).
    source.on('error', ({ component }) => errors.labels({ component }).inc()),
    source.on('loop:blocked', ({ durationMs }) => blocked.observe(durationMs / 1000)),
    source.on('loop:overloaded', () => overloads.inc()),
  ];

  // Queues of the store are bounded the same way (the rest are left out, and counted in overflow).
  const gauges = registerStatsGauges(registry, source, { maxQueues: maxLabelSets, overflow });
  let closed = false;
  return {
    registry,
    contentType: registry.contentType,
    text: () => registry.metrics(),
    close() {
      if (closed) return;
      closed = true;
      for (const off of offs) off();
      gauges.detach();
      running.clear();
    },
  };
}

/** Keyed by id and attempt: after a rescue, a job's old and new attempts can run here at once. */
function attemptKey(job: Job): string {
  return `${job.id}:${job.attempt}`;
}

function buckets(value: unknown, name: string, fallback: number[]): number[] {
  if (value === undefined) return fallback;
  if (!Array.isArray(value) || value.length === 0 || !value.every((b, i) => typeof b === 'number' && Number.isFinite(b) && b > 0 && (i === 0 || b > (value[i - 1] as number)))) {
    throw new OffloadError('OFFLOAD_INVALID_OPTIONS', `createMetrics(): ${name} must be a non-empty array of increasing positive seconds`);
  }
  return value as number[];
}
