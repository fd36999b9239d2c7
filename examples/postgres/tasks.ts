/**
 * The tasks of the PostgreSQL example, shared by the producer (which enqueues them by definition,
 * so payloads are type-checked) and the worker (which runs them).
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { defineTask } from '../../src/index.ts';

export const OUT_DIR = join(tmpdir(), 'offload-example-invoices');

const line = z.object({ sku: z.string().min(1), qty: z.number().int().positive(), unitCents: z.number().int().nonnegative() });

/** Renders an invoice to a text file and returns where it is and its total. */
export const renderInvoice = defineTask({
  name: 'invoices.render',
  schema: z.object({ invoice: z.string().regex(/^[A-Za-z0-9-]+$/), customer: z.string().min(1), lines: z.array(line).min(1) }),
  retry: { attempts: 3, backoff: 'exponential', baseMs: 200, maxMs: 2000 },
  timeoutMs: 10_000,
  async handler({ invoice, customer, lines }, ctx) {
    const totalCents = lines.reduce((sum, l) => sum + l.qty * l.unitCents, 0);
    const text = [
      `Invoice ${invoice} for ${customer}`,
      ...lines.map((l) => `${l.sku.padEnd(12)} ${String(l.qty).padStart(4)} x ${cents(l.unitCents).padStart(9)} = ${cents(l.qty * l.unitCents).padStart(10)}`),
      `${'total'.padEnd(31)} ${cents(totalCents).padStart(10)}`,
    ].join('\n');
    await mkdir(OUT_DIR, { recursive: true });
    const path = join(OUT_DIR, `${invoice}.txt`);
    await writeFile(path, `${text}\n`, { signal: ctx.signal });
    ctx.log.info({ path }, 'invoice rendered');
    return { path, totalCents, renderedBy: process.pid };
  },
});

function cents(n: number): string {
  return (n / 100).toFixed(2);
}
