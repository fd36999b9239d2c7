/**
 * Tracing with no SDK registered (its own test file: the tracer provider is global to a process).
 * Attempts then skip the span and the context switch, yet hand the handler's logs the same ids a
 * no-op span would have carried; a provider registered later is used from then on.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { trace } from '@opentelemetry/api';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { loadInstrumentation, type TracedJob } from '../../src/observability/tracing.ts';

const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const SPAN = '00f067aa0ba902b7';

function job(traceContext: Record<string, string> | null): TracedJob {
  return { id: '7', task: 'emails.send', queue: 'mail', attempt: 1, traceContext };
}

describe('tracing without a registered tracer provider', () => {
  it("gives the attempt the enqueuer's ids (child structure), none without a context or with links only", async () => {
    const child = (await loadInstrumentation())!;
    const carrier = { traceparent: `00-${TRACE}-${SPAN}-01` };
    let seen: unknown = 'unset';
    assert.equal(await child.runAttempt(job(carrier), (ids) => ((seen = ids), 'done')), 'done');
    assert.deepEqual(seen, { traceId: TRACE, spanId: SPAN });
    await child.runAttempt(job(null), (ids) => void (seen = ids));
    assert.equal(seen, null);
    await child.runAttempt(job({ traceparent: 'garbage' }), (ids) => void (seen = ids));
    assert.equal(seen, null, 'a malformed context loses the link, not the attempt');
    const linked = (await loadInstrumentation({ structure: 'linked' }))!;
    await linked.runAttempt(job(carrier), (ids) => void (seen = ids));
    assert.equal(seen, null);
    await assert.rejects(
      child.runAttempt(job(carrier), () => Promise.reject(new Error('boom'))),
      /boom/,
    );
    // What the executor asks first, to run an attempt without the span wrapper: the same ids.
    assert.deepEqual(child.unrecorded(job(carrier)), { traceId: TRACE, spanId: SPAN });
    assert.equal(child.unrecorded(job(null)), null);
    assert.equal(child.unrecorded(job({ traceparent: 'garbage' })), null);
    assert.equal(linked.unrecorded(job(carrier)), null);
  });

  it('records spans once a provider is registered, with the same instrumentation', async () => {
    const instr = (await loadInstrumentation())!;
    await instr.runAttempt(job(null), () => null);
    assert.equal(instr.unrecorded(job(null)), null);
    const exporter = new InMemorySpanExporter();
    trace.setGlobalTracerProvider(new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }));
    assert.equal(instr.unrecorded(job(null)), undefined, 'a registered provider records: the attempt needs its span');
    let seen: { traceId: string; spanId: string } | null = null;
    await instr.runAttempt(job({ traceparent: `00-${TRACE}-${SPAN}-01` }), (ids) => void (seen = ids));
    const spans = exporter.getFinishedSpans();
    assert.deepEqual(
      spans.map((s) => s.name),
      ['process mail'],
    );
    assert.equal(seen!.traceId, TRACE);
    assert.equal(seen!.spanId, spans[0]!.spanContext().spanId, "the attempt's own span now");
  });
});
