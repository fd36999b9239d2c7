/**
 * Enqueue-to-handler-start latency at a steady 100 jobs/s: the time from just before `enqueue` is
 * called to the moment the handler starts, so it includes the enqueue's own round trip. Producer and
 * worker share one process (and one clock); a producer in another process would add a wake-up hop
 * for systems that notify in-process (offload's local wake-up, for one), so this is the best case
 * of each system's "same app enqueues and works" deployment, stated as such in the output.
 *
 * The producer is open-loop: job k is sent at t0 + k * 10 ms whether or not earlier enqueues have
 * returned, so a slow enqueue shows up as latency instead of lowering the rate. A warm-up period at
 * the same rate comes first and is not counted.
 */
import { Countdown } from '../countdown.ts';
import { LATENCY_CONCURRENCY, LATENCY_RATE_PER_S } from '../counts.ts';
import { mean, percentile } from '../percentile.ts';
import { sleep } from '../poll-until.ts';
import type { BenchClient } from '../systems/system.ts';
import { withState, type ScenarioContext } from './context.ts';

const DRAIN_TIMEOUT_MS = 30_000;

export async function latencyScenario(ctx: ScenarioContext): Promise<void> {
  const { counts } = ctx;
  const warmupJobs = Math.round((LATENCY_RATE_PER_S * counts.latencyWarmupMs) / 1000);
  const measuredJobs = Math.round((LATENCY_RATE_PER_S * counts.latencyMeasureMs) / 1000);

  await withState(ctx.system, async (client) => {
    const latencies: number[] = [];
    const started = new Countdown();
    const worker = await client.startWorker(LATENCY_CONCURRENCY, {
      onStart: (p) => {
        if (p.t !== undefined && p.i >= warmupJobs) latencies.push(performance.now() - p.t);
        started.add();
      },
      onDone: () => {},
    });
    try {
      await produceAtRate(client, 0, warmupJobs);
      if (!(await started.waitFor(warmupJobs, DRAIN_TIMEOUT_MS))) throw new Error('warm-up jobs did not all start');
      await produceAtRate(client, warmupJobs, measuredJobs);
      const all = await started.waitFor(warmupJobs + measuredJobs, DRAIN_TIMEOUT_MS);
      const note = `same process as the producer; open-loop ${LATENCY_RATE_PER_S}/s, worker concurrency ${LATENCY_CONCURRENCY}${all ? '' : `; only ${latencies.length} of ${measuredJobs} started within 30 s`}`;
      const detail = { mean: mean(latencies), p90: percentile(latencies, 90), max: percentile(latencies, 100), samples: latencies.length };
      ctx.record({ metric: 'latency.p50', value: percentile(latencies, 50), jobs: latencies.length, note, detail });
      ctx.record({ metric: 'latency.p99', value: percentile(latencies, 99), jobs: latencies.length, note, detail });
    } finally {
      await worker.stop();
    }
  });
}

/** Sends jobs first..first+count-1 at LATENCY_RATE_PER_S on a fixed schedule; resolves when all enqueues returned. */
async function produceAtRate(client: BenchClient, first: number, count: number): Promise<void> {
  const intervalMs = 1000 / LATENCY_RATE_PER_S;
  const t0 = performance.now();
  const pending: Array<Promise<void>> = [];
  // Caught as they happen: a rejection must not go unhandled while the loop is still sleeping.
  // The first one is rethrown as it came, once every enqueue has settled.
  const failures: unknown[] = [];
  for (let k = 0; k < count; k++) {
    const wait = t0 + k * intervalMs - performance.now();
    if (wait >= 1) await sleep(wait);
    pending.push(client.enqueue({ i: first + k, t: performance.now() }).catch((err: unknown) => void failures.push(err)));
  }
  await Promise.all(pending);
  if (failures.length > 0) throw failures[0];
}
