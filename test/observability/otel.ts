/**
 * A real OpenTelemetry SDK for the tracing tests: spans go to the SDK's in-memory exporter, and an
 * AsyncLocalStorage context manager makes `context.active()` follow async calls. Registered
 * globally once per test process (node --test runs each file in its own process).
 */
import { context, propagation, trace, type SpanContext } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';

export interface TestTracing {
  provider: BasicTracerProvider;
  exporter: InMemorySpanExporter;
  /** Finished spans with this name. */
  spans(name: string): ReadableSpan[];
}

let registered: TestTracing | null = null;

export function registerTestTracing(): TestTracing {
  if (registered !== null) return registered;
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  trace.setGlobalTracerProvider(provider);
  // Deliberately no propagator: offload must link jobs without one (the API default is a no-op).
  propagation.disable();
  registered = { provider, exporter, spans: (name) => exporter.getFinishedSpans().filter((s) => s.name === name) };
  return registered;
}

/** The one finished span with this name. */
export function onlySpan(t: TestTracing, name: string): ReadableSpan {
  const found = t.spans(name);
  if (found.length !== 1) throw new Error(`expected one span named '${name}', found ${found.length}: ${t.exporter.getFinishedSpans().map((s) => s.name).join(', ')}`);
  return found[0]!;
}

export function ids(sc: SpanContext | undefined): string {
  return sc === undefined ? 'none' : `${sc.traceId}/${sc.spanId}`;
}
