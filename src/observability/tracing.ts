/**
 * Tracing through the OpenTelemetry API, and nothing else: no SDK, no exporter. The application
 * that wants traces installs and registers an SDK; offload only creates spans through
 * `@opentelemetry/api`, an optional peer dependency. Without it installed, `loadInstrumentation()`
 * resolves to null and the runtime runs untraced, at no cost.
 *
 * What the runtime does with an `Instrumentation` (the seam is this file's `Instrumentation`):
 *
 * - at enqueue, `inject()` returns the W3C trace context (`traceparent`, `tracestate`) of the span
 *   active in the caller, or null; the runtime stores it with the job (`Job.traceContext`).
 * - around each attempt, `runAttempt(job, fn)` runs the handler inside a CONSUMER span named
 *   `process <queue>`, following OpenTelemetry's messaging conventions for push-based "process"
 *   spans: it links to the job's creation context (the span that enqueued it) and, with the default
 *   `structure: 'child'`, is also its child, so one trace runs from an HTTP request to every attempt
 *   of the jobs it enqueued. A thrown error is recorded on the span (exception event, status ERROR,
 *   `error.type`); `snooze()` and `cancel()` are outcomes, not errors.
 *
 * The stored context is always W3C Trace Context, whatever propagator the application registered:
 * it is offload's own carrier, written and read only by offload, and an application that registered
 * no propagator at all (the API default) must still get its jobs linked.
 *
 * Attempts never take the ambient context as their parent. The claim loop runs in whatever async
 * context called `start()` (an HTTP request's span, in a dev server), and every job would otherwise
 * become a child of that one span; an attempt's parent is its job's creation context or nothing.
 */
import type * as otel from '@opentelemetry/api';
import { checkKeys } from '../core/options.ts';
import { isCancel, isSnooze } from '../core/outcome.ts';
import { OffloadError, serializeError } from '../errors.ts';

/** The ids of the span an attempt runs in, for log lines (`trace_id`, `span_id`). */
export interface TraceIds {
  traceId: string;
  spanId: string;
}

/** What tracing reads from a job. `Job` has all of it. */
export interface TracedJob {
  id: string;
  task: string;
  queue: string;
  attempt: number;
  /** The W3C trace context stored at enqueue (`traceparent`, optional `tracestate`), or null. */
  traceContext?: Readonly<Record<string, string>> | null;
}

/** The seam between the runtime and a tracing implementation. */
export interface Instrumentation {
  /**
   * The W3C trace context of the span active in the caller, to store with a job at enqueue, or
   * null when there is none (or it is invalid).
   */
  inject(): Record<string, string> | null;
  /**
   * Runs one attempt of `job` inside its consumer span. `fn` receives the span's ids (null when the
   * span has none, which only happens without a creation context and without an SDK) and runs in the
   * span's context, so spans the handler creates are its children. Resolves or rejects as `fn` does.
   */
  runAttempt<T>(job: TracedJob, fn: (trace: TraceIds | null) => Promise<T> | T): Promise<T>;
  /**
   * `undefined` when an attempt of `job` is recorded (run it with `runAttempt`). Otherwise nothing
   * would record it (no SDK registered) and this is what `runAttempt` would pass `fn`: the
   * enqueuer's ids, or null. The caller may then run the attempt without the span's wrapper.
   */
  unrecorded(job: TracedJob): TraceIds | null | undefined;
}

export interface TracingOptions {
  /**
   * `child` (default): an attempt's span is a child of the span that enqueued the job, and links to
   * it. One trace holds the request and every attempt of its jobs, even hours later.
   * `linked`: each attempt starts a trace of its own, linked to the enqueuing span. Choose it when
   * long-delayed or retried jobs make request traces too long to read.
   */
  structure?: 'child' | 'linked';
  /** Default: the global tracer provider (`trace.getTracerProvider()`). */
  tracerProvider?: otel.TracerProvider;
}

const OPTION_KEYS = ['structure', 'tracerProvider'];
const API = '@opentelemetry/api';

let apiModule: Promise<typeof otel | null> | null = null;

/**
 * Loads `@opentelemetry/api` (once per process) and returns an `Instrumentation` on it, or null when
 * the package is not installed. Rejects with `OFFLOAD_UNSUPPORTED` when it is installed but cannot
 * be loaded, and with `OFFLOAD_INVALID_OPTIONS` for bad options.
 * @example
 * const instrumentation = await loadInstrumentation({ structure: 'linked' })
 * const traceContext = instrumentation?.inject() ?? null   // at enqueue
 * await instrumentation.runAttempt(job, (ids) => handler(payload, ctx))
 */
export async function loadInstrumentation(options: TracingOptions = {}): Promise<Instrumentation | null> {
  const o = checkTracingOptions(options);
  apiModule ??= importApi();
  const api = await apiModule;
  return api === null ? null : otelInstrumentation(api, o);
}

async function importApi(): Promise<typeof otel | null> {
  try {
    return (await import(API)) as typeof otel;
  } catch (err) {
    apiModule = null; // a later call may find it (installed meanwhile): do not cache the failure
    if (isModuleNotFound(err)) return null;
    throw new OffloadError('OFFLOAD_UNSUPPORTED', `${API} is installed but could not be loaded: ${(err as Error).message}`, { cause: err });
  }
}

function isModuleNotFound(err: unknown): boolean {
  const e = err as { code?: unknown; message?: unknown } | null;
  // Only the package itself missing; a missing file inside an installed package is a broken install.
  return (e?.code === 'ERR_MODULE_NOT_FOUND' || e?.code === 'MODULE_NOT_FOUND') && typeof e.message === 'string' && e.message.includes(`'${API}'`);
}

function checkTracingOptions(options: TracingOptions): Required<Pick<TracingOptions, 'structure'>> & Pick<TracingOptions, 'tracerProvider'> {
  checkKeys(options, OPTION_KEYS, 'tracing');
  const structure = options.structure ?? 'child';
  if (structure !== 'child' && structure !== 'linked') {
    throw new OffloadError('OFFLOAD_INVALID_OPTIONS', `tracing: structure must be 'child' or 'linked', got ${JSON.stringify(structure)}`);
  }
  const provider = options.tracerProvider;
  if (provider !== undefined && typeof (provider as { getTracer?: unknown } | null)?.getTracer !== 'function') {
    throw new OffloadError('OFFLOAD_INVALID_OPTIONS', 'tracing: tracerProvider must have a getTracer() method');
  }
  return provider === undefined ? { structure } : { structure, tracerProvider: provider };
}

function otelInstrumentation(api: typeof otel, o: ReturnType<typeof checkTracingOptions>): Instrumentation {
  // Looked up once: a tracer from the global provider is a proxy that follows a later registration.
  const tracer = (o.tracerProvider ?? api.trace.getTracerProvider()).getTracer('offload');
  // With no SDK registered the global provider delegates to the no-op one, whose spans record
  // nothing: the span and context switch per attempt would then cost CPU (a few percent of a
  // busy worker's) for nothing. A fresh proxy's delegate is that no-op provider, so comparing
  // with it tells, per attempt, whether anything is registered (a later registration counts).
  // The proxy class is marked deprecated for API 2.0; should it go, `getDelegate` is looked up
  // structurally and every attempt is treated as recording, which is only slower.
  // oxlint-disable-next-line typescript/no-deprecated
  const noop = typeof api.ProxyTracerProvider === 'function' ? new api.ProxyTracerProvider().getDelegate() : null;
  const recording = () => {
    if (o.tracerProvider !== undefined || noop === null) return true;
    const global = api.trace.getTracerProvider() as { getDelegate?: () => unknown };
    return typeof global.getDelegate !== 'function' || global.getDelegate() !== noop;
  };
  const unrecorded = (job: TracedJob): TraceIds | null | undefined => {
    if (recording()) return undefined;
    // What the no-op span would have carried: the enqueuer's context, as the parent.
    const creation = o.structure === 'child' ? parseTraceContext(api, job.traceContext) : null;
    return creation === null ? null : { traceId: creation.traceId, spanId: creation.spanId };
  };
  return {
    unrecorded,
    inject() {
      const sc = api.trace.getSpanContext(api.context.active());
      return sc !== undefined && api.isSpanContextValid(sc) ? formatTraceContext(sc) : null;
    },
    async runAttempt(job, fn) {
      const bare = unrecorded(job);
      if (bare !== undefined) return fn(bare);
      const creation = parseTraceContext(api, job.traceContext);
      const parent = creation !== null && o.structure === 'child' ? api.trace.setSpanContext(api.ROOT_CONTEXT, creation) : api.ROOT_CONTEXT;
      const span = tracer.startSpan(
        `process ${job.queue}`,
        {
          kind: api.SpanKind.CONSUMER,
          attributes: {
            'messaging.system': 'offload',
            'messaging.operation.type': 'process',
            'messaging.operation.name': 'process',
            'messaging.destination.name': job.queue,
            'messaging.message.id': job.id,
            'offload.task': job.task,
            'offload.attempt': job.attempt,
          },
          links: creation === null ? [] : [{ context: creation }],
        },
        parent,
      );
      const sc = span.spanContext();
      const ids = api.isSpanContextValid(sc) ? { traceId: sc.traceId, spanId: sc.spanId } : null;
      try {
        const result = await api.context.with(api.trace.setSpan(parent, span), () => fn(ids));
        span.setAttribute('offload.outcome', 'returned');
        return result;
      } catch (err) {
        recordThrow(api, span, err);
        throw err;
      } finally {
        span.end();
      }
    },
  };
}

function recordThrow(api: typeof otel, span: otel.Span, err: unknown): void {
  if (isSnooze(err)) {
    span.setAttribute('offload.outcome', 'snoozed');
    span.addEvent('offload.snoozed', { 'offload.snooze.delay_ms': err.delayMs });
    return;
  }
  if (isCancel(err)) {
    span.setAttributes({ 'offload.outcome': 'cancelled', 'offload.cancel.reason': err.reason });
    return;
  }
  const s = serializeError(err);
  span.recordException(s.stack === undefined ? { name: s.name, message: s.message } : { name: s.name, message: s.message, stack: s.stack });
  span.setAttributes({ 'offload.outcome': 'failed', 'error.type': s.code ?? s.name });
  span.setStatus({ code: api.SpanStatusCode.ERROR, message: s.message });
}

// W3C Trace Context, level 1: version "00", 16-byte trace id, 8-byte parent id, 1-byte flags.
const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/;
// The spec's limit on tracestate (32 members of up to 256 + 1 characters would be more, but
// vendors truncate at 512); a longer one is dropped rather than stored with every job.
const MAX_TRACESTATE = 512;

function formatTraceContext(sc: otel.SpanContext): Record<string, string> {
  const carrier: Record<string, string> = { traceparent: `00-${sc.traceId}-${sc.spanId}-${(sc.traceFlags & 0xff).toString(16).padStart(2, '0')}` };
  const state = sc.traceState?.serialize();
  if (state !== undefined && state.length > 0 && state.length <= MAX_TRACESTATE) carrier['tracestate'] = state;
  return carrier;
}

/**
 * The span context stored with a job, or null when there is none or it is malformed: a bad
 * context loses the link, never the attempt.
 */
function parseTraceContext(api: typeof otel, carrier: Readonly<Record<string, string>> | null | undefined): otel.SpanContext | null {
  const header = carrier?.['traceparent'];
  if (typeof header !== 'string') return null;
  const m = TRACEPARENT.exec(header.trim());
  if (m === null) return null;
  const [, version, traceId, spanId, flags, rest] = m as unknown as [string, string, string, string, string, string | undefined];
  // Version ff is invalid; version 00 has no trailing fields; later versions may add some.
  if (version === 'ff' || (version === '00' && rest !== undefined)) return null;
  const sc: otel.SpanContext = { traceId, spanId, traceFlags: Number.parseInt(flags, 16), isRemote: true };
  if (!api.isSpanContextValid(sc)) return null; // all-zero ids
  const state = carrier?.['tracestate'];
  if (typeof state === 'string' && state.length > 0 && state.length <= MAX_TRACESTATE) sc.traceState = api.createTraceState(state);
  return sc;
}
