/**
 * The loop scenario's floor, measured once per run by the orchestrator in a process of its own
 * (loop-floor-process.ts): the main-thread delay this machine shows while every core runs the CPU
 * job on a plain worker_thread, no queue involved. A queue's "jobs on threads" figures can only be
 * read against it: on a shared 2-core machine the floor alone can be several milliseconds at p99.
 */
import { fork } from 'node:child_process';
import type { CpuJobSpec } from './cpu-job.ts';
import type { LoopReading } from './loop-probe.ts';

export interface LoopFloor {
  /** Plain worker_threads, one per core. */
  threads: number;
  reading: LoopReading;
  /** Jobs finished within the window, all threads together. */
  completed: number;
}

/** A floor process that has not answered after warm-up, window and this much more is killed. */
const SLACK_MS = 30_000;

export function measureLoopFloor(spec: CpuJobSpec, warmupMs: number, windowMs: number): Promise<LoopFloor> {
  const entry = new URL('./loop-floor-process.ts', import.meta.url);
  // execArgv is inherited: the child runs under the same `--import tsx`.
  const child = fork(entry, [JSON.stringify(spec), String(warmupMs), String(windowMs)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`the loop floor process did not answer within ${(warmupMs + windowMs + SLACK_MS) / 1000} s`));
    }, warmupMs + windowMs + SLACK_MS);
    child.once('message', (floor: LoopFloor) => {
      clearTimeout(timer);
      resolve(floor);
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`the loop floor process exited (code ${code}, signal ${signal}) without an answer`));
    });
  });
}
