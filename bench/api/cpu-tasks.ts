/**
 * The tasks module `offload serve --tasks` loads for the experiment: the CPU work as a thread
 * task, so it runs on a worker thread and the API's event loop stays free.
 */
import { defineTask } from '../../src/index.ts';
import { doCpuWork, type CpuWork } from './cpu-work.ts';

export const cpu = defineTask({
  name: 'bench.cpu',
  kind: 'thread',
  module: import.meta.url,
  queue: 'bench',
  retry: { attempts: 1 },
  handler: (p: CpuWork & { input: string }) => doCpuWork(p, p.input).slice(0, 16),
});
