/**
 * GET /healthz (liveness), GET /readyz (readiness) and GET /openapi.json. None needs a token:
 * probes and API tooling must reach them.
 *
 * Liveness answers while the process runs and touches nothing else, so a slow store never gets a
 * healthy process restarted. Readiness asks `offload.stats()`: ready when the store answered
 * in time, the event loop is not overloaded and, when this process runs
 * workers, they are claiming (a process connected to the store but not claiming is not ready).
 * A store that has not answered within `readyTimeoutMs` (2 s) is as good as unreachable for a probe.
 */
import type { FastifyInstance } from 'fastify';
import type { OffloadStats } from '../../index.ts';
import type { HttpContext } from '../context.ts';
import type { OpenApiCollector } from '../openapi.ts';
import { HttpProblem } from '../problem.ts';
import { problemResponses } from '../problem-schema.ts';

/** The version of the HTTP API's contract (the /v1 routes), published as the document's info.version. */
export const API_VERSION = '1.0.0';

async function statsWithin(ctx: HttpContext, ms: number): Promise<OffloadStats | 'timeout' | { error: unknown }> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), ms);
  });
  try {
    return await Promise.race([ctx.offload.stats(), timeout]);
  } catch (err) {
    return { error: err };
  } finally {
    clearTimeout(timer);
  }
}

const checksSchema = {
  type: 'object',
  properties: {
    store: { type: 'string', enum: ['ok', 'timeout', 'error'] },
    loop: { type: 'object', properties: { overloaded: { type: 'boolean' }, delayP99Ms: { type: 'number' }, utilization: { type: 'number' } } },
    workers: {
      type: ['object', 'null'],
      properties: { id: { type: 'string' }, concurrency: { type: 'integer' }, running: { type: 'integer' }, claiming: { type: 'boolean' } },
    },
  },
};

export function healthRoutes(fastify: FastifyInstance, ctx: HttpContext): void {
  fastify.route({
    method: 'GET',
    url: '/healthz',
    schema: {
      operationId: 'health',
      summary: 'Liveness: answers while the process runs; never reads the store',
      tags: ['health'],
      response: { 200: { type: 'object', properties: { status: { type: 'string', enum: ['ok'] } }, required: ['status'] } },
    },
    handler: async () => ({ status: 'ok' }),
  });

  fastify.route({
    method: 'GET',
    url: '/readyz',
    schema: {
      operationId: 'ready',
      summary: 'Readiness: the store answers, the event loop keeps up and this process, if it runs workers, claims',
      tags: ['health'],
      response: {
        200: { type: 'object', properties: { status: { type: 'string', enum: ['ready'] }, checks: checksSchema }, required: ['status', 'checks'] },
        ...problemResponses([503]),
      },
    },
    handler: async (request) => {
      const stats = await statsWithin(ctx, ctx.options.readyTimeoutMs);
      const loop = ctx.offload.loop();
      const loopCheck = { overloaded: loop.overloaded, delayP99Ms: loop.delayP99Ms, utilization: loop.utilization };
      if (stats === 'timeout' || 'error' in stats) {
        if (stats !== 'timeout') request.log.warn({ err: stats.error }, 'readiness: the store failed');
        const store = stats === 'timeout' ? 'timeout' : 'error';
        throw new HttpProblem(503, 'OFFLOAD_HTTP_NOT_READY', `the store did not answer (${store})`, { checks: { store, loop: loopCheck, workers: null } }, { 'retry-after': '1' });
      }
      const w = stats.workers;
      const workers = w === null ? null : { id: w.id, concurrency: w.concurrency, running: w.running, claiming: w.claiming };
      const checks = { store: 'ok', loop: loopCheck, workers };
      if (loop.overloaded) throw new HttpProblem(503, 'OFFLOAD_HTTP_NOT_READY', 'the event loop is overloaded', { checks }, { 'retry-after': '1' });
      if (workers !== null && !workers.claiming) throw new HttpProblem(503, 'OFFLOAD_HTTP_NOT_READY', 'the workers of this process are not claiming jobs', { checks }, { 'retry-after': '1' });
      // Connected but not claiming: the store answers reads while refusing the claims (three in a row, a few polls).
      if (w !== null && w.claimFailuresInARow >= 3) {
        throw new HttpProblem(503, 'OFFLOAD_HTTP_NOT_READY', `the workers' last ${w.claimFailuresInARow} claims failed`, { checks }, { 'retry-after': '1' });
      }
      return { status: 'ready', checks };
    },
  });
}

export function openApiRoute(fastify: FastifyInstance, ctx: HttpContext, collector: OpenApiCollector): void {
  fastify.route({
    method: 'GET',
    url: '/openapi.json',
    // Left out of the document it serves.
    handler: async () => collector.document({ title: 'offload', version: API_VERSION, securityEnabled: ctx.options.tokens.enabled }),
  });
}
