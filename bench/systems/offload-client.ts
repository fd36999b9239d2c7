/**
 * offload as a benchmark client, for either store: the two store adapters differ only in how they
 * make and drop fresh state and which `store` they pass.
 *
 * Completion is durable: `job:completed` is emitted after the completer has written the outcome.
 * offload runs with its defaults (logger included: it writes warnings only, and a no-op job makes
 * none): what a user gets without tuning.
 */
import { createOffload, defineTask, type Offload } from '../../src/index.ts';
import type { BenchClient, BenchWorker, Payload, WorkerHooks } from './system.ts';

export function offloadClient(store: Parameters<typeof createOffload>[0]['store']): BenchClient {
  // The task is fixed at construction; the hooks of the worker running now are swapped in by startWorker.
  let hooks: WorkerHooks | null = null;
  const noop = defineTask({
    name: 'bench.noop',
    handler: (payload: Payload) => {
      hooks?.onStart?.(payload);
    },
  });
  const offload: Offload = createOffload({ store, tasks: [noop] });
  offload.on('error', ({ error, component }) => console.error(`offload error in ${component}: ${error.message}`));

  return {
    async enqueue(payload) {
      await offload.enqueue(noop, payload);
    },
    async enqueueBulk(payloads) {
      await offload.enqueueMany(noop, payloads);
    },
    async startWorker(concurrency, h): Promise<BenchWorker> {
      hooks = h;
      const off = offload.on('job:completed', () => h.onDone());
      await offload.start({ concurrency });
      return {
        async stop() {
          await offload.stop();
          off();
          if (hooks === h) hooks = null;
        },
      };
    },
    async unfinished() {
      // jobCounts is the driver's, reached through the client's @internal `driver` getter: the public
      // API has no count, and reading the tables directly would tie the suite to the schema.
      const counts = await (await offload.ready()).jobCounts();
      return counts.filter((c) => c.state !== 'completed').reduce((sum, c) => sum + c.count, 0);
    },
    async close() {
      await offload.close();
    },
  };
}
