/**
 * POST /v1/jobs/bulk: retry, cancel or delete every job matching a filter, in batches the server
 * runs (bulk.ts); or, with `dryRun`, count them. Needs the `admin` scope, as the single-job actions.
 */
import type { FastifyInstance } from 'fastify';
import { answerBulk, bulkAnswerSchema, bulkRequestSchema, type BulkRequest } from '../bulk.ts';
import type { HttpContext } from '../context.ts';
import { problemResponses } from '../problem-schema.ts';

export function jobBulkRoutes(fastify: FastifyInstance, ctx: HttpContext): void {
  fastify.route({
    method: 'POST',
    url: '/v1/jobs/bulk',
    onRequest: ctx.auth('admin'),
    schema: {
      operationId: 'bulkJobs',
      summary: 'Retry, cancel or delete every job matching a filter, in server-side batches; or count them (dryRun)',
      description:
        'Acts only on jobs that existed when the run started, one batch (one transaction) at a time, each fenced by state as the single-job actions are. ' +
        'With `Accept: text/event-stream` the answer is a stream: `progress` after every batch, then `done` (or `error`).',
      tags: ['jobs'],
      body: bulkRequestSchema,
      response: {
        200: {
          description: 'The counts of the run, or with dryRun the count of jobs it would touch. As an event stream: `progress`, `done`, `error`.',
          content: {
            'application/json': { schema: bulkAnswerSchema },
            'text/event-stream': { schema: { type: 'string' } },
          },
        },
        ...problemResponses([400, 401, 403, 413, 415, 422, 503]),
      },
    },
    handler: async (request, reply) =>
      answerBulk({ offload: ctx.offload, closing: ctx.closing, keepAliveMs: ctx.options.sseKeepAliveMs }, request.body as BulkRequest, request, reply),
  });
}
