/**
 * The quickstart: a durable queue on an embedded SQLite file (`.offload/quickstart.db`), no server.
 *
 * It enqueues three kinds of real work and runs them in this same process while measuring how
 * responsive the event loop stays:
 *   - `accounts.hash-password`: scrypt key derivation (CPU work on libuv's pool, off the loop),
 *   - `files.digest`: streams a source file of this repository through SHA-256, reporting progress,
 *   - `webhooks.deliver`: a POST to a local receiver that refuses each delivery once (503), so every
 *     delivery is retried with backoff and succeeds on its second attempt.
 *
 * Run it with `npm start`. Run it twice: the idempotency keys make the second run find the first
 * run's jobs instead of doing the work again (unless they were pruned).
 */
import { scrypt, randomBytes, createHash } from 'node:crypto';
import { createReadStream, mkdirSync, readdirSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import { join, relative } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { promisify } from 'node:util';
import { z } from 'zod';
import { consoleLogger, createOffload, defineTask } from '../src/index.ts';
import { sqlite } from '../src/storage/sqlite/index.ts';

const scryptAsync = promisify(scrypt) as (password: string, salt: Buffer, keylen: number, options: object) => Promise<Buffer>;
const root = join(import.meta.dirname, '..');

const hashPassword = defineTask({
  name: 'accounts.hash-password',
  schema: z.object({ user: z.string().min(1), password: z.string().min(8) }),
  timeoutMs: 10_000,
  async handler({ user, password }) {
    const salt = randomBytes(16);
    const key = await scryptAsync(password, salt, 32, { N: 2 ** 14, r: 8, p: 1 });
    return { user, hash: `scrypt$${salt.toString('base64')}$${key.toString('base64')}` };
  },
});

const digestFile = defineTask({
  name: 'files.digest',
  schema: z.object({ path: z.string() }),
  async handler({ path }, ctx) {
    const size = statSync(path).size;
    const hash = createHash('sha256');
    let read = 0;
    for await (const chunk of createReadStream(path, { highWaterMark: 4096, signal: ctx.signal })) {
      hash.update(chunk as Buffer);
      read += (chunk as Buffer).length;
      await ctx.progress({ bytes: read, of: size });
    }
    return { path: relative(root, path), bytes: read, sha256: hash.digest('hex') };
  },
});

// Where webhooks go is configuration, not payload: set once the receiver below listens.
let receiverUrl = '';

const deliver = defineTask({
  name: 'webhooks.deliver',
  schema: z.object({ event: z.string() }),
  retry: { attempts: 4, backoff: 'exponential', baseMs: 200, maxMs: 2000 },
  timeoutMs: 5000,
  async handler({ event }, ctx) {
    const res = await fetch(receiverUrl, { method: 'POST', body: JSON.stringify({ event, job: ctx.jobId }), signal: ctx.signal });
    if (!res.ok) throw new Error(`receiver answered ${res.status}`);
    return { status: res.status, attempt: ctx.attempt };
  },
});

// A webhook receiver that is briefly unavailable: it refuses the first delivery of each event.
const seen = new Set<string>();
const receiver = createServer((req, res) => {
  let body = '';
  req.on('data', (c: Buffer) => (body += c.toString()));
  req.on('end', () => {
    const { event } = JSON.parse(body) as { event: string };
    const first = !seen.has(event);
    seen.add(event);
    res.writeHead(first ? 503 : 204).end();
  });
});
await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
const address = receiver.address();
if (address === null || typeof address === 'string') throw new Error('receiver has no port');
receiverUrl = `http://127.0.0.1:${address.port}/hooks`;

mkdirSync(join(root, '.offload'), { recursive: true });
const offload = createOffload({
  store: sqlite({ path: join(root, '.offload', 'quickstart.db') }),
  tasks: [hashPassword, digestFile, deliver],
  // Failed attempts are logged at warn; the refused webhook deliveries are expected here.
  logger: consoleLogger('error'),
});

const files = listSources(join(root, 'src')).slice(0, 40);
// Event-loop delay: how late a 1 ms timer fires (the histogram includes the 1 ms itself).
const loop = monitorEventLoopDelay({ resolution: 1 });
loop.enable();
const started = performance.now();

// Idempotency keys per run day: rerunning the same day returns the jobs already stored.
const day = new Date().toISOString().slice(0, 10);
const results = await Promise.all([
  ...Array.from({ length: 60 }, (_, i) =>
    offload.enqueue(hashPassword, { user: `user${i}`, password: `correct horse ${i}` }, { idempotencyKey: `${day}:pw:${i}` }),
  ),
  ...files.map((path) => offload.enqueue(digestFile, { path }, { idempotencyKey: `${day}:digest:${relative(root, path)}` })),
  ...Array.from({ length: 20 }, (_, i) => offload.enqueue(deliver, { event: `order.paid.${i}` }, { idempotencyKey: `${day}:hook:${i}` })),
]);
const created = results.filter((r) => r.created).length;
console.log(`enqueued ${results.length} jobs (${created} new, ${results.length - created} found by idempotency key) in ${ms(performance.now() - started)}`);

let done = 0;
let retried = 0;
offload.on('job:completed', () => void done++);
offload.on('job:failed', ({ nextState }) => void (nextState === 'retryable' && retried++));
const tty = process.stdout.isTTY;
const ticker = setInterval(() => report(false), tty ? 100 : 1000);

await offload.start({ concurrency: 20 });
const finished = await Promise.all(results.map(({ job }) => offload.jobs.waitFor(job.id, { timeoutMs: 60_000 })));
clearInterval(ticker);
report(true);
await offload.close();
receiver.close();
loop.disable();

const byState = new Map<string, number>();
for (const job of finished) byState.set(job.state, (byState.get(job.state) ?? 0) + 1);
const sample = finished.find((j) => j.task === 'files.digest');
console.log(`\nfinal states: ${[...byState].map(([s, n]) => `${n} ${s}`).join(', ')}`);
console.log(`retries (webhook receiver refused first deliveries): ${retried}`);
console.log(`event-loop delay while the jobs ran: p50 ${ms(loop.percentile(50) / 1e6)}, p99 ${ms(loop.percentile(99) / 1e6)}`);
if (sample !== undefined) console.log(`a result, stored with its job: ${JSON.stringify(sample.result)}`);
console.log(`\nthe jobs are kept in .offload/quickstart.db; completed jobs are pruned after 24 h.`);

function report(final: boolean): void {
  const line = `running: ${done} of ${created} new jobs done, ${retried} retried, ${ms(performance.now() - started)} elapsed`;
  if (tty) process.stdout.write(`\r${line}${final ? '\n' : ''}`);
  else if (final || done < created) console.log(line);
}

function listSources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .flatMap((e) => (e.isDirectory() ? listSources(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : []))
    .toSorted();
}

function ms(n: number): string {
  return n < 10 ? `${n.toFixed(2)} ms` : n < 10_000 ? `${n.toFixed(0)} ms` : `${(n / 1000).toFixed(1)} s`;
}
