/**
 * BullMQ on Redis, configured as its docs recommend for throughput: `addBulk` for batches (one
 * pipelined MULTI) and the worker's `concurrency` option. Completed jobs are kept (the default, as
 * offload keeps its completed rows). Completion is durable: the worker emits `completed` after
 * `moveToCompleted` returned.
 *
 * Each state is a new queue name, obliterated at the end. Redis itself runs with its own
 * persistence settings (see the environment in the report); it does not fsync each write.
 *
 * The loop scenario's CPU job runs in BullMQ's sandbox on worker threads (`useWorkerThreads:
 * true`): the processor is a file (bullmq-cpu-processor.mjs), each concurrent job gets a thread of
 * the sandbox's pool, up to `concurrency` threads, kept between jobs.
 */
import { Queue, Worker } from 'bullmq';
import { redisConnection } from '../endpoints.ts';
import { freshName, type BenchClient, type BenchSystem, type JobKind, type Payload } from './system.ts';

const JOB_NAME = 'noop';
const CPU_PROCESSOR = new URL('./bullmq-cpu-processor.mjs', import.meta.url);

export const bullmq: BenchSystem = {
  name: 'bullmq',
  config: 'Queue.add / addBulk; Worker({ concurrency }); completed jobs kept (default)',
  completion: 'durable',
  pollBoundRate: () => null,
  loopWays: { off: 'Worker(queue, processorFile, { concurrency, useWorkerThreads: true }): sandboxed processor, a thread per concurrent job' },
  async create() {
    return { queue: freshName('bench') };
  },
  async open(state, job) {
    return bullmqClient(state['queue']!, job ?? 'noop');
  },
  async destroy(state) {
    const queue = new Queue(state['queue']!, { connection: redisConnection() });
    try {
      await queue.obliterate({ force: true });
    } finally {
      await queue.close();
    }
  },
};

function bullmqClient(name: string, job: JobKind): BenchClient {
  const connection = redisConnection();
  const queue = new Queue<Payload>(name, { connection });
  return {
    async enqueue(payload) {
      await queue.add(JOB_NAME, payload);
    },
    async enqueueBulk(payloads) {
      await queue.addBulk(payloads.map((data) => ({ name: JOB_NAME, data })));
    },
    async startWorker(concurrency, hooks) {
      const worker =
        job === 'cpu-off-loop'
          ? new Worker<Payload>(name, CPU_PROCESSOR, { connection, concurrency, useWorkerThreads: true })
          : new Worker<Payload>(
              name,
              async (j) => {
                hooks.onStart?.(j.data);
              },
              { connection, concurrency },
            );
      worker.on('completed', () => hooks.onDone());
      worker.on('error', (err) => console.error(`bullmq worker error: ${err.message}`));
      await worker.waitUntilReady();
      return { stop: () => worker.close() };
    },
    async unfinished() {
      const counts = await queue.getJobCounts('waiting', 'active', 'delayed', 'prioritized', 'waiting-children');
      return Object.values(counts).reduce((a, b) => a + b, 0);
    },
    close: () => queue.close(),
  };
}
