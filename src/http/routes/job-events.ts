/**
 * GET /v1/jobs/:id/events: Server-Sent Events of a job's state and progress until it ends.
 *
 * Events (each `data` is one JSON line):
 *   state     the job (without payload) when it is first read and whenever its state, attempt or
 *             run time changed. The last one has a final state; the stream then ends.
 *   progress  `{ id, progress }` whenever the progress value changed without a state change.
 *   gone      `{ id }`: the job was deleted or pruned while followed; the stream ends.
 * The stream also ends when the server closes. Changes are read from the store (job-watch.ts), so
 * progress reported by a worker in another process arrives too; a change that is overwritten
 * before the next read is not seen (the stream reports states, not every write).
 */
import type { FastifyInstance } from 'fastify';
import type { Job } from '../../index.ts';
import type { HttpContext } from '../context.ts';
import { jobView } from '../job-view.ts';
import { problemResponses } from '../problem-schema.ts';
import { SseStream } from '../sse.ts';
import { jobIdParams, notFound } from './jobs.ts';

const FINAL = new Set(['completed', 'cancelled', 'discarded']);

function stateKey(job: Job): string {
  return `${job.state}|${job.attempt}|${job.runAt.getTime()}|${job.cancelRequestedAt?.getTime() ?? ''}`;
}

export function jobEventRoutes(fastify: FastifyInstance, ctx: HttpContext): void {
  fastify.route({
    method: 'GET',
    url: '/v1/jobs/:id/events',
    onRequest: ctx.auth('read'),
    schema: {
      operationId: 'followJob',
      summary: 'Follow a job: server-sent events of its state and progress until it ends',
      tags: ['jobs'],
      params: jobIdParams,
      response: {
        200: {
          description: 'An event stream: `state` (the job without payload), `progress` ({ id, progress }), `gone` ({ id }).',
          content: { 'text/event-stream': { schema: { type: 'string' } } },
        },
        ...problemResponses([401, 403, 404, 503]),
      },
    },
    handler: async (request, reply) => {
      const { id } = request.params as { id: string };
      // The first read decides between a 404 and a stream, so a wrong id is an ordinary error.
      const first = await ctx.offload.jobs.get(id);
      if (first === null) throw notFound(id);

      const sse = new SseStream({ keepAliveMs: ctx.options.sseKeepAliveMs, retryMs: 2000, maxBufferedBytes: 1 << 20 });
      let lastState: string | null = null;
      let lastProgress: string | null = null;
      const deliver = (job: Job | null) => {
        if (sse.ended) return;
        if (job === null) {
          sse.send('gone', { id });
          return sse.end();
        }
        const s = stateKey(job);
        const p = JSON.stringify(job.progress ?? null);
        if (s !== lastState) sse.send('state', jobView(job, { payload: false, redact: null }));
        else if (p !== lastProgress) sse.send('progress', { id: job.id, progress: job.progress ?? null });
        lastState = s;
        lastProgress = p;
        if (FINAL.has(job.state)) sse.end();
      };
      deliver(first);
      // A job already final has ended the stream: nothing to follow, the reply sends what it holds.
      const unwatch = sse.ended
        ? () => {}
        : ctx.watcher.watch(id, {
            job: deliver,
            error: (err) => request.log.warn({ err, jobId: id }, 'reading a followed job failed; retrying'),
          });
      return sse.reply(reply, ctx.closing, unwatch);
    },
  });
}
