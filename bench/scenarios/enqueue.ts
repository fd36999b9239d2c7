/**
 * Enqueue throughput, three ways an app enqueues: one job at a time (each awaited before the next),
 * 50 in flight (50 producers, each awaiting its own: a busy web server), and bulk calls of 1000
 * (enqueueMany / addBulk / addJobs / insert), one call after the other.
 *
 * Each way runs on fresh state, after a warm-up of the same kind on the same client (connections
 * open, migrations done, code warm). Only the timed part is counted.
 */
import { now } from '../clock.ts';
import { BULK_SIZE, IN_FLIGHT } from '../counts.ts';
import { runInFlight } from '../in-flight.ts';
import type { MetricId } from '../measurement.ts';
import type { BenchClient } from '../systems/system.ts';
import { payloads, perSecond, withState, type ScenarioContext } from './context.ts';

type Way = (client: BenchClient, first: number, jobs: number) => Promise<void>;

const oneAtATime: Way = async (client, first, jobs) => {
  for (let k = 0; k < jobs; k++) await client.enqueue({ i: first + k });
};

const inFlight: Way = (client, first, jobs) => runInFlight(jobs, IN_FLIGHT, (k) => client.enqueue({ i: first + k }));

const bulk: Way = async (client, first, jobs) => {
  for (let k = 0; k < jobs; k += BULK_SIZE) await client.enqueueBulk(payloads(first + k, Math.min(BULK_SIZE, jobs - k)));
};

export async function enqueueScenario(ctx: ScenarioContext): Promise<void> {
  const { counts } = ctx;
  // One at a time runs at a few hundred jobs/s in some systems: a fifth of the warm-up is plenty there.
  await measure(ctx, 'enqueue.one', oneAtATime, counts.enqueueOne, Math.ceil(counts.warmup / 5));
  await measure(ctx, 'enqueue.inflight50', inFlight, counts.enqueueInFlight, counts.warmup);
  // The bulk warm-up is one full batch: a smaller one would not warm the path a batch of 1000 takes.
  await measure(ctx, 'enqueue.bulk1000', bulk, counts.bulkBatches * BULK_SIZE, BULK_SIZE);
}

async function measure(ctx: ScenarioContext, metric: MetricId, way: Way, jobs: number, warmup: number): Promise<void> {
  await withState(ctx.system, async (client) => {
    await way(client, 0, warmup);
    const t0 = now();
    await way(client, warmup, jobs);
    const elapsedMs = now() - t0;
    ctx.record({ metric, value: perSecond(jobs, elapsedMs), jobs, elapsedMs });
  });
}
