/**
 * offload's tasks for the loop scenario: the same CPU job (cpu-job.ts) as a thread task and as a
 * main-thread task. This module is what the task threads import (`module: import.meta.url`), so
 * both tasks are exported and the module does nothing when imported but define them.
 */
import { cpuJob } from '../cpu-job.ts';
import { api } from './offload-package.ts';
import type { Payload } from './system.ts';

const { defineTask } = api;

/** Runs on offload's thread pool: `kind: 'thread'`. */
export const cpuOnThread = defineTask({
  name: 'bench.cpu-thread',
  kind: 'thread',
  module: import.meta.url,
  handler: (payload: Payload) => cpuJob(payload.rounds ?? 0),
});

/** The same job on the main thread (`kind` left out): the failure thread tasks exist to cure. */
export const cpuOnMain = defineTask({
  name: 'bench.cpu-main',
  handler: (payload: Payload) => cpuJob(payload.rounds ?? 0),
});
