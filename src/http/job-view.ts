/**
 * How a job looks over HTTP: dates as RFC 3339 strings, the attempt history without stacks (they
 * name server paths), and the derived wait and run times. The JSON schema beside it is the
 * response schema of every route that returns a job, and so also what /openapi.json publishes.
 */
import type { Job } from '../index.ts';
import type { PayloadRedactor } from './redact.ts';
import type { JsonSchema } from './validator.ts';

export interface AttemptErrorView {
  attempt: number;
  at: string;
  name: string;
  message: string;
  code: string | null;
}

export interface JobView {
  id: string;
  task: string;
  queue: string;
  state: Job['state'];
  priority: number;
  attempt: number;
  maxAttempts: number;
  timeoutMs: number | null;
  idempotencyKey: string | null;
  /** Left out of the server-sent events and of the result long-poll: the client sent it. */
  payload?: unknown;
  progress: unknown;
  result: unknown;
  errors: AttemptErrorView[];
  cancelReason: string | null;
  cancelRequestedAt: string | null;
  workerId: string | null;
  runAt: string;
  createdAt: string;
  attemptedAt: string | null;
  finishedAt: string | null;
  /** Deadline to start: not started by then, the job never runs (cancelled, reason `expired`). */
  expiresAt: string | null;
  /** From creation to the start of the latest attempt; null before the first attempt. */
  waitMs: number | null;
  /** From the start of the latest attempt to the end; null until the job is final after an attempt. */
  runMs: number | null;
}

const iso = (d: Date | null): string | null => (d === null ? null : d.toISOString());

/**
 * The view of a job. `redact`: the payload's redacted paths (options `redact`) are replaced
 * before it leaves the server.
 * @example
 * reply.send(jobView(await offload.jobs.get(id), { redact: ctx.options.redact }))
 */
export function jobView(job: Job, options: { payload?: boolean; redact: PayloadRedactor | null }): JobView {
  const started = job.attemptedAt?.getTime() ?? null;
  const finished = job.finishedAt?.getTime() ?? null;
  return {
    id: job.id,
    task: job.task,
    queue: job.queue,
    state: job.state,
    priority: job.priority,
    attempt: job.attempt,
    maxAttempts: job.maxAttempts,
    timeoutMs: job.timeoutMs,
    idempotencyKey: job.idempotencyKey,
    ...(options.payload === false ? {} : { payload: options.redact === null ? job.payload : options.redact(job.payload) }),
    progress: job.progress ?? null,
    result: job.result ?? null,
    errors: job.errors.map((e) => ({ attempt: e.attempt, at: e.at.toISOString(), name: e.name, message: e.message, code: e.code ?? null })),
    cancelReason: job.cancelReason,
    cancelRequestedAt: iso(job.cancelRequestedAt),
    workerId: job.workerId,
    runAt: job.runAt.toISOString(),
    createdAt: job.createdAt.toISOString(),
    attemptedAt: iso(job.attemptedAt),
    finishedAt: iso(job.finishedAt),
    expiresAt: iso(job.expiresAt),
    waitMs: started === null ? null : Math.max(0, started - job.createdAt.getTime()),
    runMs: started === null || finished === null ? null : Math.max(0, finished - started),
  };
}

const JOB_STATE_NAMES = ['scheduled', 'available', 'running', 'retryable', 'completed', 'cancelled', 'discarded'];

const nullable = (type: string, extra: JsonSchema = {}): JsonSchema => ({ type: [type, 'null'], ...extra });
const dateTime = (description: string): JsonSchema => ({ type: 'string', format: 'date-time', description });

export const jobStateSchema: JsonSchema = { type: 'string', enum: JOB_STATE_NAMES };

export const jobSchema: JsonSchema = {
  type: 'object',
  description: 'A job: one request to run a task with a payload.',
  properties: {
    id: { type: 'string', pattern: '^[0-9]+$', description: 'Decimal string (64-bit id).' },
    task: { type: 'string' },
    queue: { type: 'string' },
    state: jobStateSchema,
    priority: { type: 'integer', description: 'Lower runs first.' },
    attempt: { type: 'integer', description: 'Attempts charged so far, the running one included.' },
    maxAttempts: { type: 'integer' },
    timeoutMs: nullable('integer'),
    idempotencyKey: nullable('string'),
    payload: { description: 'The payload as the task schema output it (any JSON value).' },
    progress: { description: 'The latest value the handler reported with ctx.progress(), or null.' },
    result: { description: 'What the handler returned, once completed; null before.' },
    errors: {
      type: 'array',
      description: 'One entry per failed attempt, oldest first.',
      items: {
        type: 'object',
        properties: {
          attempt: { type: 'integer' },
          at: dateTime('When the attempt failed.'),
          name: { type: 'string' },
          message: { type: 'string' },
          code: nullable('string'),
        },
        required: ['attempt', 'at', 'name', 'message', 'code'],
      },
    },
    cancelReason: nullable('string'),
    cancelRequestedAt: nullable('string', { format: 'date-time' }),
    workerId: nullable('string', { description: 'The worker that ran (or runs) the latest attempt.' }),
    runAt: dateTime('When the job is (or was) due.'),
    createdAt: dateTime('When the job was enqueued.'),
    attemptedAt: nullable('string', { format: 'date-time', description: 'Start of the latest attempt.' }),
    finishedAt: nullable('string', { format: 'date-time' }),
    expiresAt: nullable('string', { format: 'date-time', description: 'Deadline to start; a job not started by then ends cancelled with reason expired.' }),
    waitMs: nullable('integer', { description: 'From creation to the start of the latest attempt.' }),
    runMs: nullable('integer', { description: 'From the start of the latest attempt to the end.' }),
  },
  required: [
    'id', 'task', 'queue', 'state', 'priority', 'attempt', 'maxAttempts', 'timeoutMs', 'idempotencyKey', 'progress', 'result', 'errors',
    'cancelReason', 'cancelRequestedAt', 'workerId', 'runAt', 'createdAt', 'attemptedAt', 'finishedAt', 'expiresAt', 'waitMs', 'runMs',
  ],
};
