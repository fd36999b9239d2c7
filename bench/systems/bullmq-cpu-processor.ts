/**
 * BullMQ's sandboxed processor for the loop scenario: the CPU job (cpu-job.ts), the same function
 * offload's tasks run. BullMQ loads it in each of its threads through bullmq-cpu-processor.mjs.
 */
import { cpuJob } from '../cpu-job.ts';
import type { Payload } from './system.ts';

export default function cpuProcessor(job: { data: Payload }): string {
  return cpuJob(job.data.rounds ?? 0);
}
