/**
 * The tasks of the Fastify example: one CPU-heavy, one I/O-bound, each where it belongs.
 *
 * - `reports.build` runs on a worker thread (`kind: 'thread'`): generating, aggregating, sorting
 *   and gzipping a few hundred thousand rows is CPU work that would hold the event loop, and every
 *   request with it, for hundreds of milliseconds.
 * - `webhooks.deliver` runs on the main thread: it waits on the network (a POST to a partner),
 *   which costs the loop nothing, and is retried with backoff when the partner fails.
 */
import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { z } from 'zod';
import { defineTask } from '../../src/index.ts';

const PRODUCTS = ['anvil', 'rocket-skates', 'giant-magnet', 'tornado-seeds', 'earthquake-pills', 'bird-seed'];

export const buildReport = defineTask({
  name: 'reports.build',
  kind: 'thread',
  module: import.meta.url,
  schema: z.object({ month: z.string().regex(/^\d{4}-\d{2}$/), orders: z.number().int().min(1).max(2_000_000) }),
  timeoutMs: 60_000,
  async handler({ month, orders }, ctx) {
    // Deterministic orders for the month (a stand-in for reading them from a warehouse).
    let seed = month.split('').reduce((h, c) => (h * 31 + c.charCodeAt(0)) >>> 0, 7);
    const random = () => ((seed = (seed * 1_103_515_245 + 12_345) >>> 0) / 2 ** 32);
    const rows: Array<{ id: number; product: string; cents: number }> = [];
    for (let id = 1; id <= orders; id++) rows.push({ id, product: PRODUCTS[Math.floor(random() * PRODUCTS.length)]!, cents: 100 + Math.floor(random() * 99_900) });
    await ctx.progress({ step: 'generated', orders });
    const byProduct = new Map<string, { orders: number; cents: number }>();
    for (const r of rows) {
      const p = byProduct.get(r.product) ?? { orders: 0, cents: 0 };
      p.orders++;
      p.cents += r.cents;
      byProduct.set(r.product, p);
    }
    rows.sort((a, b) => b.cents - a.cents || a.id - b.id);
    const csv = `id,product,cents\n${rows.map((r) => `${r.id},${r.product},${r.cents}`).join('\n')}\n`;
    const gzipped = gzipSync(csv);
    const top = [...byProduct].toSorted((a, b) => b[1].cents - a[1].cents)[0]!;
    return { month, orders, csvBytes: csv.length, gzipBytes: gzipped.length, sha256: createHash('sha256').update(gzipped).digest('hex'), topProduct: top[0] };
  },
});

export const deliverWebhook = defineTask({
  name: 'webhooks.deliver',
  schema: z.object({ url: z.url(), event: z.string().min(1), data: z.record(z.string(), z.unknown()) }),
  retry: { attempts: 5, backoff: 'exponential', baseMs: 100, maxMs: 2000 },
  timeoutMs: 10_000,
  async handler({ url, event, data }, ctx) {
    const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', 'idempotency-key': `job-${ctx.jobId}` }, body: JSON.stringify({ event, data }), signal: ctx.signal });
    if (!res.ok) throw new Error(`the partner answered ${res.status}`);
    return { status: res.status, attempt: ctx.attempt };
  },
});
