/**
 * Tracing and logs through a real client, once per store: an HTTP request enqueues a job inside
 * its span; a worker (another client on the same store, as another process would be) runs it; the
 * attempt's span and every log line inside it lead back to the request.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { SpanKind, trace } from '@opentelemetry/api';
import { defineTask, type Offload } from '../../src/index.ts';
import { pinoLogger } from '../../src/observability/logger-pino.ts';
import { client } from '../e2e/helpers.ts';
import { STORES, type TestStore } from '../stores.ts';
import { welcomeOnThread } from './fixtures/thread-tasks.ts';
import { ids, onlySpan, registerTestTracing } from './otel.ts';

const tracing = registerTestTracing();
const tracer = trace.getTracer('test-http');

const welcome = defineTask({
  name: 'obs.welcome',
  handler: (p: { email: string }, ctx) => {
    ctx.log.info({ to: p.email }, 'sending the welcome mail');
    return { to: p.email };
  },
});

/** A tiny HTTP front: POST /signup/<task> enqueues inside a SERVER span, answers the job id. */
function front(producer: Offload): Promise<{ server: Server; url: string }> {
  const server = createServer((req, res) => {
    const task = req.url?.split('/').at(-1) ?? '';
    void tracer.startActiveSpan(`POST /signup/${task}`, { kind: SpanKind.SERVER }, async (span) => {
      try {
        const { job } = await producer.enqueue(task, { email: 'ada@example.com' });
        res.writeHead(202, { 'content-type': 'text/plain' }).end(job.id);
      } catch (err) {
        res.writeHead(500).end(String(err));
      } finally {
        span.end();
      }
    });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ server, url: `http://127.0.0.1:${(server.address() as { port: number }).port}` })));
}

function wiringSuite(make: () => TestStore): void {
  const store = make();
  describe(`tracing and logs through the runtime: ${store.name}`, () => {
    const lines: Array<Record<string, unknown>> = [];
    const logger = pinoLogger({ destination: { write: (l: string) => void lines.push(JSON.parse(l) as Record<string, unknown>) } });
    let producer: Offload;
    let worker: Offload;
    let http: { server: Server; url: string };

    before(async () => {
      producer = client(store, { tasks: [welcome, welcomeOnThread] });
      worker = client(store, { tasks: [welcome, welcomeOnThread], logger, pollMs: 20, threads: { size: 1 } });
      await producer.migrate();
      await worker.start({ concurrency: 2 });
      http = await front(producer);
    });
    after(async () => {
      http.server.close();
      await Promise.all([producer.close({ graceMs: 0 }), worker.close({ graceMs: 0 })]);
      await store.dispose();
    });

    async function signup(task: string): Promise<string> {
      const res = await fetch(`${http.url}/signup/${task}`, { method: 'POST' });
      assert.equal(res.status, 202);
      const id = await res.text();
      assert.equal((await worker.jobs.waitFor(id)).state, 'completed');
      return id;
    }
    const linesOf = (id: string) => lines.filter((l) => l['jobId'] === id);

    it('every line ctx.log writes inside a job names the job, its task and its attempt', async () => {
      const id = await signup(welcome.name);
      const mine = linesOf(id);
      assert.ok(mine.some((l) => l['msg'] === 'sending the welcome mail'), JSON.stringify(lines));
      for (const l of mine) {
        assert.equal(l['task'], welcome.name);
        assert.equal(l['attempt'], 1);
      }
    });

    it('the attempt span is a child of the HTTP request span that enqueued, and its log lines carry its trace_id and span_id', async () => {
      tracing.exporter.reset();
      const id = await signup(welcome.name);
      const request = onlySpan(tracing, `POST /signup/${welcome.name}`);
      const stored = await producer.jobs.get(id);
      assert.equal(stored?.traceContext?.['traceparent'], `00-${request.spanContext().traceId}-${request.spanContext().spanId}-01`);
      const attempt = onlySpan(tracing, 'process default');
      assert.equal(ids(attempt.parentSpanContext), ids(request.spanContext()));
      assert.deepEqual(attempt.links.map((l) => ids(l.context)), [ids(request.spanContext())]);
      assert.equal(attempt.attributes['messaging.message.id'], id);
      const line = linesOf(id).find((l) => l['msg'] === 'sending the welcome mail');
      assert.equal(line?.['queue'], 'default');
      assert.equal(line?.['trace_id'], attempt.spanContext().traceId);
      assert.equal(line?.['span_id'], attempt.spanContext().spanId);
    });

    it('the chain holds across threads: a thread task run from the request trace, its thread-side log lines carrying the trace', async () => {
      tracing.exporter.reset();
      const id = await signup(welcomeOnThread.name);
      const job = await producer.jobs.get(id);
      assert.ok(job !== null);
      assert.notEqual((job.result as { threadId: number }).threadId, 0, 'the handler ran on a worker thread');
      const request = onlySpan(tracing, `POST /signup/${welcomeOnThread.name}`);
      const attempt = onlySpan(tracing, 'process default');
      assert.equal(ids(attempt.parentSpanContext), ids(request.spanContext()));
      const line = linesOf(id).find((l) => l['msg'] === 'rendering the welcome mail on a thread');
      assert.ok(line !== undefined, JSON.stringify(lines));
      assert.equal(line['trace_id'], request.spanContext().traceId);
      assert.equal(line['span_id'], attempt.spanContext().spanId);
    });
  });
}

for (const make of STORES) wiringSuite(make);
