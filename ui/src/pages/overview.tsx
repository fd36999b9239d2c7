/**
 * Overview: live charts of the last 15 minutes at 1 s, and the figures of now. Throughput and
 * latency are this server's workers' (events are per process); depth covers every process.
 */
import type { StatsSample } from '../../../src/http/dashboard/protocol.ts';
import { Chart, type ChartSeries } from '../components/chart.tsx';
import { EmptyState } from '../components/empty-state.tsx';
import { Notice } from '../components/notice.tsx';
import { count, ms, percent, rate } from '../format.ts';
import { href } from '../router.ts';
import { useStats } from '../stats.tsx';

const THROUGHPUT: ChartSeries[] = [
  { label: 'completed', color: '--c-completed', value: (s) => s.completed },
  { label: 'failed attempts', color: '--c-failed', value: (s) => s.failed },
  { label: 'rejected enqueues', color: '--c-rejected', value: (s) => s.rejected },
];
const DEPTH: ChartSeries[] = [
  { label: 'available', color: '--c-available', value: (s) => s.depth?.available ?? null },
  { label: 'scheduled', color: '--c-scheduled', value: (s) => s.depth?.scheduled ?? null },
  { label: 'retryable', color: '--c-retryable', value: (s) => s.depth?.retryable ?? null },
  { label: 'running', color: '--c-running', value: (s) => s.depth?.running ?? null },
];
const p = (pick: (s: StatsSample) => { p50: number; p95: number; p99: number } | null): ChartSeries[] => [
  { label: 'p50', color: '--c-p50', value: (s) => pick(s)?.p50 ?? null },
  { label: 'p95', color: '--c-p95', value: (s) => pick(s)?.p95 ?? null },
  { label: 'p99', color: '--c-p99', value: (s) => pick(s)?.p99 ?? null },
];
const WAIT = p((s) => s.waitMs);
const RUN = p((s) => s.runMs);
const LOOP: ChartSeries[] = [
  { label: 'p50', color: '--c-p50', value: (s) => s.loop.p50 },
  { label: 'p99', color: '--c-p99', value: (s) => s.loop.p99 },
  { label: 'max', color: '--c-max', value: (s) => s.loop.max },
];
const UTILISATION: ChartSeries[] = [
  { label: 'event loop', color: '--c-p50', value: (s) => s.loop.utilization * 100 },
  { label: 'worker slots', color: '--c-running', value: (s) => (s.workers === null || s.workers.concurrency === 0 ? null : (s.workers.running / s.workers.concurrency) * 100) },
  { label: 'threads', color: '--c-scheduled', value: (s) => (s.threads === null || s.threads.size === 0 ? null : (s.threads.busy / s.threads.size) * 100) },
];

const perSec = (v: number) => `${rate(v)}/s`;
const msAxis = (v: number) => (v > 0 && v < 10 && !Number.isInteger(v) ? `${v.toFixed(1)} ms` : ms(v));
const pct = (v: number) => `${Math.round(v)} %`;
const num = (v: number) => (Number.isInteger(v) ? count(v) : v.toFixed(1));

function sum(samples: readonly StatsSample[], pick: (s: StatsSample) => number): number {
  let n = 0;
  for (const s of samples) n += pick(s);
  return n;
}

function Tile({ id, label, value, hint }: { id: string; label: string; value: string; hint?: string | undefined }) {
  return (
    <div class="tile" id={id}>
      <div class="tile-label">{label}</div>
      <div class="tile-value">{value}</div>
      {hint === undefined ? null : <div class="tile-hint">{hint}</div>}
    </div>
  );
}

export function OverviewPage({ theme }: { theme: string }) {
  const { samples, current, status, intervalMs } = useStats();
  const minutes = Math.round((samples.length * intervalMs) / 60_000);
  const span = samples.length === 0 ? '' : minutes >= 1 ? `last ${minutes} min` : `last ${Math.round((samples.length * intervalMs) / 1000)} s`;
  const waiting = current?.queues.reduce((n, q) => n + q.waiting, 0) ?? null;
  const running = current?.queues.reduce((n, q) => n + q.counts.running, 0) ?? null;

  return (
    <>
      <h1>Overview</h1>
      {current !== null && current.storeError !== null ? <Notice kind="error">The job store does not answer: {current.storeError}. Depth and queues show the last figures read.</Notice> : null}
      {current !== null && current.workers === null ? (
        <Notice>
          This server runs no workers, so completed, failed, wait and run times stay at zero here: they count the jobs this process runs. Depth and the{' '}
          <a href={href('/queues')}>queues</a> cover every process.
        </Notice>
      ) : null}
      <section class="tiles" aria-label="Now">
        <Tile id="tile-completed" label={`Completed, ${span || '15 min'}`} value={count(sum(samples, (s) => s.completed))} />
        <Tile id="tile-failed" label={`Failed attempts, ${span || '15 min'}`} value={count(sum(samples, (s) => s.failed))} />
        <Tile id="tile-rejected" label={`Rejected enqueues, ${span || '15 min'}`} value={count(sum(samples, (s) => s.rejected))} />
        <Tile id="tile-waiting" label="Waiting now" value={count(waiting)} hint="all queues, all processes" />
        <Tile id="tile-running" label="Running now" value={count(running)} hint="all queues, all processes" />
        <Tile
          id="tile-loop"
          label="Event-loop delay p99"
          value={current === null ? '–' : ms(current.loop.delayP99Ms)}
          hint={current === null ? undefined : `${percent(current.loop.utilization)} busy${current.loop.overloaded ? ' · overloaded: claiming holds' : ''}`}
        />
      </section>
      {samples.length === 0 ? (
        <EmptyState title={status === 'connecting' ? 'Connecting to the stats stream…' : 'No samples yet'}>
          <p>The server samples once a second and keeps 15 minutes. The first sample arrives within a second of the server starting; charts fill in from there.</p>
        </EmptyState>
      ) : (
        <section class="charts" aria-label="Charts">
          <Chart id="chart-throughput" title="Throughput, per second (this server's workers)" format={perSec} samples={samples} series={THROUGHPUT} theme={theme} />
          <Chart id="chart-depth" title="Depth by state (all processes)" format={num} samples={samples} series={DEPTH} theme={theme} />
          <Chart id="chart-wait" title="Wait time: due to start" format={msAxis} samples={samples} series={WAIT} theme={theme} />
          <Chart id="chart-run" title="Run time of completed attempts" format={msAxis} samples={samples} series={RUN} theme={theme} />
          <Chart id="chart-loop" title="Event-loop delay" format={msAxis} samples={samples} series={LOOP} theme={theme} minMax={10} />
          <Chart id="chart-utilisation" title="Utilisation" format={pct} samples={samples} series={UTILISATION} theme={theme} minMax={100} />
        </section>
      )}
    </>
  );
}
