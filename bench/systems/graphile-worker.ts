/**
 * graphile-worker on PostgreSQL, in the configuration of its performance page
 * (worker.graphile.org/docs/performance): `localQueue: { size: 500 }` (jobs are fetched and locked
 * 500 at a time), `completeJobBatchDelay: 0` and `failJobBatchDelay: 0` (completions of one tick are
 * written together), a pool of concurrency + 1 connections (at least the default 10, at most 25 so
 * two processes stay under max_connections), `useNodeTime`, and `addJobs` for batches. A no-op
 * logger replaces the console one: per-job success lines would otherwise be measured too.
 *
 * Completion: with batched completion `completeJob` is not awaited by the worker, so jobs count as
 * done when the task returns (`job:success`) and the scenario waits for the jobs table to empty.
 * graphile-worker deletes a job when it completes, which is why "unfinished" is the row count.
 */
import { Logger, makeWorkerUtils, run, runMigrations } from 'graphile-worker';
import { PG_URL } from '../endpoints.ts';
import { dropSchema, SCHEMA_PREFIX } from './pg-schema.ts';
import { freshName, type BenchClient, type BenchSystem, type Payload } from './system.ts';

const TASK = 'noop';
const silent = new Logger(() => () => {});

export const graphileWorker: BenchSystem = {
  name: 'graphile-worker',
  config: 'addJob / addJobs; run({ concurrency, localQueue.size 500, completeJobBatchDelay 0, failJobBatchDelay 0, maxPoolSize min(25, max(10, c+1)), useNodeTime })',
  completion: 'handler',
  pollBoundRate: () => null,
  async create() {
    const schema = freshName(`${SCHEMA_PREFIX}graphile`);
    await runMigrations({ connectionString: PG_URL, schema, logger: silent });
    return { schema };
  },
  async open(state) {
    return graphileClient(state['schema']!);
  },
  async destroy(state) {
    await dropSchema(state['schema']!);
  },
};

async function graphileClient(schema: string): Promise<BenchClient> {
  const utils = await makeWorkerUtils({ connectionString: PG_URL, schema, logger: silent, useNodeTime: true });
  return {
    async enqueue(payload) {
      await utils.addJob(TASK, payload);
    },
    async enqueueBulk(payloads) {
      await utils.addJobs(payloads.map((payload) => ({ identifier: TASK, payload })));
    },
    async startWorker(concurrency, hooks) {
      const runner = await run({
        connectionString: PG_URL,
        schema,
        concurrency,
        maxPoolSize: Math.min(25, Math.max(10, concurrency + 1)),
        noHandleSignals: true,
        useNodeTime: true,
        logger: silent,
        taskList: {
          [TASK]: async (payload) => {
            hooks.onStart?.(payload as Payload);
          },
        },
        preset: { worker: { localQueue: { size: 500 }, completeJobBatchDelay: 0, failJobBatchDelay: 0 } },
      });
      runner.events.on('job:success', () => hooks.onDone());
      runner.promise.catch((err: unknown) => console.error(`graphile-worker runner failed: ${(err as Error).message}`));
      return { stop: () => runner.stop() };
    },
    async unfinished() {
      const { rows } = await utils.withPgClient((client) => client.query<{ n: string }>(`SELECT count(*) AS n FROM "${schema}"._private_jobs`));
      return Number(rows[0]!.n);
    },
    close: async () => {
      await utils.release();
    },
  };
}
