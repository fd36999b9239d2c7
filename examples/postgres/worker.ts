/**
 * The worker process of the PostgreSQL example: runs `invoices.render` jobs until it gets SIGTERM
 * or SIGINT, then stops gracefully (running jobs get 5 s to finish, then are released for another
 * worker) and exits 0. Start several: they share the queue through PostgreSQL (`FOR UPDATE SKIP
 * LOCKED` claims, NOTIFY wake-ups).
 *
 *   node --import tsx examples/postgres/worker.ts
 */
import { createOffload } from '../../src/index.ts';
import { exampleStore } from './store.ts';
import { renderInvoice } from './tasks.ts';

const offload = createOffload({ store: exampleStore(), tasks: [renderInvoice] });
await offload.start({ concurrency: 8 });
// The producer waits for this line before it enqueues (and a person sees the worker is up).
console.log(`worker ${offload.workerId} ready`);

let stopping = false;
const stop = (signal: string) => {
  if (stopping) return;
  stopping = true;
  console.log(`worker got ${signal}; stopping`);
  offload.close({ graceMs: 5000 }).then(
    () => process.exit(0),
    (err: unknown) => {
      console.error('worker: could not stop cleanly:', err);
      process.exit(1);
    },
  );
};
process.on('SIGTERM', () => stop('SIGTERM'));
process.on('SIGINT', () => stop('SIGINT'));
