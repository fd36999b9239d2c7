/**
 * The tracing seam against a real OpenTelemetry SDK (in-memory exporter): what `inject()` stores at
 * enqueue and how `runAttempt()` parents, links and records each attempt.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { beforeEach, describe, it } from 'node:test';
import { createTraceState, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { cancel, snooze } from '../../src/core/outcome.ts';
import { isOffloadError, OffloadError } from '../../src/errors.ts';
import { loadInstrumentation, type Instrumentation, type TracedJob } from '../../src/observability/tracing.ts';
import { ids, onlySpan, registerTestTracing } from './otel.ts';

const t = registerTestTracing();
const tracer = trace.getTracer('test');

function job(traceContext: Record<string, string> | null, over: Partial<TracedJob> = {}): TracedJob {
  return { id: '42', task: 'emails.send', queue: 'mail', attempt: 1, traceContext, ...over };
}

/** inject() as the runtime calls it at enqueue, inside a span of the caller's. */
function enqueueInside(name: string, instr: Instrumentation): { carrier: Record<string, string> | null; spanId: string; traceId: string } {
  return tracer.startActiveSpan(name, { kind: SpanKind.SERVER }, (span) => {
    const carrier = instr.inject();
    span.end();
    return { carrier, ...span.spanContext() };
  });
}

describe('tracing: inject at enqueue', () => {
  beforeEach(() => t.exporter.reset());

  it('stores nothing when no span is active', async () => {
    const instr = (await loadInstrumentation())!;
    assert.equal(instr.inject(), null);
  });

  it('stores the W3C traceparent of the active span, and its tracestate', async () => {
    const instr = (await loadInstrumentation())!;
    const { carrier, traceId, spanId } = enqueueInside('POST /signup', instr);
    assert.deepEqual(carrier, { traceparent: `00-${traceId}-${spanId}-01` });
    // A span whose remote parent carried a tracestate inherits it; inject() passes it on.
    const remote = trace.setSpanContext(ROOT_CONTEXT, {
      traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
      spanId: '00f067aa0ba902b7',
      traceFlags: 1,
      isRemote: true,
      traceState: createTraceState('vendor=abc'),
    });
    const carried = tracer.startActiveSpan('POST /orders', {}, remote, (span) => (span.end(), { carrier: instr.inject(), spanId: span.spanContext().spanId }));
    assert.deepEqual(carried.carrier, { traceparent: `00-4bf92f3577b34da6a3ce929d0e0e4736-${carried.spanId}-01`, tracestate: 'vendor=abc' });
  });
});

describe('tracing: the span of an attempt', () => {
  beforeEach(() => t.exporter.reset());

  it('is a CONSUMER "process <queue>" span, child of and linked to the enqueuing span, with messaging attributes', async () => {
    const instr = (await loadInstrumentation())!;
    const request = enqueueInside('POST /signup', instr);
    let seen: unknown = null;
    const result = await instr.runAttempt(job(request.carrier), async (trace_) => {
      seen = trace_;
      // A span the handler creates after an await is a child of the attempt.
      await new Promise((resolve) => setImmediate(resolve));
      tracer.startSpan('smtp.send').end();
      return 'sent';
    });
    assert.equal(result, 'sent');
    const attempt = onlySpan(t, 'process mail');
    assert.equal(attempt.kind, SpanKind.CONSUMER);
    assert.equal(attempt.spanContext().traceId, request.traceId);
    assert.equal(ids(attempt.parentSpanContext), `${request.traceId}/${request.spanId}`);
    assert.deepEqual(attempt.links.map((l) => ids(l.context)), [`${request.traceId}/${request.spanId}`]);
    assert.deepEqual(attempt.attributes, {
      'messaging.system': 'offload',
      'messaging.operation.type': 'process',
      'messaging.operation.name': 'process',
      'messaging.destination.name': 'mail',
      'messaging.message.id': '42',
      'offload.task': 'emails.send',
      'offload.attempt': 1,
      'offload.outcome': 'returned',
    });
    assert.equal(attempt.status.code, SpanStatusCode.UNSET);
    assert.deepEqual(seen, { traceId: attempt.spanContext().traceId, spanId: attempt.spanContext().spanId });
    assert.equal(ids(onlySpan(t, 'smtp.send').parentSpanContext), ids(attempt.spanContext()));
  });

  it("with structure 'linked' starts a trace of its own, linked to the enqueuing span", async () => {
    const instr = (await loadInstrumentation({ structure: 'linked' }))!;
    const request = enqueueInside('POST /signup', instr);
    await instr.runAttempt(job(request.carrier), () => null);
    const attempt = onlySpan(t, 'process mail');
    assert.notEqual(attempt.spanContext().traceId, request.traceId);
    assert.equal(attempt.parentSpanContext, undefined);
    assert.deepEqual(attempt.links.map((l) => ids(l.context)), [`${request.traceId}/${request.spanId}`]);
  });

  it('keeps the tracestate of the creation context', async () => {
    const instr = (await loadInstrumentation())!;
    const request = enqueueInside('POST /signup', instr);
    await instr.runAttempt(job({ ...request.carrier!, tracestate: 'vendor=abc,other=1' }), () => null);
    assert.equal(onlySpan(t, 'process mail').links[0]!.context.traceState?.serialize(), 'vendor=abc,other=1');
  });

  it('never takes the ambient context as parent: a job enqueued outside any span starts a root span', async () => {
    const instr = (await loadInstrumentation())!;
    await tracer.startActiveSpan('worker started inside a request', async (ambient) => {
      await instr.runAttempt(job(null), () => null);
      ambient.end();
    });
    const attempt = onlySpan(t, 'process mail');
    assert.equal(attempt.parentSpanContext, undefined);
    assert.deepEqual(attempt.links, []);
  });

  it('records a thrown error (exception event, status ERROR, error.type) and rethrows it', async () => {
    const instr = (await loadInstrumentation())!;
    const boom = new OffloadError('OFFLOAD_TIMEOUT', 'job 42 timed out after 5 ms');
    await assert.rejects(instr.runAttempt(job(null), () => Promise.reject(boom)), (err) => err === boom);
    const attempt = onlySpan(t, 'process mail');
    assert.equal(attempt.status.code, SpanStatusCode.ERROR);
    assert.equal(attempt.status.message, 'job 42 timed out after 5 ms');
    assert.equal(attempt.attributes['error.type'], 'OFFLOAD_TIMEOUT');
    assert.equal(attempt.attributes['offload.outcome'], 'failed');
    const exception = attempt.events.find((e) => e.name === 'exception');
    assert.equal(exception?.attributes?.['exception.type'], 'OffloadError');
    assert.equal(exception?.attributes?.['exception.message'], 'job 42 timed out after 5 ms');
  });

  it('records a synchronous throw and a thrown non-Error too', async () => {
    const instr = (await loadInstrumentation())!;
    await assert.rejects(
      instr.runAttempt(job(null, { queue: 'sync' }), () => {
        throw new TypeError('bad input');
      }),
      TypeError,
    );
    assert.equal(onlySpan(t, 'process sync').attributes['error.type'], 'TypeError');
    // oxlint-disable-next-line typescript/prefer-promise-reject-errors -- a handler may reject with a non-Error; this is that path
    await assert.rejects(instr.runAttempt(job(null, { queue: 'str' }), () => Promise.reject('plain string')));
    const span = onlySpan(t, 'process str');
    assert.equal(span.status.code, SpanStatusCode.ERROR);
    assert.equal(span.attributes['error.type'], 'NonError');
  });

  it('treats snooze() and cancel() as outcomes, not errors', async () => {
    const instr = (await loadInstrumentation())!;
    await assert.rejects(instr.runAttempt(job(null, { queue: 'snoozy' }), () => Promise.reject(snooze(1500))));
    const snoozed = onlySpan(t, 'process snoozy');
    assert.equal(snoozed.status.code, SpanStatusCode.UNSET);
    assert.equal(snoozed.attributes['offload.outcome'], 'snoozed');
    assert.deepEqual(snoozed.events.map((e) => [e.name, e.attributes]), [['offload.snoozed', { 'offload.snooze.delay_ms': 1500 }]]);
    await assert.rejects(instr.runAttempt(job(null, { queue: 'gone' }), () => Promise.reject(cancel('order deleted'))));
    const cancelled = onlySpan(t, 'process gone');
    assert.equal(cancelled.status.code, SpanStatusCode.UNSET);
    assert.equal(cancelled.attributes['offload.outcome'], 'cancelled');
    assert.equal(cancelled.attributes['offload.cancel.reason'], 'order deleted');
  });

  it('runs a job whose stored context is malformed as a root span, without a link', async () => {
    const instr = (await loadInstrumentation())!;
    const bad = [
      { traceparent: 'garbage' },
      { traceparent: '00-00000000000000000000000000000000-0000000000000000-01' }, // all-zero ids
      { traceparent: 'ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01' }, // version ff
      { traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra' }, // v00 has no more fields
      { traceparent: '00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01' }, // uppercase
      { tracestate: 'a=b' }, // no traceparent
    ];
    for (const [i, carrier] of bad.entries()) {
      assert.equal(await instr.runAttempt(job(carrier, { queue: `bad${i}` }), () => i), i);
      const span = onlySpan(t, `process bad${i}`);
      assert.equal(span.parentSpanContext, undefined, JSON.stringify(carrier));
      assert.deepEqual(span.links, [], JSON.stringify(carrier));
    }
  });

  it('accepts a traceparent of a later version with extra fields', async () => {
    const instr = (await loadInstrumentation())!;
    await instr.runAttempt(job({ traceparent: '01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-future' }), () => null);
    assert.equal(ids(onlySpan(t, 'process mail').parentSpanContext), '4bf92f3577b34da6a3ce929d0e0e4736/00f067aa0ba902b7');
  });

  it('uses the tracer provider it is given instead of the global one', async () => {
    const { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } = await import('@opentelemetry/sdk-trace-base');
    const own = new InMemorySpanExporter();
    const instr = (await loadInstrumentation({ tracerProvider: new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(own)] }) }))!;
    await instr.runAttempt(job(null, { queue: 'own' }), () => null);
    assert.deepEqual(own.getFinishedSpans().map((s) => s.name), ['process own']);
    assert.deepEqual(t.spans('process own'), []);
  });
});

// A module resolution hook in a child process stands in for an install without the package, or
// with a broken one: the real loader, the real dynamic import.
function probe(mode: 'missing' | 'broken') {
  return spawnSync(process.execPath, ['--import', 'tsx', '--import', join(import.meta.dirname, 'fixtures', 'otel-hook.ts'), join(import.meta.dirname, 'fixtures', 'load-instrumentation.ts')], {
    env: { ...process.env, OFFLOAD_TEST_OTEL: mode },
    encoding: 'utf8',
  });
}

describe('tracing: options and loading', () => {
  it('refuses unknown options, a bad structure and a provider without getTracer()', async () => {
    await assert.rejects(loadInstrumentation({ structur: 'child' } as never), (err) => isOffloadError(err, 'OFFLOAD_INVALID_OPTIONS') && /unknown option 'structur' \(did you mean 'structure'\?\)/.test(err.message));
    await assert.rejects(loadInstrumentation({ structure: 'parent' } as never), (err) => isOffloadError(err, 'OFFLOAD_INVALID_OPTIONS') && /'child' or 'linked'/.test(err.message));
    await assert.rejects(loadInstrumentation({ tracerProvider: {} as never }), (err) => isOffloadError(err, 'OFFLOAD_INVALID_OPTIONS') && /getTracer/.test(err.message));
    await assert.rejects(loadInstrumentation(null as never), (err) => isOffloadError(err, 'OFFLOAD_INVALID_OPTIONS'));
  });

  it('resolves to null when @opentelemetry/api is not installed', () => {
    const r = probe('missing');
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout.trim(), 'null');
  });

  it('rejects with OFFLOAD_UNSUPPORTED when @opentelemetry/api is installed but fails to load', () => {
    const r = probe('broken');
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout.trim(), /^OFFLOAD_UNSUPPORTED .*could not be loaded: api exploded at import/);
  });
});
