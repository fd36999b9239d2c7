/**
 * GET /v1/queues (depth by state, drain rate, estimated wait, bound), and
 * POST /v1/queues/:name/pause and /resume (stored: every process sharing the store obeys).
 */
import type { FastifyInstance } from 'fastify';
import type { HttpContext } from '../context.ts';
import { problemResponses } from '../problem-schema.ts';
import type { JsonSchema } from '../validator.ts';
import { NAME_PATTERN } from './submit.ts';

const STATES = ['scheduled', 'available', 'running', 'retryable', 'completed', 'cancelled', 'discarded'];

export const queueSchema: JsonSchema = {
  type: 'object',
  description: 'A queue: its jobs by state, how fast it drains and how long a new job would wait.',
  properties: {
    name: { type: 'string' },
    paused: { type: 'boolean' },
    counts: {
      type: 'object',
      description: 'Jobs by state (completed, cancelled and discarded: those still retained).',
      properties: Object.fromEntries(STATES.map((s) => [s, { type: 'integer' }])),
      required: STATES,
    },
    waiting: { type: 'integer', description: 'scheduled + available + retryable: what maxBacklog bounds.' },
    drainPerSec: { type: 'number', description: 'Jobs that reached a final state per second, over the last 10 s, all processes.' },
    estimatedWaitMs: { type: ['integer', 'null'], description: 'waiting / drainPerSec; null when jobs wait and nothing drains.' },
    maxBacklog: { type: ['integer', 'null'], description: 'Submits beyond this many waiting jobs get 429; null when unbounded.' },
  },
  required: ['name', 'paused', 'counts', 'waiting', 'drainPerSec', 'estimatedWaitMs', 'maxBacklog'],
};

const nameParams: JsonSchema = {
  type: 'object',
  required: ['name'],
  properties: { name: { type: 'string', minLength: 1, maxLength: 200, pattern: NAME_PATTERN } },
};

export function queueRoutes(fastify: FastifyInstance, ctx: HttpContext): void {
  const { offload } = ctx;
  fastify.route({
    method: 'GET',
    url: '/v1/queues',
    onRequest: ctx.auth('read'),
    schema: {
      operationId: 'listQueues',
      summary: 'Every queue: depth by state, drain rate, estimated wait',
      tags: ['queues'],
      response: {
        200: { type: 'object', properties: { queues: { type: 'array', items: queueSchema } }, required: ['queues'] },
        ...problemResponses([401, 403, 503]),
      },
    },
    handler: async () => ({ queues: await offload.queues.list() }),
  });

  for (const action of ['pause', 'resume'] as const) {
    fastify.route({
      method: 'POST',
      url: `/v1/queues/:name/${action}`,
      onRequest: ctx.auth('admin'),
      schema: {
        operationId: `${action}Queue`,
        summary: action === 'pause' ? 'Stop every worker from claiming this queue (running jobs finish)' : 'Let workers claim this queue again',
        tags: ['queues'],
        params: nameParams,
        response: { 200: queueSchema, ...problemResponses([400, 401, 403, 503]) },
      },
      handler: async (request) => {
        const { name } = request.params as { name: string };
        return action === 'pause' ? offload.queues.pause(name) : offload.queues.resume(name);
      },
    });
  }
}
