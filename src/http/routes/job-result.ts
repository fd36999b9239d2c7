/**
 * GET /v1/jobs/:id/result?wait=30s: the job's outcome, waiting for it up to `wait`.
 *
 * 200 with the job (without payload) once it is final: `completed` with its `result`, or
 * `cancelled` / `discarded` with `cancelReason` and `errors`. 202 with the job as it is when the
 * wait ran out first, so a client can ask again. The wait ends early, with 202, when the client
 * disconnects (nothing is sent) or the server closes. Waiting uses `jobs.waitFor`, which polls the
 * store with growing pauses cut short by this process's own job events.
 */
import type { FastifyInstance } from 'fastify';
import { isOffloadError, type Job } from '../../index.ts';
import type { HttpContext } from '../context.ts';
import { DURATION_PATTERN, parseDuration } from '../duration.ts';
import { jobSchema, jobView } from '../job-view.ts';
import { HttpProblem } from '../problem.ts';
import { problemResponses } from '../problem-schema.ts';
import { jobIdParams, notFound } from './jobs.ts';

const FINAL = new Set(['completed', 'cancelled', 'discarded']);

export function jobResultRoutes(fastify: FastifyInstance, ctx: HttpContext): void {
  const { offload } = ctx;
  fastify.route({
    method: 'GET',
    url: '/v1/jobs/:id/result',
    onRequest: ctx.auth('read'),
    schema: {
      operationId: 'awaitJobResult',
      summary: 'Wait for a job to end (long-poll)',
      tags: ['jobs'],
      params: jobIdParams,
      querystring: {
        type: 'object',
        additionalProperties: false,
        properties: {
          wait: {
            type: 'string',
            pattern: DURATION_PATTERN,
            description: `How long to wait: 30s, 500ms, 2m or seconds. Default 0 (answer at once); at most ${ctx.options.maxWaitMs} ms.`,
          },
        },
      },
      response: {
        200: { ...jobSchema, description: 'The job is final: completed (see result), cancelled or discarded.' },
        202: { ...jobSchema, description: 'The wait ran out before the job ended; ask again.' },
        ...problemResponses([400, 401, 403, 404, 503]),
      },
    },
    handler: async (request, reply) => {
      const { id } = request.params as { id: string };
      const { wait } = request.query as { wait?: string };
      const waitMs = wait === undefined ? 0 : parseDuration(wait)!;
      if (waitMs > ctx.options.maxWaitMs) {
        throw new HttpProblem(400, 'OFFLOAD_HTTP_BAD_REQUEST', `wait is at most ${ctx.options.maxWaitMs} ms`, {
          errors: [{ in: 'query', pointer: '/wait', message: `must be at most ${ctx.options.maxWaitMs} ms` }],
        });
      }
      // Listening before the first read: a client that leaves during it must end the wait too,
      // or the server would poll for it for the whole `wait`.
      const abort = new AbortController();
      const stop = () => abort.abort(new Error('the wait was ended'));
      ctx.closing.addEventListener('abort', stop, { once: true });
      reply.raw.on('close', stop);
      let job: Job | null;
      try {
        job = await offload.jobs.get(id);
        if (job === null) throw notFound(id);
        if (!FINAL.has(job.state) && waitMs > 0 && !abort.signal.aborted) {
          try {
            job = await offload.jobs.waitFor(id, { timeoutMs: waitMs, signal: abort.signal });
          } catch (err) {
            // Out of time, client gone or server closing: answer with the job as it now is.
            if (!(isOffloadError(err, 'OFFLOAD_TIMEOUT') || abort.signal.aborted)) throw err;
            job = await offload.jobs.get(id);
            if (job === null) throw notFound(id);
          }
        }
      } finally {
        ctx.closing.removeEventListener('abort', stop);
        reply.raw.off('close', stop);
      }
      // Closing: this connection would otherwise idle on and hold the server's close() until the client drops it.
      if (ctx.closing.aborted) reply.header('connection', 'close');
      reply.code(FINAL.has(job.state) ? 200 : 202);
      return jobView(job, { payload: false, redact: null });
    },
  });
}
