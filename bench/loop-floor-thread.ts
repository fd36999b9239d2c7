/**
 * A thread of the loop floor (loop-floor-process.ts): runs the CPU job for every message, nothing
 * else. No queue, no protocol beyond "rounds in, digest out".
 */
import { parentPort } from 'node:worker_threads';
import { cpuJob } from './cpu-job.ts';

const port = parentPort;
if (port === null) throw new Error('loop-floor-thread.ts must be started as a worker_thread');
port.on('message', (rounds: number) => port.postMessage(cpuJob(rounds)));
