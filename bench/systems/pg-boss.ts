/**
 * pg-boss 10 on PostgreSQL, in its fastest documented configuration: `insert` for batches, and for
 * concurrency C one `work()` with `batchSize: C` whose handler runs the batch with Promise.all (the
 * maintainer's recommended pattern once v10 removed teamSize/teamConcurrency), polling at the
 * minimum allowed interval (`pollingIntervalSeconds: 0.5`). Cron is off (`schedule: false`); it is
 * not used.
 *
 * pg-boss 10 has no wake-up on send: a worker fetches one batch, runs it, and then waits out the
 * rest of its polling interval whatever it found. So a worker finishes at most C jobs per 500 ms,
 * which `pollBoundRate` states so that the process scenario caps its job count.
 *
 * Completion: `complete()` is not awaited by pg-boss's worker loop, so jobs count as done when the
 * handler returns and the scenario waits until no job is left before `completed`.
 */
import PgBoss from 'pg-boss';
import { PG_URL } from '../endpoints.ts';
import { dropSchema, SCHEMA_PREFIX } from './pg-schema.ts';
import { freshName, type BenchClient, type BenchSystem, type Payload } from './system.ts';

const QUEUE = 'noop';
const POLL_SECONDS = 0.5;

function boss(schema: string): PgBoss {
  const b = new PgBoss({ connectionString: PG_URL, schema, schedule: false });
  b.on('error', (err) => console.error(`pg-boss error: ${err.message}`));
  return b;
}

export const pgBoss: BenchSystem = {
  name: 'pg-boss',
  config: `send / insert; work({ batchSize: c, pollingIntervalSeconds: ${POLL_SECONDS} }) with Promise.all over the batch; schedule off`,
  completion: 'handler',
  pollBoundRate: (concurrency) => concurrency / POLL_SECONDS,
  async create() {
    const schema = freshName(`${SCHEMA_PREFIX}pgboss`);
    const b = boss(schema);
    await b.start();
    await b.createQueue(QUEUE);
    await b.stop({ graceful: false, wait: true });
    return { schema };
  },
  async open(state) {
    const b = boss(state['schema']!);
    await b.start();
    return pgBossClient(b);
  },
  async destroy(state) {
    await dropSchema(state['schema']!);
  },
};

function pgBossClient(b: PgBoss): BenchClient {
  return {
    async enqueue(payload) {
      await b.send(QUEUE, payload);
    },
    async enqueueBulk(payloads) {
      await b.insert(payloads.map((data) => ({ name: QUEUE, data })));
    },
    async startWorker(concurrency, hooks) {
      const id = await b.work<Payload>(QUEUE, { batchSize: concurrency, pollingIntervalSeconds: POLL_SECONDS }, async (jobs) => {
        await Promise.all(
          jobs.map(async (job) => {
            hooks.onStart?.(job.data);
          }),
        );
        for (let i = 0; i < jobs.length; i++) hooks.onDone();
      });
      return {
        async stop() {
          await b.offWork({ id });
          // offWork only flags the loop; an iteration under way still finishes. Waiting out one
          // polling interval lets it end before the next phase enqueues.
          await new Promise((resolve) => setTimeout(resolve, POLL_SECONDS * 1000 + 100));
        },
      };
    },
    async unfinished() {
      return b.getQueueSize(QUEUE, { before: 'completed' });
    },
    close: () => b.stop({ graceful: true, wait: true }),
  };
}
