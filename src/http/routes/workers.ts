/**
 * GET /v1/workers: every worker process in the store's registry (`offload.workers.list()`), this
 * server's and every other process's, stale ones flagged. Ages are the database clock's, so the
 * figures do not depend on this server's clock.
 */
import type { FastifyInstance } from 'fastify';
import type { WorkerInfo } from '../../index.ts';
import type { HttpContext } from '../context.ts';
import type { RegistryWorkerJson } from '../dashboard/protocol.ts';
import { problemResponses } from '../problem-schema.ts';
import type { JsonSchema } from '../validator.ts';

/** A worker over HTTP: dates as RFC 3339 strings. The dashboard's page reads this shape. */
export type WorkerView = RegistryWorkerJson;

/**
 * @example
 * reply.send({ workers: (await offload.workers.list()).map(workerView) })
 */
export function workerView(w: WorkerInfo): WorkerView {
  return { ...w, startedAt: w.startedAt.toISOString(), heartbeatAt: w.heartbeatAt.toISOString() };
}

const int = { type: 'integer' } as const;

export const workerSchema: JsonSchema = {
  type: 'object',
  description: 'A worker process as the registry knows it: what it reported at its last heartbeat.',
  properties: {
    id: { type: 'string', description: 'hostname:pid:random, as on the jobs it claims (workerId).' },
    host: { type: 'string' },
    pid: int,
    version: { type: 'string', description: 'The offload version it runs.' },
    queues: { type: 'array', items: { type: 'string' } },
    concurrency: int,
    running: { type: 'integer', description: 'Jobs it ran at its last heartbeat.' },
    threads: {
      type: ['object', 'null'],
      description: 'Its thread pool; null without thread tasks.',
      properties: { size: int, threads: int, busy: int, queued: int, retired: int },
      required: ['size', 'threads', 'busy', 'queued', 'retired'],
    },
    loop: {
      type: ['object', 'null'],
      description: 'Its event loop; null when its loop monitor is off.',
      properties: { delayP99Ms: { type: 'number' }, utilization: { type: 'number' }, overloaded: { type: 'boolean' } },
      required: ['delayP99Ms', 'utilization', 'overloaded'],
    },
    startedAt: { type: 'string', format: 'date-time', description: 'Its first heartbeat (database clock).' },
    heartbeatAt: { type: 'string', format: 'date-time', description: 'Its last heartbeat (database clock).' },
    heartbeatAgeMs: { type: 'integer', description: 'How long ago it last beat, by the database clock.' },
    heartbeatMs: { type: 'integer', description: 'Its heartbeat period.' },
    stale: { type: 'boolean', description: 'No heartbeat for more than three periods: killed, hung or cut off from the store.' },
  },
  required: ['id', 'host', 'pid', 'version', 'queues', 'concurrency', 'running', 'threads', 'loop', 'startedAt', 'heartbeatAt', 'heartbeatAgeMs', 'heartbeatMs', 'stale'],
};

export function workerRoutes(fastify: FastifyInstance, ctx: HttpContext): void {
  fastify.route({
    method: 'GET',
    url: '/v1/workers',
    onRequest: ctx.auth('read'),
    schema: {
      operationId: 'listWorkers',
      summary: 'Every registered worker process: host, pid, heartbeat age, running jobs, threads, loop delay',
      tags: ['workers'],
      response: {
        200: { type: 'object', properties: { workers: { type: 'array', items: workerSchema } }, required: ['workers'] },
        ...problemResponses([401, 403, 503]),
      },
    },
    handler: async (_request, reply) => {
      void reply.header('cache-control', 'no-store');
      return { workers: (await ctx.offload.workers.list()).map(workerView) };
    },
  });
}
