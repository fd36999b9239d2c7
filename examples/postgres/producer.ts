/**
 * The producer process of the PostgreSQL example. It starts a worker as a separate process
 * (worker.ts), enqueues invoices to render without running any job itself, waits for every job
 * to finish (read from the database, so it works wherever the worker runs), prints the results,
 * then stops the worker with SIGTERM. Exits 0 when every invoice was rendered by the other process.
 *
 *   node --import tsx examples/postgres/producer.ts        (DATABASE_URL, default postgres://postgres@127.0.0.1:5432/test)
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { createOffload } from '../../src/index.ts';
import { exampleStore } from './store.ts';
import { renderInvoice } from './tasks.ts';

const worker = spawn(process.execPath, ['--import', 'tsx', new URL('worker.ts', import.meta.url).pathname], { stdio: ['ignore', 'pipe', 'inherit'] });
const lines = createInterface({ input: worker.stdout });
const exited = once(worker, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
// Wait for the worker's "ready" line (or its early death), never for a guessed delay.
const ready = await new Promise<boolean>((resolve) => {
  lines.on('line', (l) => {
    console.log(`  [worker] ${l}`);
    if (l.includes(' ready')) resolve(true);
  });
  void exited.then(() => resolve(false));
});
if (!ready) {
  console.error('the worker exited before it was ready (is PostgreSQL running? DATABASE_URL)');
  process.exit(1);
}

// The producer registers the task only to enqueue it by definition; it never calls start().
const offload = createOffload({ store: exampleStore(), tasks: [renderInvoice] });
const run = Date.now().toString(36);
const customers = ['Ada', 'Grace', 'Edsger', 'Barbara', 'Ken'];
const started = performance.now();
const results = await Promise.all(
  Array.from({ length: 25 }, (_, i) =>
    offload.enqueue(
      renderInvoice,
      {
        invoice: `INV-${run}-${i}`,
        customer: customers[i % customers.length]!,
        lines: [
          { sku: 'widget', qty: 1 + (i % 4), unitCents: 1999 },
          { sku: 'shipping', qty: 1, unitCents: 495 },
        ],
      },
      { idempotencyKey: `invoice:${run}:${i}` },
    ),
  ),
);
console.log(`producer (pid ${process.pid}) enqueued ${results.length} invoices`);

const done = await Promise.all(results.map(({ job }) => offload.jobs.waitFor(job.id, { timeoutMs: 60_000 })));
const rendered = done.filter((j) => j.state === 'completed');
const byOtherProcess = rendered.filter((j) => (j.result as { renderedBy: number }).renderedBy !== process.pid);
const total = rendered.reduce((sum, j) => sum + (j.result as { totalCents: number }).totalCents, 0);
console.log(`${rendered.length} of ${done.length} rendered in ${(performance.now() - started).toFixed(0)} ms, all by worker pid ${[...new Set(byOtherProcess.map((j) => (j.result as { renderedBy: number }).renderedBy))].join(', ')}`);
console.log(`invoiced in total: ${(total / 100).toFixed(2)}; files in ${(rendered[0]?.result as { path: string } | undefined)?.path.replace(/[^/]+$/, '') ?? '-'}`);
await offload.close();

worker.kill('SIGTERM');
const [code] = await exited;
console.log(`worker exited with code ${code}`);
process.exit(rendered.length === done.length && byOtherProcess.length === rendered.length && code === 0 ? 0 : 1);
