/**
 * POST /v1/jobs and POST /v1/jobs:batch: every status the door can answer, on both stores.
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { z } from 'zod';
import { defineTask } from '../../src/index.ts';
import { body, httpSuite, type Problem } from './harness.ts';

interface JobBody {
  id: string;
  task: string;
  queue: string;
  state: string;
  priority: number;
  payload: unknown;
  runAt: string;
  createdAt: string;
  expiresAt: string | null;
  idempotencyKey: string | null;
}

httpSuite('POST /v1/jobs', (s) => {
  const resizeTask = () =>
    defineTask({
      name: s.unique('images.resize'),
      schema: z.object({ url: z.url(), width: z.number().int().positive() }),
      handler: () => null,
    });

  it('202 with the job and a Location that reads it back', async () => {
    const resize = resizeTask();
    const { inject } = s.api({ offload: { tasks: [resize] } });
    const res = await inject({ method: 'POST', url: '/v1/jobs', payload: { task: resize.name, payload: { url: 'https://x.test/a.png', width: 200 } } });
    assert.equal(res.statusCode, 202);
    const job = body<JobBody>(res);
    assert.equal(res.headers['location'], `/v1/jobs/${job.id}`);
    assert.equal(job.state, 'available');
    assert.equal(job.task, resize.name);
    assert.deepEqual(job.payload, { url: 'https://x.test/a.png', width: 200 });
    const read = await inject({ method: 'GET', url: res.headers['location'] });
    assert.equal(read.statusCode, 200);
    assert.equal(body<JobBody>(read).id, job.id);
  });

  it('a missing payload is null', async () => {
    const ping = defineTask({ name: s.unique('ping'), handler: () => 'pong' });
    const { inject } = s.api({ offload: { tasks: [ping] } });
    const res = await inject({ method: 'POST', url: '/v1/jobs', payload: { task: ping.name } });
    assert.equal(res.statusCode, 202);
    assert.equal(body<JobBody>(res).payload, null);
  });

  it('honours delayMs, runAt, priority, queue, ttlMs and expiresAt', async () => {
    const t = defineTask({ name: s.unique('opts'), handler: () => null });
    const { inject } = s.api({ offload: { tasks: [t] } });
    const submit = (extra: Record<string, unknown>) => inject({ method: 'POST', url: '/v1/jobs', payload: { task: t.name, payload: 1, ...extra } });

    const delayed = body<JobBody>(await submit({ delayMs: 3_600_000, priority: -5, queue: 'slow-lane' }));
    assert.equal(delayed.state, 'scheduled');
    assert.equal(delayed.priority, -5);
    assert.equal(delayed.queue, 'slow-lane');
    assert.ok(Date.parse(delayed.runAt) - Date.parse(delayed.createdAt) >= 3_500_000);

    const runAt = '2099-01-01T00:00:00.000Z';
    assert.equal(body<JobBody>(await submit({ runAt })).runAt, runAt);

    const ttl = body<JobBody>(await submit({ ttlMs: 60_000 }));
    assert.ok(ttl.expiresAt !== null && Date.parse(ttl.expiresAt) > Date.parse(ttl.createdAt));
    const expiresAt = '2098-06-01T12:00:00.000Z';
    assert.equal(body<JobBody>(await submit({ expiresAt })).expiresAt, expiresAt);
  });

  it('Idempotency-Key: a replay answers 200 with the first job, another payload 409', async () => {
    const charge = defineTask({ name: s.unique('charge'), handler: () => null });
    const { inject } = s.api({ offload: { tasks: [charge] } });
    const submit = (payload: unknown) =>
      inject({ method: 'POST', url: '/v1/jobs', headers: { 'idempotency-key': 'order-42' }, payload: { task: charge.name, payload } });
    const first = await submit({ amount: 10, currency: 'EUR' });
    assert.equal(first.statusCode, 202);
    // Key order does not make a payload different.
    const replay = await submit({ currency: 'EUR', amount: 10 });
    assert.equal(replay.statusCode, 200);
    assert.equal(replay.headers['idempotent-replayed'], 'true');
    assert.equal(body<JobBody>(replay).id, body<JobBody>(first).id);
    assert.equal(replay.headers['location'], first.headers['location']);
    assert.equal(body<JobBody>(replay).idempotencyKey, 'order-42');

    const conflict = await submit({ amount: 11, currency: 'EUR' });
    assert.equal(conflict.statusCode, 409);
    assert.match(String(conflict.headers['content-type']), /^application\/problem\+json/);
    const p = body<Problem>(conflict);
    assert.equal(p.code, 'OFFLOAD_IDEMPOTENCY_CONFLICT');
    assert.equal(p.existingJobId, body<JobBody>(first).id);
  });

  it('50 concurrent submits with one Idempotency-Key, through two servers, make one job', async () => {
    const pay = defineTask({ name: s.unique('pay'), handler: () => null });
    const a = s.api({ offload: { tasks: [pay] } });
    const b = s.api({ offload: { tasks: [pay] } });
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        (i % 2 ? a : b).inject({ method: 'POST', url: '/v1/jobs', headers: { 'idempotency-key': 'once' }, payload: { task: pay.name, payload: { n: 1 } } }),
      ),
    );
    assert.deepEqual(results.map((r) => r.statusCode).filter((c) => c === 202).length, 1);
    assert.ok(results.every((r) => r.statusCode === 202 || r.statusCode === 200));
    assert.equal(new Set(results.map((r) => body<JobBody>(r).id)).size, 1);
    const list = body<{ jobs: JobBody[] }>(await a.inject({ method: 'GET', url: `/v1/jobs?task=${pay.name}` }));
    assert.equal(list.jobs.length, 1);
  });

  it('an Idempotency-Key over 512 characters is a bad request', async () => {
    const t = defineTask({ name: s.unique('k'), handler: () => null });
    const { inject } = s.api({ offload: { tasks: [t] } });
    const res = await inject({ method: 'POST', url: '/v1/jobs', headers: { 'idempotency-key': 'k'.repeat(513) }, payload: { task: t.name } });
    assert.equal(res.statusCode, 400);
    assert.deepEqual(body<Problem>(res).errors?.map((e) => [e.in, e.pointer]), [['header', '/idempotency-key']]);
  });

  it('422 lists every field the task schema refuses, and stores nothing', async () => {
    const resize = resizeTask();
    const { inject } = s.api({ offload: { tasks: [resize] } });
    const res = await inject({ method: 'POST', url: '/v1/jobs', payload: { task: resize.name, payload: { url: 'nope', width: -3 } } });
    assert.equal(res.statusCode, 422);
    const p = body<Problem>(res);
    assert.equal(p.code, 'OFFLOAD_INVALID_PAYLOAD');
    assert.equal(p.type, 'urn:offload:problem:OFFLOAD_INVALID_PAYLOAD');
    assert.equal(p.status, 422);
    assert.equal(p.instance, '/v1/jobs');
    assert.deepEqual(p.errors?.map((e) => e.pointer).toSorted(), ['/payload/url', '/payload/width']);
    assert.equal(body<{ jobs: unknown[] }>(await inject({ method: 'GET', url: `/v1/jobs?task=${resize.name}` })).jobs.length, 0);
  });

  it('an unknown task is 422 pointing at /task (the collection exists; the field is wrong)', async () => {
    const resize = resizeTask();
    const { inject } = s.api({ offload: { tasks: [resize] } });
    const res = await inject({ method: 'POST', url: '/v1/jobs', payload: { task: 'images.crop', payload: {} } });
    assert.equal(res.statusCode, 422);
    const p = body<Problem>(res);
    assert.equal(p.code, 'OFFLOAD_UNKNOWN_TASK');
    assert.deepEqual(p.errors?.map((e) => e.pointer), ['/task']);
  });

  it('422 for unknown fields (with a suggestion), wrong types, out-of-range values and bad dates', async () => {
    const t = defineTask({ name: s.unique('strict'), handler: () => null });
    const { inject } = s.api({ offload: { tasks: [t] } });
    const refused = async (payload: unknown) => {
      const res = await inject({ method: 'POST', url: '/v1/jobs', payload: payload as Record<string, unknown> });
      assert.equal(res.statusCode, 422, res.body);
      return body<Problem>(res);
    };
    const typo = await refused({ task: t.name, delay: 5 });
    assert.equal(typo.code, 'OFFLOAD_HTTP_INVALID_REQUEST');
    assert.deepEqual(typo.errors?.map((e) => e.pointer), ['/delay']);
    assert.match(typo.errors?.[0]?.message ?? '', /did you mean 'delayMs'/);
    const many = await refused({ task: 7, priority: 'high', delayMs: -1 });
    assert.deepEqual(many.errors?.map((e) => e.pointer).toSorted(), ['/delayMs', '/priority', '/task']);
    assert.deepEqual((await refused({ task: t.name, priority: 40_000 })).errors?.map((e) => e.pointer), ['/priority']);
    assert.deepEqual((await refused({ task: t.name, runAt: 'tomorrow' })).errors?.map((e) => e.pointer), ['/runAt']);
    assert.deepEqual((await refused({ payload: 1 })).errors?.map((e) => e.pointer), ['/task']);
    assert.deepEqual((await refused([1, 2])).errors?.map((e) => e.pointer), ['']);
    // Checked by the client: both fields are valid alone.
    const both = await refused({ task: t.name, runAt: '2099-01-01T00:00:00Z', delayMs: 5 });
    assert.equal(both.code, 'OFFLOAD_INVALID_OPTIONS');
    assert.equal(body<{ jobs: unknown[] }>(await inject({ method: 'GET', url: `/v1/jobs?task=${t.name}` })).jobs.length, 0);
  });

  it('413 for a payload over the client maxPayloadBytes (the body itself within the limit)', async () => {
    const blob = defineTask({ name: s.unique('blob'), handler: () => null });
    const { inject } = s.api({ offload: { tasks: [blob], maxPayloadBytes: 1024 } });
    const res = await inject({ method: 'POST', url: '/v1/jobs', payload: { task: blob.name, payload: 'x'.repeat(2000) } });
    assert.equal(res.statusCode, 413);
    const p = body<Problem>(res);
    assert.equal(p.code, 'OFFLOAD_PAYLOAD_TOO_LARGE');
    assert.equal(p.maxBytes, 1024);
  });

  it('429 with Retry-After once the queue backlog is full; nothing stored beyond it', async () => {
    const queue = s.unique('bounded');
    const t = defineTask({ name: s.unique('bounded.task'), queue, handler: () => null });
    const { inject } = s.api({ offload: { tasks: [t], queues: { [queue]: { maxBacklog: 3 } } } });
    const submit = () => inject({ method: 'POST', url: '/v1/jobs', payload: { task: t.name, payload: null } });
    for (let i = 0; i < 3; i++) assert.equal((await submit()).statusCode, 202);
    const res = await submit();
    assert.equal(res.statusCode, 429);
    assert.match(String(res.headers['retry-after']), /^[1-9][0-9]*$/);
    const p = body<Problem>(res);
    assert.equal(p.code, 'OFFLOAD_OVERLOADED');
    assert.equal(p.queue, queue);
    assert.equal(p.maxBacklog, 3);
    assert.equal(p.waiting, 3);
    assert.equal(Math.max(1, Math.ceil((p.retryAfterMs as number) / 1000)), Number(res.headers['retry-after']));
    const batch = await inject({ method: 'POST', url: '/v1/jobs:batch', payload: { task: t.name, payloads: [1, 2] } });
    assert.equal(batch.statusCode, 429);
    assert.equal(body<{ jobs: unknown[] }>(await inject({ method: 'GET', url: `/v1/jobs?queue=${queue}` })).jobs.length, 3);
  });
});

httpSuite('POST /v1/jobs:batch', (s) => {
  const sumTask = () => defineTask({ name: s.unique('sum'), schema: z.object({ a: z.number(), b: z.number() }), handler: ({ a, b }) => a + b });

  it('202 with every job, in the order of the payloads', async () => {
    const sum = sumTask();
    const { inject } = s.api({ offload: { tasks: [sum] } });
    const payloads = [{ a: 1, b: 2 }, { a: 3, b: 4 }, { a: 5, b: 6 }];
    const res = await inject({ method: 'POST', url: '/v1/jobs:batch', payload: { task: sum.name, payloads, priority: 3, delayMs: 60_000 } });
    assert.equal(res.statusCode, 202);
    const { jobs } = body<{ jobs: JobBody[] }>(res);
    assert.deepEqual(jobs.map((j) => j.payload), payloads);
    assert.ok(jobs.every((j) => j.state === 'scheduled' && j.priority === 3));
  });

  it('all or nothing: one invalid payload stores none and points at it', async () => {
    const sum = sumTask();
    const { inject } = s.api({ offload: { tasks: [sum] } });
    const res = await inject({ method: 'POST', url: '/v1/jobs:batch', payload: { task: sum.name, payloads: [{ a: 1, b: 2 }, { a: 1, b: 'x' }] } });
    assert.equal(res.statusCode, 422);
    const p = body<Problem>(res);
    assert.equal(p.code, 'OFFLOAD_INVALID_PAYLOAD');
    assert.deepEqual(p.errors?.map((e) => e.pointer), ['/payloads/1/b']);
    assert.equal(body<{ jobs: unknown[] }>(await inject({ method: 'GET', url: `/v1/jobs?task=${sum.name}` })).jobs.length, 0);
  });

  it('refuses an Idempotency-Key (keys are per job), an empty list and more than maxBatchSize payloads', async () => {
    const sum = sumTask();
    const { inject } = s.api({ offload: { tasks: [sum] }, http: { maxBatchSize: 2 } });
    const keyed = await inject({ method: 'POST', url: '/v1/jobs:batch', headers: { 'idempotency-key': 'k' }, payload: { task: sum.name, payloads: [{ a: 1, b: 1 }] } });
    assert.equal(keyed.statusCode, 400);
    assert.deepEqual(body<Problem>(keyed).errors?.map((e) => e.in), ['header']);
    const empty = await inject({ method: 'POST', url: '/v1/jobs:batch', payload: { task: sum.name, payloads: [] } });
    assert.equal(empty.statusCode, 422);
    const tooMany = await inject({ method: 'POST', url: '/v1/jobs:batch', payload: { task: sum.name, payloads: [{ a: 1, b: 1 }, { a: 1, b: 1 }, { a: 1, b: 1 }] } });
    assert.equal(tooMany.statusCode, 422);
    assert.deepEqual(body<Problem>(tooMany).errors?.map((e) => e.pointer), ['/payloads']);
    assert.equal(body<{ jobs: unknown[] }>(await inject({ method: 'GET', url: `/v1/jobs?task=${sum.name}` })).jobs.length, 0);
  });

  it('an unknown task is 422', async () => {
    const { inject } = s.api({ offload: { tasks: [sumTask()] } });
    const res = await inject({ method: 'POST', url: '/v1/jobs:batch', payload: { task: 'nope', payloads: [1] } });
    assert.equal(res.statusCode, 422);
    assert.equal(body<Problem>(res).code, 'OFFLOAD_UNKNOWN_TASK');
  });
});
