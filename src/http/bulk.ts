/**
 * A bulk action over HTTP: the request body, its check, and the answer, shared by the API route
 * (POST /v1/jobs/bulk, routes/jobs-bulk.ts) and the dashboard's (POST /dashboard/jobs/bulk).
 *
 * Answers: with `dryRun`, how many jobs the action would touch now (counted up to `max`).
 * Otherwise the run's counts as JSON once it ends or, when the client asks for
 * `text/event-stream`, a `progress` event after every batch and one `done` (or `error`) event at
 * the end. A stream's run stops between two batches when the client goes away or the server
 * closes; a JSON run stops only on the server closing (the client would see nothing of it).
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { BulkAction, BulkProgress, BulkResult, JobBulkFilter, Offload } from '../index.ts';
import { jobStateSchema } from './job-view.ts';
import { toProblem } from './problem.ts';
import { SseStream } from './sse.ts';
import { compileSchema, RequestValidationError, type JsonSchema } from './validator.ts';

export interface BulkRequest {
  action: BulkAction;
  filter: JobBulkFilter;
  max?: number;
  reason?: string;
  dryRun?: boolean;
}

export const bulkRequestSchema: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['action', 'filter'],
  properties: {
    action: { type: 'string', enum: ['retry', 'cancel', 'delete'] },
    filter: {
      type: 'object',
      additionalProperties: false,
      description: 'Which jobs: at least one field. To act on every job, name every state.',
      properties: {
        state: { type: 'array', items: jobStateSchema, minItems: 1, maxItems: 7 },
        task: { type: 'string', minLength: 1, maxLength: 200 },
        queue: { type: 'string', minLength: 1, maxLength: 200 },
        idempotencyKey: { type: 'string', minLength: 1, maxLength: 512 },
      },
    },
    max: { type: 'integer', minimum: 1, maximum: 1_000_000, description: 'Act on at most this many jobs. Default 100000.' },
    reason: { type: 'string', minLength: 1, maxLength: 500, description: "cancel: stored as the jobs' cancelReason." },
    dryRun: { type: 'boolean', description: 'Count the jobs the action would touch now; change nothing.' },
  },
};

/** The JSON answer: the counts of a run, or with dryRun the count of what it would touch. */
export const bulkAnswerSchema: JsonSchema = {
  type: 'object',
  properties: {
    action: { type: 'string', enum: ['retry', 'cancel', 'delete'] },
    changed: { type: 'integer', description: 'A run: jobs retried, cancelled or deleted.' },
    requested: { type: 'integer', description: 'A cancel run: running jobs asked to stop (they end cancelled once their worker sees it).' },
    batches: { type: 'integer', description: 'A run: batches (transactions) it took.' },
    stoppedBy: { type: 'string', enum: ['done', 'max', 'signal'], description: 'A run: done, nothing left; max, the budget ran out; signal, the server closed.' },
    count: { type: 'integer', description: 'dryRun: jobs matching the filter in a state the action applies to, up to max.' },
    capped: { type: 'boolean', description: 'dryRun: the count stopped at max (at least that many).' },
  },
  required: ['action'],
};

const check = compileSchema(bulkRequestSchema, { coerceStrings: false });

/** Checks a body that no route schema checked (the dashboard's route receives JSON text). */
export function parseBulkRequest(body: unknown): BulkRequest {
  let value = body;
  if (typeof body === 'string') {
    try {
      value = JSON.parse(body);
    } catch {
      throw new RequestValidationError([{ pointer: '', message: 'is not JSON' }]);
    }
  }
  const r = check(value);
  if ('issues' in r) throw new RequestValidationError(r.issues);
  return r.value as BulkRequest;
}

async function run(offload: Offload, b: BulkRequest, signal: AbortSignal, onProgress: (p: BulkProgress) => void): Promise<BulkResult> {
  const options = { signal, onProgress, ...(b.max === undefined ? {} : { max: b.max }) };
  if (b.action === 'retry') return offload.jobs.retryMany(b.filter, options);
  if (b.action === 'delete') return offload.jobs.deleteMany(b.filter, options);
  return offload.jobs.cancelMany(b.filter, { ...options, ...(b.reason === undefined ? {} : { reason: b.reason }) });
}

/** Answers a checked bulk request: a count, the counts as JSON, or a stream of progress. */
export async function answerBulk(
  deps: { offload: Offload; closing: AbortSignal; keepAliveMs: number },
  b: BulkRequest,
  request: FastifyRequest,
  reply: FastifyReply,
): Promise<unknown> {
  const { offload } = deps;
  void reply.header('cache-control', 'no-store');
  if (b.dryRun === true) {
    const counted = await offload.jobs.count(b.filter, { action: b.action, ...(b.max === undefined ? {} : { upTo: b.max }) });
    return { action: b.action, ...counted };
  }
  const accept = request.headers.accept ?? '';
  if (!accept.includes('text/event-stream')) return run(offload, b, deps.closing, () => {});

  const sse = new SseStream({ keepAliveMs: deps.keepAliveMs, retryMs: 2000, maxBufferedBytes: 1 << 20 });
  const stop = new AbortController();
  const first: { resolve?: () => void } = {};
  const firstBatch = new Promise<void>((resolve) => {
    first.resolve = resolve;
  });
  const running = run(offload, b, AbortSignal.any([stop.signal, deps.closing]), (p) => {
    first.resolve?.();
    sse.send('progress', p);
  });
  // The answer waits for the first batch (or the end): a run refused before it changed anything
  // (no filter, a filter no state fits) is then answered as a problem, not as a stream.
  try {
    await Promise.race([firstBatch, running]);
  } catch (err) {
    sse.end();
    throw err;
  }
  void running.then(
    (result) => {
      sse.send('done', result);
      sse.end();
    },
    (err: unknown) => {
      const p = toProblem(err, 0);
      if (p.status >= 500) request.log.error({ err, code: p.code }, 'bulk action failed');
      sse.send('error', { status: p.status, code: p.code, detail: p.detail });
      sse.end();
    },
  );
  // The client went away (or the server closes): the run stops after its current batch.
  return sse.reply(reply, deps.closing, () => stop.abort());
}
