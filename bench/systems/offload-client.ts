/**
 * offload as a benchmark client, for either store: the two store adapters differ only in how they
 * make and drop fresh state and which `store` they pass.
 *
 * Completion is durable: `job:completed` is emitted after the completer has written the outcome.
 * offload runs with its defaults (logger, loop guard and thread pool included): what a user gets
 * without tuning. The loop scenario's jobs are the tasks of offload-cpu-tasks.ts.
 */
import type { Offload, TaskDefinition } from '../../src/index.ts';
import { api } from './offload-package.ts';
import { cpuOnMain, cpuOnThread } from './offload-cpu-tasks.ts';
import type { BenchClient, BenchWorker, JobKind, Payload, WorkerHooks } from './system.ts';

/** How the loop scenario's CPU job runs on offload, as printed with its figures. */
export const OFFLOAD_LOOP_WAYS = {
  off: "defineTask({ kind: 'thread', module: import.meta.url }); threads: default pool size (available parallelism)",
  on: 'defineTask() on the main thread (kind left out); loop guard at its defaults',
};

export function offloadClient(store: Parameters<typeof api.createOffload>[0]['store'], job: JobKind = 'noop'): BenchClient {
  // The task is fixed at construction; the hooks of the worker running now are swapped in by startWorker.
  let hooks: WorkerHooks | null = null;
  const noop = api.defineTask({
    name: 'bench.noop',
    handler: (payload: Payload) => {
      hooks?.onStart?.(payload);
    },
  });
  const task: TaskDefinition<unknown, Payload> = job === 'cpu-off-loop' ? cpuOnThread : job === 'cpu-on-loop' ? cpuOnMain : noop;
  const offload: Offload = api.createOffload({ store, tasks: [task] });
  offload.on('error', ({ error, component }) => console.error(`offload error in ${component}: ${error.message}`));
  // What the loop guard did, for the loop scenario's detail.
  const guard = { overloaded: 0, blocked: 0 };
  offload.on('loop:overloaded', () => void guard.overloaded++);
  offload.on('loop:blocked', () => void guard.blocked++);

  return {
    async enqueue(payload) {
      await offload.enqueue(task, payload);
    },
    async enqueueBulk(payloads) {
      await offload.enqueueMany(task, payloads);
    },
    async startWorker(concurrency, h): Promise<BenchWorker> {
      hooks = h;
      guard.overloaded = 0;
      guard.blocked = 0;
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
    async details() {
      const { threads, workers } = await offload.stats();
      return {
        loopOverloadedEvents: guard.overloaded,
        loopBlockedEvents: guard.blocked,
        claimingPausedByLoop: workers?.pausedBy === 'loop' ? 1 : 0,
        ...(threads === null ? {} : { threadPoolSize: threads.size, threadsBusy: threads.busy, threadsQueued: threads.queued, threadsRetired: threads.retired }),
      };
    },
    async close() {
      await offload.close();
    },
  };
}
