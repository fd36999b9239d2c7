/**
 * What offload's log lines carry, whatever logger the user passes: the ids that bind a line to a
 * job and its trace, a job's shape without its data, and redaction paths for payloads.
 *
 * Field names: `jobId`, `task`, `queue` and `attempt` as everywhere in offload; `trace_id` and
 * `span_id` as in OpenTelemetry's log data model and its pino instrumentation, so log backends
 * that already join logs to traces on those fields join offload's lines too.
 *
 * Payloads, results and progress are user data: offload never logs them. A handler that logs its
 * payload under the `payload` key (or a job under `job`) has the paths given to
 * `redactPayloadPaths` censored.
 */
import { OffloadError } from '../errors.ts';
import type { Job } from '../types.ts';
import type { TraceIds } from './tracing.ts';

/** The fields of a job that name it in a log line. */
export interface JobLogBindings {
  jobId: string;
  task: string;
  queue: string;
  attempt: number;
  trace_id?: string;
  span_id?: string;
}

/**
 * Bindings for the logger of one attempt (`logger.child(jobBindings(job, trace))`), which becomes
 * the handler's `ctx.log`: every line it writes names the job, its attempt and, when tracing is
 * active, the attempt's span.
 * @example
 * const log = logger.child(jobBindings(job, trace))
 * log.info('sending')   // {"jobId":"42","task":"emails.send","queue":"mail","attempt":1,"trace_id":"4bf9...","span_id":"00f0...","msg":"sending"}
 */
export function jobBindings(job: Pick<Job, 'id' | 'task' | 'queue' | 'attempt'>, trace: TraceIds | null = null): JobLogBindings {
  const b: JobLogBindings = { jobId: job.id, task: job.task, queue: job.queue, attempt: job.attempt };
  if (trace !== null) {
    b.trace_id = trace.traceId;
    b.span_id = trace.spanId;
  }
  return b;
}

/** What a job looks like in a log line: everything but the user's data (payload, result, progress). */
export type JobLogView = Omit<Job, 'payload' | 'result' | 'progress' | 'errors'> & { errors: number };

/**
 * A job for logging: ids, state, times and counts, never its payload, result or progress. The
 * loggers offload builds use it as the serializer of the `job` key, so `log.info({ job })` is safe.
 * @example
 * pino({ serializers: { job: jobLogView } })
 */
export function jobLogView(job: unknown): unknown {
  if (typeof job !== 'object' || job === null || !('id' in job) || !('task' in job)) return job;
  const { payload: _payload, result: _result, progress: _progress, errors, ...rest } = job as Job;
  return { ...rest, errors: Array.isArray(errors) ? errors.length : 0 };
}

/** The pino `redact` option: censored paths and the text that replaces them. */
export interface PayloadRedaction {
  paths: string[];
  censor: string;
}

export const REDACTED = '[redacted]';

// A path inside a payload, in pino's (fast-redact's) syntax: identifiers or `*` joined by dots, or
// bracketed quoted keys and `[*]`. Checked here so that a typo is an OFFLOAD_INVALID_OPTIONS naming
// the path, not a failure deep inside the logger at startup.
const SEGMENT = String.raw`(?:[A-Za-z_$][\w$]*|\*)`;
const BRACKET = String.raw`\[(?:\*|"[^"]*"|'[^']*'|\d+)\]`;
const PATH = new RegExp(String.raw`^(?:${SEGMENT}|${BRACKET})(?:\.${SEGMENT}|${BRACKET})*$`);

/**
 * Turns paths inside a job's payload (`'password'`, `'card.number'`, `'users[*].email'`) into a
 * pino `redact` option that censors them wherever offload or a handler logs a payload: under
 * `payload` and under `job.payload`.
 * @example
 * const logger = pino({ redact: redactPayloadPaths(['password', 'card.number']) })
 * createOffload({ store, tasks, logger })
 */
export function redactPayloadPaths(paths: readonly string[]): PayloadRedaction {
  if (!Array.isArray(paths)) throw new OffloadError('OFFLOAD_INVALID_OPTIONS', 'redact: expected an array of paths inside the payload');
  const out: string[] = [];
  for (const [i, p] of paths.entries()) {
    if (typeof p !== 'string' || !PATH.test(p)) {
      throw new OffloadError('OFFLOAD_INVALID_OPTIONS', `redact[${i}]: ${JSON.stringify(p)} is not a path inside the payload (like 'password', 'card.number' or 'users[*].email')`);
    }
    const sep = p.startsWith('[') ? '' : '.';
    out.push(`payload${sep}${p}`, `job.payload${sep}${p}`);
  }
  return { paths: out, censor: REDACTED };
}
