/**
 * Entry point of a worker child process: `worker-process.ts <system> <state as JSON> [job kind]`.
 * Opens a client on the state it is given, then runs workers on command (worker-protocol.ts) and
 * reports how many jobs they finished. Used for the multi-process run, for RSS and for the loop
 * scenario, which must each measure a process of their own.
 *
 * Progress goes out every 10 ms rather than per job: IPC per job would cost the worker more than a
 * no-op job does. The latest completion time travels with it, so the parent's end time is exact.
 */
import { Countdown } from './countdown.ts';
import { LoopProbe } from './loop-probe.ts';
import { sleep } from './poll-until.ts';
import { isJobKind, isSystemName, loadSystem, openClient, type BenchWorker, type StateRef } from './systems/system.ts';
import type { FromWorker, RssSummary, ToWorker } from './worker-protocol.ts';
import { captureWarnings } from './warnings.ts';

const PROGRESS_MS = 10;

function send(message: FromWorker): void {
  process.send?.(message);
}

const [name, stateJson, job = 'noop'] = process.argv.slice(2);
if (name === undefined || !isSystemName(name) || stateJson === undefined || !isJobKind(job)) {
  throw new Error('usage: worker-process.ts <system> <state json> [noop|cpu-off-loop|cpu-on-loop]');
}
// The parent is gone: nothing will stop this worker, so stop now.
process.on('disconnect', () => process.exit(1));
// Printed once per child; the system runner raises the same ones itself and reports them.
captureWarnings(`${name} worker ${process.pid}`);

const system = await loadSystem(name);
const client = await openClient(system, JSON.parse(stateJson) as StateRef, job);
// Connects (and for offload, checks migrations) before the parent starts any clock.
await client.unfinished();
const idleBytes = process.memoryUsage.rss();
send({ type: 'ready', rssBytes: idleBytes });

let worker: BenchWorker | null = null;
let done = new Countdown();
let timers: NodeJS.Timeout[] = [];
let rss: number[] = [];

async function handle(msg: ToWorker): Promise<void> {
  switch (msg.type) {
    case 'start': {
      done = new Countdown();
      rss = [];
      const counting = done;
      worker = await client.startWorker(msg.concurrency, { onDone: () => counting.add() });
      let sent = 0;
      timers.push(
        setInterval(() => {
          if (counting.count === sent) return;
          sent = counting.count;
          send({ type: 'progress', count: counting.count, firstAt: counting.firstAt, lastAt: counting.lastAt });
        }, PROGRESS_MS),
      );
      if (msg.sampleRssMs !== null) timers.push(setInterval(() => rss.push(process.memoryUsage.rss()), msg.sampleRssMs));
      send({ type: 'started' });
      return;
    }
    case 'measure-loop': {
      // Timed here, not by the parent: a parent's message to a blocked loop would arrive late.
      const counting = done;
      await sleep(msg.warmupMs);
      const before = counting.count;
      const probe = new LoopProbe();
      probe.start();
      await sleep(msg.windowMs);
      const reading = probe.stop();
      const completed = counting.count - before;
      // Asked after the window, so that whatever it costs is not measured.
      const details = (await client.details?.()) ?? {};
      send({ type: 'loop', reading, completed, details });
      return;
    }
    case 'stop': {
      await worker?.stop();
      worker = null;
      for (const t of timers) clearInterval(t);
      timers = [];
      send({ type: 'stopped', count: done.count, firstAt: done.firstAt, lastAt: done.lastAt, rss: summarize(rss) });
      return;
    }
    case 'exit': {
      await client.close();
      // Exit at once: a library's leftover timer must not keep a finished child around.
      process.exit(0);
    }
  }
}

function summarize(samples: number[]): RssSummary | null {
  if (samples.length === 0) return null;
  const sorted = samples.toSorted((a, b) => a - b);
  return { idleBytes, peakBytes: sorted[sorted.length - 1]!, medianBytes: sorted[Math.floor(sorted.length / 2)]!, samples: sorted.length };
}

// Messages are handled one at a time, in order: a stop never overtakes the start before it.
let queue = Promise.resolve();
process.on('message', (msg: ToWorker) => {
  queue = queue.then(() => handle(msg)).catch((err: unknown) => {
    send({ type: 'failed', message: (err as Error).stack ?? String(err) });
  });
});
