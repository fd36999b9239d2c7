/**
 * Event-loop delay of a worker process while it runs CPU jobs: the failure offload's thread tasks
 * exist to cure. The job is cpu-job.ts, calibrated once per run to ~100 ms, the same function in
 * every way measured:
 *
 * - off the main thread: offload's `kind: 'thread'` task on its default pool (one thread per
 *   core); BullMQ's sandboxed processor with `useWorkerThreads: true`;
 * - on the main thread: offload's task with `kind` left out.
 *
 * Each way gets fresh state holding more jobs than it can finish in the run, and a worker child
 * process of its own at concurrency 2 per core: every thread busy and as many jobs again waiting
 * for one. The child times itself (a message from the parent would wait behind a blocked loop):
 * after a warm-up (threads started, code warm) it reads its own main thread's event-loop delay
 * over a fixed window (loop-probe.ts) and counts the jobs finished within it. The store's count of
 * unfinished jobs right after the window shows the queue never ran dry.
 *
 * Reported per way: delay p50/p99/max (monitorEventLoopDelay, resolution subtracted) and jobs/s;
 * the 10 ms timer's lateness, utilisation and the system's own details (offload: pool occupancy,
 * loop-guard events) go in the JSON.
 */
import { availableParallelism } from 'node:os';
import { BULK_SIZE, LOOP_CONCURRENCY_PER_CORE } from '../counts.ts';
import type { CpuJobSpec } from '../cpu-job.ts';
import type { MetricId } from '../measurement.ts';
import type { BenchClient, JobKind } from '../systems/system.ts';
import { ChildWorkers } from '../worker-group.ts';
import type { LoopWindow } from '../worker-protocol.ts';
import { perSecond, withState, type ScenarioContext } from './context.ts';

interface Way {
  where: 'off' | 'on';
  job: JobKind;
  metrics: { p50: MetricId; p99: MetricId; max: MetricId; rate: MetricId };
}

const WAYS: readonly Way[] = [
  { where: 'off', job: 'cpu-off-loop', metrics: { p50: 'loop.off.p50', p99: 'loop.off.p99', max: 'loop.off.max', rate: 'loop.off.rate' } },
  { where: 'on', job: 'cpu-on-loop', metrics: { p50: 'loop.on.p50', p99: 'loop.on.p99', max: 'loop.on.max', rate: 'loop.on.rate' } },
];

export async function loopScenario(ctx: ScenarioContext): Promise<void> {
  const { system, counts, cpuJob } = ctx;
  const ways = system.loopWays;
  if (ways === undefined) throw new Error(`${system.name} runs the loop scenario but declares no loopWays`);
  if (cpuJob === null) throw new Error('the loop scenario needs the CPU job calibrated by the orchestrator');
  const cores = availableParallelism();
  const concurrency = cores * LOOP_CONCURRENCY_PER_CORE;
  // Twice what every core could finish in warm-up and window at the calibrated cost, plus a full
  // set in flight: the queue outlasts the run however the way schedules its threads.
  const jobs = concurrency + Math.ceil((2 * cores * (counts.loopWarmupMs + counts.loopWindowMs)) / cpuJob.ms);

  for (const way of WAYS) {
    const config = ways[way.where];
    if (config === undefined) continue;
    await withState(
      system,
      async (client, state) => {
        await fillCpu(client, jobs, cpuJob.rounds);
        const group = await ChildWorkers.spawn(system.name, state, 1, way.job);
        try {
          await group.start(concurrency);
          const [window] = await group.measureLoop(counts.loopWarmupMs, counts.loopWindowMs);
          if (window === undefined) throw new Error('the worker process sent no loop reading');
          const left = await client.unfinished();
          await group.stop();
          report(ctx, way, config, window, { cores, concurrency, left, cpuJob });
        } finally {
          await group.close();
        }
      },
      way.job,
    );
  }
}

async function fillCpu(client: BenchClient, total: number, rounds: number): Promise<void> {
  for (let k = 0; k < total; k += BULK_SIZE) {
    await client.enqueueBulk(Array.from({ length: Math.min(BULK_SIZE, total - k) }, (_, n) => ({ i: k + n, rounds })));
  }
}

function report(
  ctx: ScenarioContext,
  way: Way,
  config: string,
  window: LoopWindow,
  run: { cores: number; concurrency: number; left: number; cpuJob: CpuJobSpec },
): void {
  const { reading, completed, details } = window;
  const { histogram: h, timer: t } = reading;
  // Unfinished after the window counts the jobs in flight too: more than those means some still waited.
  const saturated = run.left > run.concurrency;
  const note =
    `${config}; concurrency ${run.concurrency} (${LOOP_CONCURRENCY_PER_CORE} per core, ${run.cores} cores); ` +
    `${(reading.elapsedMs / 1000).toFixed(1)} s window after ${ctx.counts.loopWarmupMs / 1000} s of warm-up` +
    (saturated ? '' : `; NOT saturated: only ${run.left} jobs unfinished at the window's end`);
  const detail = {
    histogramMeanMs: h.meanMs,
    histogramSamples: h.samples,
    timerP50Ms: t.p50Ms,
    timerP99Ms: t.p99Ms,
    timerMaxMs: t.maxMs,
    timerSamples: t.samples,
    utilization: reading.utilization,
    completed,
    concurrency: run.concurrency,
    cores: run.cores,
    unfinishedAfterWindow: run.left,
    saturated: saturated ? 1 : 0,
    jobRounds: run.cpuJob.rounds,
    jobCalibratedMs: run.cpuJob.ms,
    ...details,
  };
  const base = { jobs: completed, elapsedMs: reading.elapsedMs, note, detail };
  ctx.record({ metric: way.metrics.p50, value: h.p50Ms, ...base });
  ctx.record({ metric: way.metrics.p99, value: h.p99Ms, ...base });
  ctx.record({ metric: way.metrics.max, value: h.maxMs, ...base });
  ctx.record({ metric: way.metrics.rate, value: perSecond(completed, reading.elapsedMs), ...base });
  const extra = Object.entries(details).map(([k, v]) => `${k} ${v}`);
  ctx.log(
    `loop, jobs ${way.where} the main thread: 10 ms timer lateness p50 ${t.p50Ms.toFixed(2)} / p99 ${t.p99Ms.toFixed(2)} / max ${t.maxMs.toFixed(1)} ms; ` +
      `utilisation ${reading.utilization.toFixed(2)}; ${run.left} unfinished after the window${extra.length > 0 ? `; ${extra.join(', ')}` : ''}`,
  );
}
