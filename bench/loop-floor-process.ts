/**
 * Entry point of the loop scenario's floor: `loop-floor-process.ts <cpu job JSON> <warmupMs> <windowMs>`.
 *
 * The same CPU job on plain worker_threads, one per core, each running it back to back, in a
 * process whose main thread does nothing but measure itself (loop-probe.ts), as the loop scenario's
 * worker processes do. No queue is involved: this is what this machine (its scheduler, the other
 * processes on it) does to a main thread while every core is busy with the job, the floor under
 * any queue's figures. Replies once over IPC, then exits.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { CpuJobSpec } from './cpu-job.ts';
import { LoopProbe } from './loop-probe.ts';
import { sleep } from './poll-until.ts';
import type { LoopFloor } from './loop-floor.ts';

const [specJson, warmupArg, windowArg] = process.argv.slice(2);
if (specJson === undefined || warmupArg === undefined || windowArg === undefined) {
  throw new Error('usage: loop-floor-process.ts <cpu job JSON> <warmupMs> <windowMs>');
}
process.on('disconnect', () => process.exit(1));
const spec = JSON.parse(specJson) as CpuJobSpec;
const threads = availableParallelism();

// A worker_thread does not inherit this process's tsx loader (Node 20): register it first, as
// offload's task threads and the BullMQ processor do, so all three pay the same start-up.
const tsx = import.meta.resolve('tsx/esm/api');
const entry = new URL('./loop-floor-thread.ts', import.meta.url).href;
const boot = `import(${JSON.stringify(tsx)}).then((m) => { m.register(); return import(${JSON.stringify(entry)}); })`;

let completed = 0;
const workers = Array.from({ length: threads }, () => {
  const w = new Worker(boot, { eval: true });
  w.on('message', () => {
    completed++;
    w.postMessage(spec.rounds);
  });
  w.postMessage(spec.rounds);
  return w;
});

await sleep(Number(warmupArg));
const before = completed;
const probe = new LoopProbe();
probe.start();
await sleep(Number(windowArg));
const reading = probe.stop();
const floor: LoopFloor = { threads, reading, completed: completed - before };
await Promise.all(workers.map((w) => w.terminate()));
process.send?.(floor, undefined, {}, () => process.exit(0));
