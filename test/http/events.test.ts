/**
 * Following jobs: the event stream over a real socket (state and progress until the end, progress
 * from a worker in another client) and the result long-poll, on both stores.
 */
import assert from 'node:assert/strict';
import { get } from 'node:http';
import { it } from 'node:test';
import { defineTask } from '../../src/index.ts';
import { deferred } from '../e2e/helpers.ts';
import { body, httpSuite, logSink, type Problem } from './harness.ts';
import { openSse, type SseEvent } from './sse-client.ts';

interface JobData {
  id: string;
  state: string;
  progress: unknown;
  result: unknown;
  payload?: unknown;
  errors: unknown[];
}

const data = (e: SseEvent) => e.data as JobData;

httpSuite('GET /v1/jobs/:id/events', (s) => {
  it('streams state and progress reported by a worker in another client, until the job ends', async () => {
    const gates = [deferred(), deferred()];
    const steps = defineTask({
      name: s.unique('steps'),
      async handler(_p: unknown, ctx) {
        await ctx.progress({ step: 1 });
        await gates[0]!.promise;
        await ctx.progress({ step: 2 });
        await gates[1]!.promise;
        return { done: true };
      },
    });
    // The server's client runs no workers: the job runs elsewhere, so nothing local announces it.
    const { server, inject } = s.api({ offload: { tasks: [steps] }, http: { watchMaxPollMs: 50 } });
    const worker = s.client({ tasks: [steps] });
    const base = await server.listen({ port: 0 });
    const job = body<JobData>(await inject({ method: 'POST', url: '/v1/jobs', payload: { task: steps.name, payload: { secret: 'p' } } }));

    const sse = await openSse(`${base}/v1/jobs/${job.id}/events`);
    assert.equal(sse.status, 200);
    assert.match(String(sse.headers['content-type']), /^text\/event-stream/);
    assert.ok(typeof sse.headers['x-request-id'] === 'string');
    const first = await sse.next(() => true);
    assert.equal(first.event, 'state');
    assert.equal(data(first).state, 'available');
    assert.equal(data(first).payload, undefined, 'events carry no payload');

    await worker.start({ concurrency: 1 });
    // Running and the first progress may arrive in one read (a `state` event) or two.
    const step1 = await sse.next((e) => (data(e).progress as { step?: number } | null)?.step === 1);
    assert.ok(step1.event === 'state' || step1.event === 'progress');
    gates[0]!.resolve();
    const step2 = await sse.next((e) => e.event === 'progress' && (data(e).progress as { step: number }).step === 2);
    assert.deepEqual(step2.data, { id: job.id, progress: { step: 2 } });
    gates[1]!.resolve();
    const last = await sse.next((e) => e.event === 'state' && data(e).state === 'completed');
    assert.deepEqual(data(last).result, { done: true });
    await sse.ended;
    assert.equal(sse.events.at(-1), last, 'the final state is the last event');
    const ids = sse.events.map((e) => Number(e.id));
    assert.deepEqual(ids, ids.toSorted((a, b) => a - b));
    await worker.stop();
  });

  it('a job that is already final: one state event, then the end', async () => {
    const t = defineTask({ name: s.unique('done'), handler: () => 7 });
    const { server, inject, offload } = s.api({ offload: { tasks: [t] } });
    const job = body<JobData>(await inject({ method: 'POST', url: '/v1/jobs', payload: { task: t.name } }));
    await offload.start();
    await offload.jobs.waitFor(job.id);
    await offload.stop();
    const sse = await openSse(`${await server.listen({ port: 0 })}/v1/jobs/${job.id}/events`);
    await sse.ended;
    assert.deepEqual(sse.events.map((e) => [e.event, data(e).state, data(e).result]), [['state', 'completed', 7]]);
  });

  it('ends with a gone event when the job is deleted while followed', async () => {
    const t = defineTask({ name: s.unique('later'), handler: () => null });
    const { server, inject } = s.api({ offload: { tasks: [t] }, http: { watchMaxPollMs: 50 } });
    const job = body<JobData>(await inject({ method: 'POST', url: '/v1/jobs', payload: { task: t.name, delayMs: 60_000 } }));
    const sse = await openSse(`${await server.listen({ port: 0 })}/v1/jobs/${job.id}/events`);
    await sse.next((e) => e.event === 'state');
    assert.equal((await inject({ method: 'DELETE', url: `/v1/jobs/${job.id}` })).statusCode, 204);
    const gone = await sse.next((e) => e.event === 'gone');
    assert.deepEqual(gone.data, { id: job.id });
    await sse.ended;
  });

  it('404 problem (not a stream) for an unknown job', async () => {
    const { inject } = s.api();
    const res = await inject({ method: 'GET', url: '/v1/jobs/424242/events' });
    assert.equal(res.statusCode, 404);
    assert.equal(body<Problem>(res).code, 'OFFLOAD_JOB_NOT_FOUND');
  });

  it('closing the server ends open streams, and close() does not wait on them', async () => {
    const t = defineTask({ name: s.unique('never'), handler: () => null });
    const { server, inject } = s.api({ offload: { tasks: [t] } });
    const job = body<JobData>(await inject({ method: 'POST', url: '/v1/jobs', payload: { task: t.name, delayMs: 60_000 } }));
    const sse = await openSse(`${await server.listen({ port: 0 })}/v1/jobs/${job.id}/events`);
    await sse.next(() => true);
    await server.close();
    await sse.ended;
  });

  it('a store that fails while a job is followed: the stream stays open, the failure is logged, reads go on', async () => {
    const sink = logSink();
    const t = defineTask({ name: s.unique('frail'), handler: () => null });
    const { server, inject, offload } = s.api({ offload: { tasks: [t] }, http: { watchMaxPollMs: 20 }, logTo: sink.stream });
    const job = body<JobData>(await inject({ method: 'POST', url: '/v1/jobs', payload: { task: t.name, delayMs: 60_000 } }));
    const sse = await openSse(`${await server.listen({ port: 0 })}/v1/jobs/${job.id}/events`);
    await sse.next(() => true);
    await offload.close();
    const warned = await sink.line('reading a followed job failed; retrying');
    assert.equal(warned['jobId'], job.id);
    assert.equal(sse.events.length, 1);
    await server.close();
    await sse.ended;
  });

  it('a client that disconnects stops being followed; others on the same job go on', async () => {
    const t = defineTask({ name: s.unique('shared'), handler: () => 'ok' });
    const { server, inject, offload } = s.api({ offload: { tasks: [t] }, http: { watchMaxPollMs: 50 } });
    const base = await server.listen({ port: 0 });
    const job = body<JobData>(await inject({ method: 'POST', url: '/v1/jobs', payload: { task: t.name } }));
    const a = await openSse(`${base}/v1/jobs/${job.id}/events`);
    const b = await openSse(`${base}/v1/jobs/${job.id}/events`);
    await a.next(() => true);
    await b.next(() => true);
    a.close();
    await a.ended;
    await offload.start();
    await b.next((e) => data(e).state === 'completed');
    await b.ended;
    await offload.stop();
  });
});

httpSuite('GET /v1/jobs/:id/result', (s) => {
  it('200 with the result once the job completes within the wait', async () => {
    const t = defineTask({ name: s.unique('answer'), handler: () => ({ answer: 42 }) });
    const { inject, offload } = s.api({ offload: { tasks: [t] } });
    const job = body<JobData>(await inject({ method: 'POST', url: '/v1/jobs', payload: { task: t.name } }));
    const waiting = inject({ method: 'GET', url: `/v1/jobs/${job.id}/result?wait=30s` });
    await offload.start();
    const res = await waiting;
    assert.equal(res.statusCode, 200);
    const done = body<JobData>(res);
    assert.equal(done.state, 'completed');
    assert.deepEqual(done.result, { answer: 42 });
    assert.equal(done.payload, undefined);
    await offload.stop();
  });

  it('200 for a discarded job, with its errors', async () => {
    const t = defineTask({
      name: s.unique('fails'),
      retry: { attempts: 1 },
      handler: () => {
        throw new Error('nope');
      },
    });
    const { inject, offload } = s.api({ offload: { tasks: [t] } });
    const job = body<JobData>(await inject({ method: 'POST', url: '/v1/jobs', payload: { task: t.name } }));
    await offload.start();
    const res = await inject({ method: 'GET', url: `/v1/jobs/${job.id}/result?wait=30` });
    assert.equal(res.statusCode, 200);
    assert.equal(body<JobData>(res).state, 'discarded');
    assert.equal(body<JobData>(res).errors.length, 1);
    await offload.stop();
  });

  it('202 with the job as it is when the wait runs out, or without a wait', async () => {
    const t = defineTask({ name: s.unique('idle'), handler: () => null });
    const { inject } = s.api({ offload: { tasks: [t] } });
    const job = body<JobData>(await inject({ method: 'POST', url: '/v1/jobs', payload: { task: t.name, delayMs: 60_000 } }));
    for (const query of ['', '?wait=0', '?wait=20ms']) {
      const res = await inject({ method: 'GET', url: `/v1/jobs/${job.id}/result${query}` });
      assert.equal(res.statusCode, 202, query);
      assert.equal(body<JobData>(res).state, 'scheduled');
    }
  });

  it('400 for a malformed wait or one over maxWaitMs; 404 for an unknown job', async () => {
    const t = defineTask({ name: s.unique('w'), handler: () => null });
    const { inject } = s.api({ offload: { tasks: [t] }, http: { maxWaitMs: 10_000 } });
    const job = body<JobData>(await inject({ method: 'POST', url: '/v1/jobs', payload: { task: t.name, delayMs: 60_000 } }));
    for (const wait of ['soon', '5h', '-1s', '11s']) {
      const res = await inject({ method: 'GET', url: `/v1/jobs/${job.id}/result?wait=${wait}` });
      assert.equal(res.statusCode, 400, wait);
      assert.deepEqual(body<Problem>(res).errors?.map((e) => e.pointer), ['/wait']);
    }
    assert.equal((await inject({ method: 'GET', url: '/v1/jobs/424242/result?wait=1s' })).statusCode, 404);
  });

  it('404 when the job is deleted during the wait', async () => {
    const t = defineTask({ name: s.unique('vanishing'), handler: () => null });
    const { inject, offload } = s.api({ offload: { tasks: [t] } });
    const job = body<JobData>(await inject({ method: 'POST', url: '/v1/jobs', payload: { task: t.name, delayMs: 60_000 } }));
    const waiting = deferred();
    const original = offload.jobs.waitFor.bind(offload.jobs);
    offload.jobs.waitFor = (id, options) => {
      waiting.resolve();
      return original(id, options);
    };
    const answer = inject({ method: 'GET', url: `/v1/jobs/${job.id}/result?wait=60s` });
    await waiting.promise;
    await offload.jobs.delete(job.id);
    const res = await answer;
    assert.equal(res.statusCode, 404);
    assert.equal(body<Problem>(res).code, 'OFFLOAD_JOB_NOT_FOUND');
  });

  it('a long-poll in flight answers 202 when the server closes (real socket)', async () => {
    const t = defineTask({ name: s.unique('parked'), handler: () => null });
    const { server, inject, offload } = s.api({ offload: { tasks: [t] } });
    const job = body<JobData>(await inject({ method: 'POST', url: '/v1/jobs', payload: { task: t.name, delayMs: 60_000 } }));
    const base = await server.listen({ port: 0 });
    // A test signal: the wait is in flight once the route calls waitFor.
    const polled = deferred();
    const original = offload.jobs.waitFor.bind(offload.jobs);
    offload.jobs.waitFor = (id, options) => {
      polled.resolve();
      return original(id, options);
    };
    const answer = new Promise<{ status: number; text: string }>((resolve, reject) => {
      get(`${base}/v1/jobs/${job.id}/result?wait=60s`, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (text += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
      }).on('error', reject);
    });
    await polled.promise;
    await server.close();
    const res = await answer;
    assert.equal(res.status, 202);
    assert.equal((JSON.parse(res.text) as JobData).state, 'scheduled');
  });
});
