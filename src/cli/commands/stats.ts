/**
 * `offload stats`: depth, throughput and latency of every queue, and the event-loop delay of a
 * running server, as a live view that refreshes in place on a terminal.
 *
 * Where each figure comes from:
 *   depth       the store's counts by queue and state (every process's jobs)
 *   throughput  jobs reaching a final state per second over the last 10 s (the store's drain rate)
 *   latency     the last 200 completed jobs: wait (due to started) and run time (started to
 *               finished), p50 and p95
 *   loop delay  of the process serving `--url` (its /readyz); this command's own loop says nothing
 *               about the workers, so without --url it is not shown
 *
 * Modes: on a terminal (or with --watch) a frame every --interval-ms, drawn over the previous one,
 * until Ctrl-C or --count frames; otherwise one frame and exit. --json prints the snapshot as
 * JSON (one line per frame with --watch). A failure to read the store on the first frame exits 1;
 * later ones are shown in the frame and retried.
 */
import { Command } from 'commander';
import type { Job, Offload, QueueStats } from '../../index.ts';
import type { CliIo } from '../io.ts';
import { intArg } from '../options.ts';
import { UsageError } from '../usage-error.ts';
import { connect, STORE_OPTION_HELP, storeSpecOf, unreachable, type StoreFlags } from './connect.ts';
import { EXIT, EXIT_CODES_HELP, runCommand } from './exit-codes.ts';
import { queuesText } from './queues.ts';
import { duration, table } from './table.ts';

const RECENT = 200;
/** How long a /readyz read may take before the frame shows the server as not answering. */
const URL_TIMEOUT_MS = 2000;

interface StatsFlags extends StoreFlags {
  json?: boolean;
  watch?: boolean;
  intervalMs: number;
  count?: number;
  url?: string;
}

export interface Percentiles {
  p50: number | null;
  p95: number | null;
}

export interface StatsSnapshot {
  at: string;
  queues: QueueStats[];
  /** Sum of the queues' drain rates. */
  finishedPerSec: number;
  recent: { completed: number; waitMs: Percentiles; runMs: Percentiles };
  /** Event loop of the process at --url, null without --url. */
  loop: { url: string; delayP99Ms: number; utilization: number; overloaded: boolean } | { url: string; error: string } | null;
}

export function statsCommand(io: CliIo, finish: (code: number) => void): Command {
  return new Command('stats')
    .description('live view of depth, throughput and latency per queue (and loop delay with --url)')
    .option('--store <spec>', STORE_OPTION_HELP)
    .option('--json', 'print the snapshot as JSON (one line per frame with --watch)')
    .option('--watch', 'keep refreshing even when the output is not a terminal')
    .option('--interval-ms <ms>', 'time between frames', intArg(100, 3_600_000), 1000)
    .option('--count <n>', 'stop after this many frames', intArg(1, 1_000_000))
    .option('--url <url>', 'a running `offload serve` or `offload dev`, for its event-loop delay')
    .addHelpText('after', EXIT_CODES_HELP)
    .action((flags: StatsFlags) => runCommand(io, finish, () => stats(flags, io)));
}

async function stats(flags: StatsFlags, io: CliIo): Promise<number> {
  if (flags.url !== undefined && !/^https?:\/\/[^/]+/.test(flags.url)) throw new UsageError(`--url must be an http(s) URL, got '${flags.url}'`);
  const live = flags.watch === true || (flags.json !== true && (io.stdout as { isTTY?: boolean }).isTTY === true);
  const frames = flags.count ?? (live ? Number.POSITIVE_INFINITY : 1);
  const { offload } = await connect(flags, io);
  // Set by the stop signal, which also cuts the pause between frames short.
  const stop = { requested: false, wake: null as (() => void) | null };
  const off = io.onStopSignal(() => {
    stop.requested = true;
    stop.wake?.();
  });
  let drawn = 0;
  try {
    for (let frame = 0; frame < frames && !stop.requested; frame++) {
      let text: string;
      try {
        const snap = await snapshot(offload, flags.url, () => io.now());
        text = flags.json ? `${JSON.stringify(snap, null, live ? 0 : 2)}\n` : frameText(snap);
      } catch (err) {
        if (frame === 0) throw unreachable(storeSpecOf(flags, io), err);
        text = flags.json ? `${JSON.stringify({ at: new Date(io.now()).toISOString(), error: (err as Error).message })}\n` : `${new Date(io.now()).toISOString()}  the store failed: ${(err as Error).message}\n`;
      }
      // Redraw in place: up over the previous frame, clear to the end of the screen.
      if (live && !flags.json && drawn > 0) io.stdout.write(`\x1b[${drawn}F\x1b[J`);
      io.stdout.write(text);
      drawn = text.split('\n').length - 1;
      if (frame + 1 < frames && !stop.requested) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, flags.intervalMs);
          stop.wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        stop.wake = null;
      }
    }
    return EXIT.ok;
  } finally {
    off();
    await offload.close();
  }
}

export async function snapshot(offload: Offload, url: string | undefined, now: () => number): Promise<StatsSnapshot> {
  const [queues, page, loop] = await Promise.all([offload.queues.list(), offload.jobs.list({ state: 'completed', limit: RECENT }), url === undefined ? null : loopOf(url)]);
  return {
    at: new Date(now()).toISOString(),
    queues,
    finishedPerSec: queues.reduce((n, q) => n + q.drainPerSec, 0),
    recent: latency(page.jobs),
    loop,
  };
}

function latency(jobs: readonly Job[]): StatsSnapshot['recent'] {
  const waits: number[] = [];
  const runs: number[] = [];
  for (const j of jobs) {
    if (j.attemptedAt === null) continue;
    waits.push(Math.max(0, j.attemptedAt.getTime() - j.runAt.getTime()));
    if (j.finishedAt !== null) runs.push(Math.max(0, j.finishedAt.getTime() - j.attemptedAt.getTime()));
  }
  return { completed: jobs.length, waitMs: percentiles(waits), runMs: percentiles(runs) };
}

/** Nearest-rank percentiles. */
export function percentiles(values: number[]): Percentiles {
  if (values.length === 0) return { p50: null, p95: null };
  const sorted = values.toSorted((a, b) => a - b);
  const at = (p: number) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
  return { p50: at(50), p95: at(95) };
}

async function loopOf(url: string): Promise<NonNullable<StatsSnapshot['loop']>> {
  const base = url.replace(/\/+$/, '');
  try {
    const res = await fetch(`${base}/readyz`, { signal: AbortSignal.timeout(URL_TIMEOUT_MS) });
    // 503 (not ready) still describes the loop: that is when it matters most.
    const body = (await res.json()) as { checks?: { loop?: { delayP99Ms?: unknown; utilization?: unknown; overloaded?: unknown } } };
    const l = body.checks?.loop;
    if (typeof l?.delayP99Ms !== 'number') return { url: base, error: `no loop figures in ${base}/readyz (HTTP ${res.status})` };
    return { url: base, delayP99Ms: l.delayP99Ms, utilization: typeof l.utilization === 'number' ? l.utilization : 0, overloaded: l.overloaded === true };
  } catch (err) {
    return { url: base, error: `${base}/readyz: ${(err as Error).message}` };
  }
}

export function frameText(s: StatsSnapshot): string {
  const r = s.recent;
  const lat = table(
    ['LAST COMPLETED', 'WAIT P50', 'WAIT P95', 'RUN P50', 'RUN P95'],
    [[String(r.completed), duration(r.waitMs.p50), duration(r.waitMs.p95), duration(r.runMs.p50), duration(r.runMs.p95)]],
    new Set([0, 1, 2, 3, 4]),
  );
  const loop =
    s.loop === null
      ? 'loop delay: add --url of a running server to see it'
      : 'error' in s.loop
        ? `loop delay: ${s.loop.error}`
        : `loop delay p99 ${duration(s.loop.delayP99Ms)}, utilisation ${(s.loop.utilization * 100).toFixed(0)}%${s.loop.overloaded ? ', OVERLOADED (not claiming)' : ''} (${s.loop.url})`;
  return `offload stats  ${s.at}  throughput ${s.finishedPerSec.toFixed(1)} jobs/s\n\n${queuesText(s.queues)}\n${lat}\n${loop}\n`;
}
