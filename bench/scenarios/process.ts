/**
 * Processing throughput: N no-op jobs are enqueued first (untimed), then workers start and the
 * clock runs from the first start call to the last completion. One process at concurrency 1, 10
 * and 50 (workers in this process), and two child processes at 50 each (their clients are open and
 * warmed before the clock starts, so process start-up is not measured).
 *
 * "Last completion" is the store's: for systems whose completion event follows the write (offload,
 * BullMQ) it is the last event; for the others (graphile-worker, pg-boss) the clock runs on until the
 * store shows no unfinished job. Every run starts with a warm-up of the same workers on the same
 * state, and ends with a check that the store holds no unfinished job.
 *
 * Caps, each stated in the output: a poll-bound system (pg-boss) gets only as many jobs as its
 * bound allows in `pollBoundSeconds`; any run still going after `processBudgetMs` is stopped and its
 * rate computed over the jobs it finished.
 */
import { now } from '../clock.ts';
import type { MetricId } from '../measurement.ts';
import { pollUntil } from '../poll-until.ts';
import { ChildWorkers, LocalWorkers, type WorkerGroup } from '../worker-group.ts';
import { fill, perSecond, withState, type ScenarioContext } from './context.ts';

const RUNS: ReadonlyArray<{ metric: MetricId; processes: number; concurrency: number }> = [
  { metric: 'process.1x1', processes: 1, concurrency: 1 },
  { metric: 'process.1x10', processes: 1, concurrency: 10 },
  { metric: 'process.1x50', processes: 1, concurrency: 50 },
  { metric: 'process.2x50', processes: 2, concurrency: 50 },
];

/** Long enough for any store to write a few thousand pending completions. */
const SETTLE_TIMEOUT_MS = 30_000;

export async function processScenario(ctx: ScenarioContext): Promise<void> {
  for (const run of RUNS) await processRun(ctx, run);
}

async function processRun(ctx: ScenarioContext, run: { metric: MetricId; processes: number; concurrency: number }): Promise<void> {
  const { system, counts } = ctx;
  const bound = system.pollBoundRate(run.concurrency);
  const jobs = bound === null ? counts.process : Math.min(counts.process, Math.ceil(bound * run.processes * counts.pollBoundSeconds));
  const notes: string[] = [];
  if (jobs < counts.process) notes.push(`capped at ${jobs} jobs: poll-bound at ~${bound} jobs/s per process`);

  await withState(system, async (client, state) => {
    const group: WorkerGroup = run.processes === 1 ? new LocalWorkers(client) : await ChildWorkers.spawn(system.name, state, run.processes);
    const settled = () => pollUntil(async () => (await client.unfinished()) === 0, SETTLE_TIMEOUT_MS);
    try {
      // A capped run warms up on a tenth of its jobs: at pg-boss's 2 jobs/s, 200 warm-up jobs would take longer than the run.
      const warmup = jobs < counts.process ? Math.ceil(jobs / 10) : counts.warmup;
      await fill(client, warmup);
      await group.start(run.concurrency);
      if (!(await group.done.waitFor(warmup, counts.processBudgetMs))) throw new Error(`warm-up of ${warmup} jobs did not finish`);
      await group.stop();
      if (!(await settled())) throw new Error('warm-up jobs were not all recorded as finished');

      await fill(client, jobs, warmup);
      const t0 = now();
      await group.start(run.concurrency);
      const finished = await group.done.waitFor(jobs, counts.processBudgetMs);
      let t1: number;
      let processed = jobs;
      if (!finished) {
        t1 = now();
        processed = group.done.count;
        notes.push(`time-capped: ${processed} of ${jobs} jobs in ${Math.round(counts.processBudgetMs / 1000)} s`);
      } else if (system.completion === 'handler') {
        if (!(await settled())) notes.push('completions not all written within 30 s of the last handler');
        t1 = now();
      } else {
        t1 = group.done.lastAt;
      }
      await group.stop();
      if (finished) {
        const left = await client.unfinished();
        if (left !== 0) notes.push(`store still shows ${left} unfinished jobs after the run`);
      }
      const elapsedMs = t1 - t0;
      ctx.record({
        metric: run.metric,
        value: perSecond(processed, elapsedMs),
        jobs: processed,
        elapsedMs,
        ...(notes.length > 0 ? { note: notes.join('; ') } : {}),
        // Start-up: from the start call to the first completion (connections, LISTEN, first claim).
        detail: { processes: run.processes, concurrency: run.concurrency, firstCompletionMs: group.done.firstAt - t0 },
      });
    } finally {
      await group.close();
    }
  });
}
