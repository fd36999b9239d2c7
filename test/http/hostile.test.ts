/**
 * Requests a careless or hostile client sends: malformed framing, impossible dates, filters with
 * text no store keeps, header keys in UTF-8 or given twice, long polls left during their first
 * read, many waits at once. Each gets its documented answer and leaves the server as it was.
 */
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { it } from 'node:test';
import { createOffload, defineTask } from '../../src/index.ts';
import { createHttpServer } from '../../src/http/index.ts';
import { overriding, silent } from '../e2e/helpers.ts';
import { body, httpSuite, type Problem } from './harness.ts';

/** Sends `text` on a raw socket and resolves with everything the server wrote before closing. */
function raw(url: string, text: string): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => socket.write(text));
    let out = '';
    socket.setEncoding('utf8');
    socket.on('data', (d: string) => (out += d));
    socket.on('end', () => resolve(out));
    socket.on('error', reject);
  });
}

httpSuite('hostile requests', (s) => {
  it('a request Node cannot parse (a bad Content-Length) gets a 400 problem, not a bare error', async () => {
    const { server } = s.api();
    const url = await server.listen({ port: 0 });
    const answer = await raw(url, 'POST /v1/jobs HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: abc\r\n\r\n{}');
    const [head, text] = answer.split('\r\n\r\n');
    assert.match(head ?? '', /^HTTP\/1\.1 400 /);
    assert.match(head ?? '', /content-type: application\/problem\+json/i);
    const p = body<Problem & { requestId: string }>({ body: text ?? '' });
    assert.equal(p.code, 'OFFLOAD_HTTP_BAD_REQUEST');
    assert.match(p.requestId, /^[0-9a-f-]{36}$/);
  });

  it('an impossible date is refused with 422, not moved to another day', async () => {
    const t = defineTask({ name: s.unique('dated'), handler: () => null });
    const { inject } = s.api({ offload: { tasks: [t] } });
    for (const runAt of ['2030-02-31T00:00:00Z', '2030-04-31T10:00:00Z', '2030-01-01T24:00:00Z']) {
      const res = await inject({ method: 'POST', url: '/v1/jobs', payload: { task: t.name, runAt } });
      assert.equal(res.statusCode, 422, runAt);
    }
    assert.equal(body<{ jobs: unknown[] }>(await inject({ method: 'GET', url: `/v1/jobs?task=${t.name}` })).jobs.length, 0);
  });

  it('a filter holding a NUL is refused with 422 on every store, never a store error', async () => {
    const { inject } = s.api();
    for (const q of ['task=%00', 'queue=a%00', 'idempotencyKey=%00']) {
      const res = await inject({ method: 'GET', url: `/v1/jobs?${q}` });
      assert.equal(res.statusCode, 422, q);
      assert.equal(body<Problem>(res).code, 'OFFLOAD_INVALID_OPTIONS');
    }
  });

  it('an Idempotency-Key in UTF-8 is kept as written; one given twice is refused', async () => {
    const t = defineTask({ name: s.unique('keyed'), handler: () => null });
    const { inject, server } = s.api({ offload: { tasks: [t] } });
    // Node hands header bytes over as latin1: this is how the UTF-8 bytes of "café" arrive.
    const wire = Buffer.from('café').toString('latin1');
    const res = await inject({ method: 'POST', url: '/v1/jobs', headers: { 'idempotency-key': wire }, payload: { task: t.name } });
    assert.equal(res.statusCode, 202);
    const found = body<{ jobs: Array<{ idempotencyKey: string }> }>(await inject({ method: 'GET', url: `/v1/jobs?idempotencyKey=${encodeURIComponent('café')}` }));
    assert.deepEqual(
      found.jobs.map((j) => j.idempotencyKey),
      ['café'],
    );
    const notUtf8 = await inject({ method: 'POST', url: '/v1/jobs', headers: { 'idempotency-key': 'caf\u00e9' }, payload: { task: t.name } });
    assert.equal(notUtf8.statusCode, 400);
    const url = await server.listen({ port: 0 });
    const payload = JSON.stringify({ task: t.name });
    const twice = await raw(
      url,
      `POST /v1/jobs HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: application/json\r\nIdempotency-Key: a2\r\nIdempotency-Key: b2\r\nContent-Length: ${payload.length}\r\n\r\n${payload}`,
    );
    assert.match(twice, /^HTTP\/1\.1 400 /);
    assert.match(twice, /must be given once/);
    assert.equal(body<{ jobs: unknown[] }>(await inject({ method: 'GET', url: `/v1/jobs?task=${t.name}` })).jobs.length, 1);
  });

  it('an empty state filter is refused, not read as every state', async () => {
    const { inject } = s.api();
    const res = await inject({ method: 'GET', url: '/v1/jobs?state=' });
    assert.equal(res.statusCode, 400);
    assert.equal(body<Problem>(res).code, 'OFFLOAD_HTTP_BAD_REQUEST');
  });

  it('404s of cancel, retry and delete name the id, as GET does', async () => {
    const { inject } = s.api();
    for (const [method, url] of [
      ['POST', '/v1/jobs/424242/cancel'],
      ['POST', '/v1/jobs/424242/retry'],
      ['DELETE', '/v1/jobs/424242'],
      ['GET', '/v1/jobs/424242'],
    ] as const) {
      const res = await inject({ method, url });
      assert.equal(res.statusCode, 404, url);
      assert.equal(body<Problem & { id: string }>(res).id, '424242', url);
    }
  });

  it('a long poll whose client leaves during the first read ends its wait; many waits at once raise no leak warning', async () => {
    const t = defineTask({ name: s.unique('waited'), handler: () => null });
    let reads = 0;
    // Each read of a job takes 300 ms: the client leaves during the first.
    const store = overriding(s.store.open(), {
      jobGet: (real) => async (p) => {
        reads++;
        await new Promise((r) => setTimeout(r, 300));
        return real.jobGet(p);
      },
    });
    const offload = createOffload({ store, tasks: [t], logger: silent, loop: false });
    const server = createHttpServer({ offload, logger: false });
    const warnings: Error[] = [];
    const onWarning = (w: Error) => warnings.push(w);
    process.on('warning', onWarning);
    try {
      const url = await server.listen({ port: 0 });
      const { job } = await offload.enqueue(t, {}, { delayMs: 60_000 });
      const { hostname, port } = new URL(url);
      await new Promise<void>((resolve) => {
        const socket = connect(Number(port), hostname, () => {
          socket.write(`GET /v1/jobs/${job.id}/result?wait=10s HTTP/1.1\r\nHost: x\r\n\r\n`);
          setTimeout(() => {
            socket.destroy();
            resolve();
          }, 100);
        });
      });
      const before = reads;
      await new Promise((r) => setTimeout(r, 1500));
      assert.ok(reads - before <= 1, `the server read the job ${reads - before} times after the client left`);
      // Twelve waits at once (Node warns past ten listeners of one signal).
      const waits = await Promise.all(Array.from({ length: 12 }, () => server.fastify.inject({ method: 'GET', url: `/v1/jobs/${job.id}/result?wait=200ms` })));
      assert.deepEqual(new Set(waits.map((r) => r.statusCode)), new Set([202]));
      assert.deepEqual(
        warnings.filter((w) => w.name === 'MaxListenersExceededWarning').map((w) => w.message),
        [],
      );
    } finally {
      process.off('warning', onWarning);
      await server.close();
      await offload.close({ graceMs: 0 });
    }
  });
});

httpSuite('a request that never arrives whole', (s) => {
  it('is answered 408 once requestTimeoutMs has passed and its connection closed; a long poll is not cut', async () => {
    const t = defineTask({ name: s.unique('slow-client'), handler: () => null });
    const { server, offload } = s.api({ offload: { tasks: [t] }, http: { requestTimeoutMs: 300 } });
    const url = await server.listen({ port: 0 });
    const started = Date.now();
    // Headers and the start of a body, then nothing.
    const answer = await raw(url, 'POST /v1/jobs HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"task":');
    assert.match(answer, /^HTTP\/1\.1 408 /);
    assert.ok(Date.now() - started < 5000, `answered after ${Date.now() - started} ms`);
    // A long poll whose request arrived whole waits past requestTimeoutMs.
    const { job } = await offload.enqueue(t, {}, { delayMs: 60_000 });
    const waitStart = Date.now();
    const res = await fetch(new URL(`/v1/jobs/${job.id}/result?wait=1s`, url));
    assert.equal(res.status, 202);
    assert.ok(Date.now() - waitStart >= 900, 'the wait ran its course');
  });
});
