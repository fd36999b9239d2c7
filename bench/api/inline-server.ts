/**
 * The "before" side of the experiment: a Fastify server that does the CPU work inside the request
 * handler, as an API without a queue would. Run as a child process by run.ts; prints one JSON line
 * `{ "url": ... }` once listening, stops on SIGTERM. Loopback only.
 */
import Fastify from 'fastify';
import { doCpuWork, type CpuWork } from './cpu-work.ts';

const app = Fastify({ logger: false, keepAliveTimeout: 72_000 });
app.get('/healthz', (_request, reply) => reply.send({ status: 'ok' }));
app.post('/work', (request, reply) => {
  const p = request.body as CpuWork & { input: string };
  return reply.send({ hash: doCpuWork(p, p.input).slice(0, 16) });
});
const url = await app.listen({ host: '127.0.0.1', port: 0 });
process.stdout.write(`${JSON.stringify({ msg: 'listening', url })}\n`);
process.on('SIGTERM', () => {
  // The queue of requests behind the CPU work is the point of the experiment: do not wait for it.
  app.server.closeAllConnections();
  void app.close().then(() => process.exit(0));
});
