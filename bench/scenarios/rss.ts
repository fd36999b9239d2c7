/**
 * Worker memory: the resident set size of a worker process while it processes at concurrency 100.
 * The worker is a child process of its own that loads only the system it runs, as plain node on
 * JavaScript (plain-worker.ts: the harness bundled, no TypeScript loader, as users run a worker),
 * so the figure is that system's client plus Node and the small harness (offload's SQLite store
 * thread is part of the process and so is counted). The database server's memory is not. From
 * source (OFFLOAD_BENCH_FROM_SOURCE=1) the child runs under tsx, whose loader adds ~40 MB.
 *
 * A queue of jobs is waiting when the worker starts; RSS is sampled every 50 ms until the queue is
 * drained or the window closes, whichever is first. Reported: the peak, with the median and the RSS
 * before the worker started (client open, idle) alongside.
 */
import { RSS_CONCURRENCY, RSS_SAMPLE_MS } from '../counts.ts';
import { plainWorkerEntry } from '../plain-worker.ts';
import { ChildWorkers } from '../worker-group.ts';
import { fill, withState, type ScenarioContext } from './context.ts';

const MB = 1024 * 1024;

export async function rssScenario(ctx: ScenarioContext): Promise<void> {
  const { system, counts } = ctx;
  const bound = system.pollBoundRate(RSS_CONCURRENCY);
  // A poll-bound system gets a queue it can work through in about the window, not one it never drains.
  const jobs = bound === null ? counts.rssJobs : Math.min(counts.rssJobs, Math.ceil((bound * counts.rssWindowMs) / 1000));

  await withState(system, async (client, state) => {
    await fill(client, jobs);
    const group = await ChildWorkers.spawn(system.name, state, 1, 'noop', await plainWorkerEntry());
    try {
      await group.start(RSS_CONCURRENCY, RSS_SAMPLE_MS);
      const drained = await group.done.waitFor(jobs, counts.rssWindowMs);
      await group.stop();
      const rss = group.rss[0];
      if (rss === undefined) throw new Error('the worker process sent no RSS samples');
      const processed = group.done.count;
      const sampled = `${processed} jobs processed while sampling${drained ? ' (queue drained)' : ` in the ${counts.rssWindowMs / 1000} s window`}`;
      const note = system.rssNote === undefined ? sampled : `${sampled}; ${system.rssNote}`;
      const detail = { medianMB: rss.medianBytes / MB, idleMB: rss.idleBytes / MB, samples: rss.samples };
      ctx.record({ metric: 'rss.peak', value: rss.peakBytes / MB, jobs: processed, note, detail });
      ctx.record({ metric: 'rss.idle', value: rss.idleBytes / MB, jobs: 0, ...(system.rssNote === undefined ? {} : { note: system.rssNote }) });
    } finally {
      await group.close();
    }
  });
}
