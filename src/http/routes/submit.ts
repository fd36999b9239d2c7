/**
 * POST /v1/jobs and POST /v1/jobs:batch: the door through which work enters.
 *
 * One job: 202 with the job and its Location; with an `Idempotency-Key` header, a replay with the
 * same payload answers 200 with the job made the first time (and `Idempotent-Replayed: true`),
 * another payload 409. Many jobs of one task: one transaction, all of them or none.
 * Refusals come from the client's own checks and are mapped in problem.ts: 422 for a payload the
 * task's schema refuses or an unknown task, 413 for a payload over `maxPayloadBytes`, 429 with
 * Retry-After when the queue's backlog is full.
 */
import type { FastifyInstance } from 'fastify';
import type { EnqueueOptions } from '../../index.ts';
import type { HttpContext } from '../context.ts';
import { jobSchema, jobView } from '../job-view.ts';
import { HttpProblem } from '../problem.ts';
import { problemResponses } from '../problem-schema.ts';
import type { JsonSchema } from '../validator.ts';

export const NAME_PATTERN = '^[A-Za-z0-9][A-Za-z0-9._:-]*$';
const nameSchema = (description: string): JsonSchema => ({ type: 'string', minLength: 1, maxLength: 200, pattern: NAME_PATTERN, description });

/** The enqueue options a request may set, shared by both routes. */
const optionProperties: Record<string, JsonSchema> = {
  runAt: { type: 'string', format: 'date-time', description: 'When the job may run first. Exclusive with delayMs.' },
  delayMs: { type: 'integer', minimum: 0, maximum: 315_360_000_000, description: 'Delay before the job may run first. Exclusive with runAt.' },
  priority: { type: 'integer', minimum: -32768, maximum: 32767, description: "Lower runs first. Default: the task's." },
  queue: nameSchema("Queue. Default: the task's."),
  ttlMs: {
    type: 'integer',
    minimum: 1,
    maximum: 315_360_000_000,
    description: 'Deadline to start, from now: a job not started within ttlMs never runs (it ends cancelled, reason expired). Exclusive with expiresAt.',
  },
  expiresAt: { type: 'string', format: 'date-time', description: 'Deadline to start, absolute (see ttlMs). Exclusive with ttlMs.' },
};

interface OptionFields {
  runAt?: string;
  delayMs?: number;
  priority?: number;
  queue?: string;
  ttlMs?: number;
  expiresAt?: string;
}

function enqueueOptions(body: OptionFields): EnqueueOptions {
  const o: EnqueueOptions = {};
  if (body.runAt !== undefined) o.runAt = new Date(body.runAt);
  if (body.delayMs !== undefined) o.delayMs = body.delayMs;
  if (body.priority !== undefined) o.priority = body.priority;
  if (body.queue !== undefined) o.queue = body.queue;
  if (body.ttlMs !== undefined) o.ttlMs = body.ttlMs;
  if (body.expiresAt !== undefined) o.expiresAt = new Date(body.expiresAt);
  return o;
}

const idempotencyHeader: JsonSchema = {
  type: 'object',
  properties: {
    'idempotency-key': {
      type: 'string',
      minLength: 1,
      maxLength: 512,
      description: 'Makes the submit safe to repeat: the same key and payload return the first job (200); another payload is refused (409).',
    },
  },
};

function refuseKey(message: string): HttpProblem {
  return new HttpProblem(400, 'OFFLOAD_HTTP_BAD_REQUEST', `Idempotency-Key ${message}`, { errors: [{ in: 'header', pointer: '/idempotency-key', message }] });
}

/**
 * The Idempotency-Key header as the client wrote it. Node reads header bytes as latin1, so a UTF-8
 * key (`café`) would be stored as other text (`cafÃ©`) and not be found by `?idempotencyKey=`;
 * and it joins repeated headers with ", " into a key nobody sent. So: decoded as UTF-8, refused
 * when it is not UTF-8, and refused when given twice.
 */
function idempotencyKeyOf(rawHeaders: readonly string[]): string | undefined {
  const found: string[] = [];
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) if (rawHeaders[i]!.toLowerCase() === 'idempotency-key') found.push(rawHeaders[i + 1]!);
  if (found.length === 0) return undefined;
  if (found.length > 1) throw refuseKey('must be given once');
  const bytes = Buffer.from(found[0]!, 'latin1');
  const key = bytes.toString('utf8');
  if (!Buffer.from(key, 'utf8').equals(bytes)) throw refuseKey('must be UTF-8 text');
  return key;
}

export function submitRoutes(fastify: FastifyInstance, ctx: HttpContext): void {
  const { offload } = ctx;

  fastify.route({
    method: 'POST',
    url: '/v1/jobs',
    onRequest: ctx.auth('submit'),
    schema: {
      operationId: 'submitJob',
      summary: 'Submit a job',
      tags: ['jobs'],
      headers: idempotencyHeader,
      body: {
        type: 'object',
        additionalProperties: false,
        required: ['task'],
        properties: {
          task: nameSchema('Name of a task registered with the server.'),
          payload: { description: "Any JSON value, validated against the task's schema. Default null." },
          ...optionProperties,
        },
      },
      response: {
        202: { ...jobSchema, description: 'Accepted: the job was created.' },
        200: { ...jobSchema, description: 'A replay: the job made earlier with this Idempotency-Key and payload.' },
        ...problemResponses([400, 401, 403, 409, 413, 415, 422, 429, 503]),
      },
    },
    handler: async (request, reply) => {
      const body = request.body as OptionFields & { task: string; payload?: unknown };
      const key = idempotencyKeyOf(request.raw.rawHeaders);
      const options = enqueueOptions(body);
      if (key !== undefined) options.idempotencyKey = key;
      const { job, created } = await offload.enqueue(body.task, body.payload ?? null, options);
      reply.code(created ? 202 : 200).header('location', ctx.url(`/v1/jobs/${job.id}`));
      if (!created) reply.header('idempotent-replayed', 'true');
      return jobView(job, { redact: ctx.options.redact });
    },
  });

  fastify.route({
    method: 'POST',
    // `::` is a literal colon in Fastify's router: the path is /v1/jobs:batch.
    url: '/v1/jobs::batch',
    onRequest: ctx.auth('submit'),
    schema: {
      operationId: 'submitJobs',
      summary: 'Submit many jobs of one task, all or nothing',
      tags: ['jobs'],
      headers: idempotencyHeader,
      body: {
        type: 'object',
        additionalProperties: false,
        required: ['task', 'payloads'],
        properties: {
          task: nameSchema('Name of a task registered with the server.'),
          payloads: { type: 'array', minItems: 1, maxItems: ctx.options.maxBatchSize, description: 'One job per payload, in this order.' },
          ...optionProperties,
        },
      },
      response: {
        202: {
          type: 'object',
          description: 'Accepted: every job was created, in the order of the payloads.',
          properties: { jobs: { type: 'array', items: jobSchema } },
          required: ['jobs'],
        },
        ...problemResponses([400, 401, 403, 413, 415, 422, 429, 503]),
      },
    },
    handler: async (request, reply) => {
      if (request.headers['idempotency-key'] !== undefined) {
        throw new HttpProblem(400, 'OFFLOAD_HTTP_BAD_REQUEST', 'a batch takes no Idempotency-Key (keys are per job): submit keyed jobs one by one', {
          errors: [{ in: 'header', pointer: '/idempotency-key', message: 'is not accepted on a batch' }],
        });
      }
      const body = request.body as OptionFields & { task: string; payloads: unknown[] };
      const results = await offload.enqueueMany(body.task, body.payloads, enqueueOptions(body));
      reply.code(202);
      return { jobs: results.map((r) => jobView(r.job, { redact: ctx.options.redact })) };
    },
  });
}
