/**
 * A Fastify app that answers at once and offloads the slow work:
 *
 *   POST /reports {"month":"2026-11","orders":300000}  202 {job}: builds a sales report on a worker thread
 *   POST /orders/:id/paid                               202 {job}: tells the partner, retried until it answers
 *   GET  /jobs/:id                                      how a job is going, its result when done
 *   GET  /metrics                                       Prometheus metrics of the queue
 *
 *   node --import tsx examples/fastify-app/app.ts     (PORT, PARTNER_URL; SQLite in .offload/fastify-app.db)
 *
 * `demo.ts` starts it against a flaky partner, drives it and checks every outcome.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import { createOffload, isOffloadError, type Logger, type Offload } from '../../src/index.ts';
import { sqlite } from '../../src/storage/sqlite/index.ts';
import { buildReport, deliverWebhook } from './tasks.ts';

export interface App {
  fastify: FastifyInstance;
  offload: Offload;
  close(): Promise<void>;
}

export async function buildApp(options: { dbPath: string; partnerUrl: string; logger?: Logger }): Promise<App> {
  const offload = createOffload({
    store: sqlite({ path: options.dbPath }),
    tasks: [buildReport, deliverWebhook],
    threads: { size: 2 },
    ...(options.logger === undefined ? {} : { logger: options.logger }),
  });
  await offload.start({ concurrency: 20 });
  const metrics = offload.metrics();
  const fastify = Fastify();

  // An invalid payload is the client's mistake: 400 with the schema's message.
  fastify.setErrorHandler(async (err, _request, reply) => {
    if (isOffloadError(err, 'OFFLOAD_INVALID_PAYLOAD')) return reply.code(400).send({ error: err.message });
    throw err;
  });

  fastify.post<{ Body: unknown }>('/reports', async (request, reply) => {
    const { job } = await offload.enqueue(buildReport, request.body as { month: string; orders: number });
    return reply.code(202).send({ job: job.id });
  });

  fastify.post<{ Params: { id: string } }>('/orders/:id/paid', async (request, reply) => {
    // Keyed by order: a retried request (a double click, a client timeout) notifies once.
    const { job } = await offload.enqueue(
      deliverWebhook,
      { url: options.partnerUrl, event: 'order.paid', data: { order: request.params.id } },
      { idempotencyKey: `order-paid:${request.params.id}` },
    );
    return reply.code(202).send({ job: job.id });
  });

  fastify.get<{ Params: { id: string } }>('/jobs/:id', async (request, reply) => {
    if (!/^\d+$/.test(request.params.id)) return reply.code(400).send({ error: 'a job id is a number' });
    const job = await offload.jobs.get(request.params.id);
    if (job === null) return reply.code(404).send({ error: 'no such job' });
    return { id: job.id, task: job.task, state: job.state, attempt: job.attempt, progress: job.progress, result: job.result, errors: job.errors.map((e) => e.message) };
  });

  fastify.get('/metrics', async (_request, reply) => reply.type(metrics.contentType).send(await metrics.text()));

  return {
    fastify,
    offload,
    async close() {
      await fastify.close();
      await offload.close({ graceMs: 5000 });
    },
  };
}

// Run directly: serve until Ctrl-C.
if (import.meta.url === `file://${process.argv[1]}`) {
  const root = join(import.meta.dirname, '..', '..');
  mkdirSync(join(root, '.offload'), { recursive: true });
  const app = await buildApp({ dbPath: join(root, '.offload', 'fastify-app.db'), partnerUrl: process.env['PARTNER_URL'] ?? 'http://127.0.0.1:9/hooks' });
  const url = await app.fastify.listen({ host: '127.0.0.1', port: Number(process.env['PORT'] ?? 3000) });
  console.log(`listening on ${url}: POST /reports, POST /orders/:id/paid, GET /jobs/:id, GET /metrics`);
  process.once('SIGINT', () => void app.close().then(() => process.exit(0)));
}
