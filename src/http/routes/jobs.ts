/**
 * Reading and controlling jobs: GET /v1/jobs (filters, search by idempotency key, cursor pages), GET /v1/jobs/:id,
 * POST /v1/jobs/:id/cancel, POST /v1/jobs/:id/retry, DELETE /v1/jobs/:id.
 */
import type { FastifyInstance } from 'fastify';
import type { JobState } from '../../index.ts';
import type { HttpContext } from '../context.ts';
import { jobSchema, jobStateSchema, jobView } from '../job-view.ts';
import { HttpProblem } from '../problem.ts';
import { problemResponses } from '../problem-schema.ts';
import type { JsonSchema } from '../validator.ts';

export const jobIdParams: JsonSchema = {
  type: 'object',
  required: ['id'],
  properties: { id: { type: 'string', description: 'The job id (a decimal string).' } },
};

export function notFound(id: string): HttpProblem {
  return new HttpProblem(404, 'OFFLOAD_JOB_NOT_FOUND', `no job with id '${id}'`, { id });
}

export function jobRoutes(fastify: FastifyInstance, ctx: HttpContext): void {
  const { offload } = ctx;
  const view = { redact: ctx.options.redact };

  fastify.route({
    method: 'GET',
    url: '/v1/jobs',
    onRequest: ctx.auth('read'),
    schema: {
      operationId: 'listJobs',
      summary: 'List jobs, newest first',
      tags: ['jobs'],
      querystring: {
        type: 'object',
        additionalProperties: false,
        properties: {
          state: { type: 'array', items: jobStateSchema, minItems: 1, maxItems: 7, description: 'One or more states, comma-separated or repeated (an empty one is refused, not read as every state).' },
          task: { type: 'string', minLength: 1, maxLength: 200 },
          queue: { type: 'string', minLength: 1, maxLength: 200 },
          idempotencyKey: { type: 'string', minLength: 1, maxLength: 512, description: 'Jobs enqueued with this idempotency key, of any task.' },
          cursor: { type: 'string', pattern: '^[0-9]{1,18}$', description: "The previous page's nextCursor." },
          limit: { type: 'integer', minimum: 1, maximum: 1000, description: 'Page size. Default 100.' },
        },
      },
      response: {
        200: {
          type: 'object',
          properties: { jobs: { type: 'array', items: jobSchema }, nextCursor: { type: ['string', 'null'] } },
          required: ['jobs', 'nextCursor'],
        },
        ...problemResponses([400, 401, 403, 503]),
      },
    },
    handler: async (request, reply) => {
      const q = request.query as { state?: JobState[]; task?: string; queue?: string; idempotencyKey?: string; cursor?: string; limit?: number };
      const page = await offload.jobs.list({
        ...(q.state !== undefined && q.state.length > 0 ? { state: q.state } : {}),
        ...(q.task !== undefined ? { task: q.task } : {}),
        ...(q.queue !== undefined ? { queue: q.queue } : {}),
        ...(q.idempotencyKey !== undefined ? { idempotencyKey: q.idempotencyKey } : {}),
        ...(q.cursor !== undefined ? { cursor: q.cursor } : {}),
        ...(q.limit !== undefined ? { limit: q.limit } : {}),
      });
      if (page.nextCursor !== null) {
        const next = new URLSearchParams();
        if (q.state !== undefined && q.state.length > 0) next.set('state', q.state.join(','));
        if (q.task !== undefined) next.set('task', q.task);
        if (q.queue !== undefined) next.set('queue', q.queue);
        if (q.idempotencyKey !== undefined) next.set('idempotencyKey', q.idempotencyKey);
        if (q.limit !== undefined) next.set('limit', String(q.limit));
        next.set('cursor', page.nextCursor);
        reply.header('link', `<${ctx.url(`/v1/jobs?${next.toString()}`)}>; rel="next"`);
      }
      return { jobs: page.jobs.map((j) => jobView(j, view)), nextCursor: page.nextCursor };
    },
  });

  fastify.route({
    method: 'GET',
    url: '/v1/jobs/:id',
    onRequest: ctx.auth('read'),
    schema: {
      operationId: 'getJob',
      summary: 'Read a job: state, attempts and their errors, progress, result, times',
      tags: ['jobs'],
      params: jobIdParams,
      response: { 200: jobSchema, ...problemResponses([401, 403, 404, 503]) },
    },
    handler: async (request) => {
      const { id } = request.params as { id: string };
      const job = await offload.jobs.get(id);
      if (job === null) throw notFound(id);
      return jobView(job, view);
    },
  });

  fastify.route({
    method: 'POST',
    url: '/v1/jobs/:id/cancel',
    onRequest: ctx.auth('admin'),
    schema: {
      operationId: 'cancelJob',
      summary: 'Cancel a job: a waiting one at once, a running one by aborting its signal',
      tags: ['jobs'],
      params: jobIdParams,
      body: {
        type: ['object', 'null'],
        additionalProperties: false,
        properties: { reason: { type: 'string', minLength: 1, maxLength: 500, description: "Stored as the job's cancelReason." } },
      },
      response: {
        200: { ...jobSchema, description: 'The job: cancelled, or still running with cancelRequestedAt set until its worker stops it.' },
        ...problemResponses([400, 401, 403, 404, 409, 415, 422, 503]),
      },
    },
    handler: async (request) => {
      const { id } = request.params as { id: string };
      const reason = (request.body as { reason?: string } | null)?.reason;
      return jobView(await offload.jobs.cancel(id, ...(reason === undefined ? [] : [reason])), view);
    },
  });

  fastify.route({
    method: 'POST',
    url: '/v1/jobs/:id/retry',
    onRequest: ctx.auth('admin'),
    schema: {
      operationId: 'retryJob',
      summary: 'Run a discarded, cancelled or waiting job now, with a fresh attempt budget',
      tags: ['jobs'],
      params: jobIdParams,
      response: { 200: jobSchema, ...problemResponses([401, 403, 404, 409, 503]) },
    },
    handler: async (request) => {
      const { id } = request.params as { id: string };
      return jobView(await offload.jobs.retry(id), view);
    },
  });

  fastify.route({
    method: 'DELETE',
    url: '/v1/jobs/:id',
    onRequest: ctx.auth('admin'),
    schema: {
      operationId: 'deleteJob',
      summary: 'Delete a job that is not running',
      tags: ['jobs'],
      params: jobIdParams,
      response: { 204: { description: 'Deleted.', type: 'null' }, ...problemResponses([401, 403, 404, 409, 503]) },
    },
    handler: async (request, reply) => {
      const { id } = request.params as { id: string };
      await offload.jobs.delete(id);
      return reply.code(204).send();
    },
  });
}
