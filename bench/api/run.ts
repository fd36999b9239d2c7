/**
 * `npm run bench:api`: the seed experiment. An API whose request handler does ~100 ms of CPU work
 * (bcrypt + SHA-256) against `offload serve` doing the same work as a thread task, each under
 * 100 autocannon connections for 12 s of POSTs, while a monitoring client asks GET /healthz on
 * one open connection. Reported: health and POST latency, status counts (202, 429, 503), the
 * backlog over time, enqueue -> done times; written to bench/results/api-latest.json and
 * bench/results/api-latest.png. Loopback only; every child process is stopped at the end.
 *
 *   npm run bench:api -- [--duration=12] [--connections=100] [--max-backlog=100] [--threads=1]
 *                        [--work-ms=100] [--store=sqlite|postgres] [--only=inline,offload]
 *
 * autocannon runs in its own process, so its CPU use does not delay the probes' clocks. On a
 * 2-core machine the server, its CPU thread and autocannon still share the cores: the figures
 * are what this machine can do, not a ceiling.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, setPriority, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import postgresjs from 'postgres';
import { percentile } from '../percentile.ts';
import { renderChart, type Panel } from './chart.ts';
import { startServer, type ServerChild } from './child.ts';
import { calibrate, type CpuWork } from './cpu-work.ts';
import { startProbe, type Sample } from './probe.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const PG_URL = process.env['BENCH_PG_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test';
/** Niceness of the autocannon process (0 normal, 19 lowest). */
const LOAD_NICENESS = 10;

const { values } = parseArgs({
  options: {
    duration: { type: 'string', default: '12' },
    connections: { type: 'string', default: '100' },
    'max-backlog': { type: 'string', default: '100' },
    threads: { type: 'string', default: '1' },
    'work-ms': { type: 'string', default: '100' },
    store: { type: 'string', default: 'sqlite' },
    only: { type: 'string', default: 'inline,offload' },
  },
  strict: true,
});
const int = (name: string, v: string, min: number, max: number) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max) throw new Error(`--${name} must be an integer from ${min} to ${max}`);
  return n;
};
const cfg = {
  durationS: int('duration', values.duration, 1, 600),
  connections: int('connections', values.connections, 1, 10_000),
  maxBacklog: int('max-backlog', values['max-backlog'], 1, 1_000_000),
  threads: int('threads', values.threads, 1, 64),
  workMs: int('work-ms', values['work-ms'], 1, 10_000),
  store: values.store,
  only: values.only.split(','),
};
if (cfg.store !== 'sqlite' && cfg.store !== 'postgres') throw new Error('--store must be sqlite or postgres');
for (const s of cfg.only) if (s !== 'inline' && s !== 'offload') throw new Error(`--only: unknown side '${s}' (inline, offload)`);
if (!/^postgres:\/\/[^@]*@(127\.0\.0\.1|localhost|\[::1\])[:/]/.test(PG_URL)) throw new Error('BENCH_PG_URL must point at loopback');

interface LoadResult {
  latency: { p50: number; p99: number; max: number };
  requests: { total: number };
  errors: number;
  timeouts: number;
  statusCodeStats?: Record<string, { count: number }>;
}

/** autocannon in a child process; resolves with its JSON result. */
function load(url: string, body: string, onStart: () => void): Promise<LoadResult> {
  const args = [
    join(ROOT, 'node_modules/autocannon/autocannon.js'),
    '-c', String(cfg.connections),
    '-d', String(cfg.durationS),
    '-m', 'POST',
    '-H', 'content-type=application/json',
    '-b', body,
    // A request of the inline server waits behind a queue of CPU work: give it time to answer.
    '-t', '60',
    '-j',
    url,
  ];
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    // The load generator stands in for clients on other machines: on a shared 2-core box it must
    // not take the CPU the server under test needs. Same niceness for both sides.
    if (child.pid !== undefined) setPriority(child.pid, LOAD_NICENESS);
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => {
      // autocannon says "Running 12s test @ ..." when its connections start sending.
      if (!err.includes('Running') && (err + d.toString()).includes('Running')) onStart();
      err += d.toString();
    });
    child.on('exit', (code) => {
      try {
        resolve(JSON.parse(out) as LoadResult);
      } catch {
        reject(new Error(`autocannon exited ${code}: ${err}`));
      }
    });
  });
}

interface Summary {
  samples: number;
  p50: number;
  p99: number;
  max: number;
  /** Requests still unanswered at the end: their time is a lower bound. */
  unanswered: number;
}

function summarize(samples: readonly Sample[]): Summary {
  const ms = samples.map((s) => s.ms);
  return { samples: ms.length, p50: percentile(ms, 50), p99: percentile(ms, 99), max: Math.max(...ms, 0), unanswered: samples.filter((s) => s.status === 0).length };
}

interface SideResult {
  health: Summary;
  healthSeries: Array<[number, number]>;
  post: { p50: number; p99: number; max: number; total: number; byStatus: Record<string, number>; errors: number; timeouts: number };
  backlogSeries: Array<[number, number]>;
  runningSeries: Array<[number, number]>;
  enqueueToDone: { jobs: number; p50: number; p99: number; max: number } | null;
  /** When the load ran: from 0 (every series is in seconds since the load started). */
  loadWindowS: [number, number];
  drainS: number | null;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface QueueView {
  name: string;
  waiting: number;
  counts: Record<string, number>;
}

async function bench(side: 'inline' | 'offload', work: CpuWork, storeSpec: string): Promise<SideResult> {
  const server: ServerChild =
    side === 'inline'
      ? await startServer(['bench/api/inline-server.ts'], { cwd: ROOT, readyTimeoutMs: 30_000 })
      : await startServer(
          [
            'src/cli/main.ts', 'serve',
            '--tasks', 'bench/api/cpu-tasks.ts',
            '--store', storeSpec,
            '--port', '0',
            '--max-backlog', String(cfg.maxBacklog),
            '--threads', String(cfg.threads),
            // Two jobs per thread: one runs while the next waits at the thread, so it never idles.
            '--concurrency', String(cfg.threads * 2),
            '--no-request-log',
            '--log-level', 'info',
          ],
          { cwd: ROOT, env: { OFFLOAD_API_TOKENS: '' }, readyTimeoutMs: 30_000 },
        );
  try {
    const payload = { ...work, input: 'correct horse battery staple' };
    const body = side === 'inline' ? JSON.stringify(payload) : JSON.stringify({ task: 'bench.cpu', payload });
    // Warm-up outside the clock: one request each way, so JIT and first-use costs are not measured.
    await fetch(`${server.url}/healthz`);
    let warmUpId: string | null = null;
    if (side === 'offload') {
      const r = await fetch(`${server.url}/v1/jobs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
      warmUpId = ((await r.json()) as { id: string }).id;
      await fetch(`${server.url}/v1/jobs/${warmUpId}/result?wait=30s`);
    } else await fetch(`${server.url}/work`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });

    const t0 = performance.now();
    const health = startProbe(`${server.url}/healthz`, { pauseMs: 50, t0 });
    const queues = side === 'offload' ? startProbe(`${server.url}/v1/queues`, { pauseMs: 200, t0 }) : null;
    process.stdout.write(`  ${side}: ${cfg.connections} connections for ${cfg.durationS} s ...\n`);
    let loadStartS = 0;
    const result = await load(side === 'inline' ? `${server.url}/work` : `${server.url}/v1/jobs`, body, () => (loadStartS = (performance.now() - t0) / 1000));
    const loadEndS = (performance.now() - t0) / 1000;

    let drainS: number | null = null;
    let enqueueToDone: SideResult['enqueueToDone'] = null;
    if (side === 'offload') {
      // Let the accepted backlog drain (bounded), then read every job's enqueue -> done time.
      const deadline = performance.now() + 120_000;
      for (;;) {
        const res = await fetch(`${server.url}/v1/queues`);
        // A 503 (the server shedding while it recovers) is an answer to wait on, like a full queue.
        const q = res.ok ? ((await res.json()) as { queues: QueueView[] }).queues.find((x) => x.name === 'bench') : null;
        if (q === undefined || (q !== null && q.waiting + (q.counts['running'] ?? 0) === 0)) break;
        if (performance.now() > deadline) break;
        await sleep(200);
      }
      drainS = (performance.now() - t0) / 1000 - loadEndS;
      const times: number[] = [];
      let cursor: string | null = null;
      do {
        const page = (await (await fetch(`${server.url}/v1/jobs?task=bench.cpu&state=completed&limit=1000${cursor === null ? '' : `&cursor=${cursor}`}`)).json()) as {
          jobs: Array<{ id: string; createdAt: string; finishedAt: string }>;
          nextCursor: string | null;
        };
        // The warm-up job is not part of the run.
        for (const j of page.jobs) if (j.id !== warmUpId) times.push(Date.parse(j.finishedAt) - Date.parse(j.createdAt));
        cursor = page.nextCursor;
      } while (cursor !== null);
      enqueueToDone = { jobs: times.length, p50: percentile(times, 50), p99: percentile(times, 99), max: Math.max(...times, 0) };
    }
    const healthSamples = await health.stop(side === 'inline' ? 60_000 : 5_000);
    const queueSamples = (await queues?.stop(5_000)) ?? [];
    // Every series on one clock: seconds since the load started (both sides plot on one axis).
    const since = (atS: number) => atS - loadStartS;
    const series = (pick: (q: QueueView) => number) =>
      queueSamples.flatMap((s): Array<[number, number]> => {
        if (s.status !== 200 || since(s.atS) < 0) return [];
        const q = (JSON.parse(s.body) as { queues: QueueView[] }).queues.find((x) => x.name === 'bench');
        return [[since(s.atS), q === undefined ? 0 : pick(q)]];
      });
    const byStatus = Object.fromEntries(Object.entries(result.statusCodeStats ?? {}).map(([k, v]) => [k, v.count]));
    return {
      // Latency while the load ran, not of the quiet seconds around it.
      health: summarize(healthSamples.filter((s) => since(s.atS) >= 0 && s.atS <= loadEndS)),
      healthSeries: healthSamples.filter((s) => since(s.atS) >= 0).map((s) => [since(s.atS), s.ms]),
      post: { p50: result.latency.p50, p99: result.latency.p99, max: result.latency.max, total: result.requests.total, byStatus, errors: result.errors, timeouts: result.timeouts },
      backlogSeries: series((q) => q.waiting),
      runningSeries: series((q) => q.counts['running'] ?? 0),
      enqueueToDone,
      drainS,
      loadWindowS: [0, loadEndS - loadStartS],
    };
  } finally {
    const code = await server.stop(10_000);
    if (code !== 0 && side === 'offload') process.stdout.write(`  (offload serve exited ${code}: ${server.output().slice(-500)})\n`);
  }
}

const fmtMs = (v: number) => (Number.isNaN(v) ? '-' : v >= 1000 ? `${(v / 1000).toFixed(2)} s` : `${v.toFixed(1)} ms`);

async function main(): Promise<void> {
  process.stdout.write(`bench:api on ${cpus().length} x ${cpus()[0]?.model ?? '?'}, node ${process.version}\n`);
  const { work, measuredMs } = calibrate(cfg.workMs);
  process.stdout.write(`  CPU work: bcrypt cost ${work.bcryptRounds} + ${work.shaIterations} SHA-256 = ${measuredMs.toFixed(1)} ms here\n`);

  const dir = mkdtempSync(join(tmpdir(), 'offload-bench-api-'));
  const schema = `bench_api_${process.pid}`;
  const storeSpec = cfg.store === 'sqlite' ? `sqlite:${join(dir, 'offload.db')}` : `${PG_URL}?schema=${schema}`;
  const results: Partial<Record<'inline' | 'offload', SideResult>> = {};
  try {
    for (const side of cfg.only as Array<'inline' | 'offload'>) results[side] = await bench(side, work, storeSpec);
  } finally {
    rmSync(dir, { recursive: true, force: true });
    if (cfg.store === 'postgres') {
      const sql = postgresjs(PG_URL, { max: 1, onnotice: () => {} });
      await sql.unsafe(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await sql.end();
    }
  }

  process.stdout.write('\n');
  const rows: string[][] = [['', 'GET /healthz p50', 'p99', 'max', 'POST p50', 'p99', 'POST 2xx', '429', '503', 'enqueue->done p50', 'p99']];
  for (const [side, r] of Object.entries(results)) {
    const ok = Object.entries(r.post.byStatus).filter(([k]) => k.startsWith('2')).reduce((n, [, v]) => n + v, 0);
    rows.push([
      side,
      fmtMs(r.health.p50),
      `${r.health.unanswered > 0 ? '>=' : ''}${fmtMs(r.health.p99)}`,
      fmtMs(r.health.max),
      fmtMs(r.post.p50),
      fmtMs(r.post.p99),
      String(ok),
      String(r.post.byStatus['429'] ?? 0),
      String(r.post.byStatus['503'] ?? 0),
      r.enqueueToDone === null ? 'n/a (in request)' : fmtMs(r.enqueueToDone.p50),
      r.enqueueToDone === null ? '' : fmtMs(r.enqueueToDone.p99),
    ]);
  }
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((row) => row[i]!.length)));
  for (const row of rows) process.stdout.write(`${row.map((c, i) => c.padEnd(widths[i]!)).join('  ')}\n`);
  const off = results.offload;
  if (off !== undefined) {
    const backlog = off.backlogSeries.map(([, v]) => v);
    process.stdout.write(
      `\noffload backlog: max ${Math.max(...backlog, 0)} (maxBacklog ${cfg.maxBacklog}); ${off.enqueueToDone?.jobs ?? 0} jobs done; drained ${off.drainS?.toFixed(1)} s after the load\n`,
    );
  }
  for (const [side, r] of Object.entries(results)) {
    process.stdout.write(`${side}: ${r.health.samples} health samples${r.health.unanswered > 0 ? ` (${r.health.unanswered} unanswered at the end)` : ''}, ${r.post.total} POSTs, ${r.post.errors} errors, ${r.post.timeouts} timeouts\n`);
  }

  mkdirSync(join(ROOT, 'bench/results'), { recursive: true });
  const json = join(ROOT, 'bench/results/api-latest.json');
  writeFileSync(json, `${JSON.stringify({ config: cfg, work, workMs: measuredMs, machine: { cpus: cpus().length, model: cpus()[0]?.model, node: process.version }, results }, null, 2)}\n`);
  const xMax = Math.ceil(Math.max(...Object.values(results).flatMap((r) => [...r.healthSeries, ...r.backlogSeries].map(([x]) => x)), cfg.durationS) / 5) * 5;
  const panels: Panel[] = [
    {
      title: 'GET /HEALTHZ LATENCY DURING THE LOAD (ONE OPEN CONNECTION)',
      yLabel: 'MS (LOG)',
      xLabel: 'SECONDS SINCE THE LOAD STARTED',
      log: true,
      xMax,
      series: [
        ...(results.inline === undefined ? [] : [{ label: 'INLINE CPU IN HANDLER', color: [200, 40, 40] as const, points: results.inline.healthSeries, style: 'dots' as const }]),
        ...(results.offload === undefined ? [] : [{ label: 'OFFLOAD SERVE', color: [30, 90, 200] as const, points: results.offload.healthSeries, style: 'dots' as const }]),
      ],
      rules: [{ y: 50, label: 'TARGET 50 MS', color: [40, 150, 60] }],
      bands: Object.values(results).slice(0, 1).map((r) => ({ from: r.loadWindowS[0], to: r.loadWindowS[1], label: 'LOAD', color: [240, 240, 250] as const })),
    },
  ];
  if (off !== undefined) {
    panels.push({
      title: 'OFFLOAD BACKLOG (WAITING JOBS) AND RUNNING JOBS',
      yLabel: 'JOBS',
      xLabel: 'SECONDS SINCE THE LOAD STARTED',
      xMax,
      series: [
        { label: 'WAITING', color: [30, 90, 200], points: off.backlogSeries, style: 'steps' },
        { label: 'RUNNING', color: [230, 140, 20], points: off.runningSeries, style: 'steps' },
      ],
      rules: [{ y: cfg.maxBacklog, label: `MAXBACKLOG ${cfg.maxBacklog}`, color: [200, 40, 40] }],
      bands: [{ from: off.loadWindowS[0], to: off.loadWindowS[1], label: 'LOAD', color: [240, 240, 250] }],
    });
  }
  const png = join(ROOT, 'bench/results/api-latest.png');
  const footer = `${cfg.connections} CONNECTIONS, ${cfg.durationS} S, ${measuredMs.toFixed(0)} MS CPU JOBS, ${cpus().length} CORES, ${cfg.store.toUpperCase()}`;
  writeFileSync(png, renderChart(panels, { width: 960, panelHeight: 320, footer }));
  process.stdout.write(`\nwrote ${json}\nwrote ${png}\n`);
}

await main();
