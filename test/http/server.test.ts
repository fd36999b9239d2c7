/**
 * The server around the routes: request ids, logs without payloads, the plugin mounted in a host
 * app under a prefix, option checks, on both stores.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect } from 'node:net';
import { it } from 'node:test';
import Fastify from 'fastify';
import { defineTask, isOffloadError } from '../../src/index.ts';
import { createHttpServer, offloadHttp } from '../../src/http/index.ts';
import { body, httpSuite, logSink, type Problem } from './harness.ts';

httpSuite('server', (s) => {
  it('close() cuts a connection that never sent a request instead of waiting on it', async () => {
    const { server } = s.api();
    const url = new URL(await server.listen({ port: 0 }));
    // What a browser does ahead of time: a connection with no request on it yet.
    const socket = connect(Number(url.port), '127.0.0.1');
    await once(socket, 'connect');
    const cut = once(socket, 'close');
    await server.close();
    await cut;
    assert.equal(socket.destroyed, true);
  });

  it('X-Request-Id: kept when the client sends a sane one, made otherwise; in the header and the problem', async () => {
    const { inject } = s.api();
    const given = await inject({ method: 'GET', url: '/healthz', headers: { 'x-request-id': 'req-123.abc' } });
    assert.equal(given.headers['x-request-id'], 'req-123.abc');
    const made = await inject({ method: 'GET', url: '/healthz' });
    assert.match(String(made.headers['x-request-id']), /^[0-9a-f-]{36}$/);
    const forged = await inject({ method: 'GET', url: '/healthz', headers: { 'x-request-id': 'evil id {"level":60}' } });
    assert.match(String(forged.headers['x-request-id']), /^[0-9a-f-]{36}$/);
    const problem = await inject({ method: 'GET', url: '/v1/jobs/1234567', headers: { 'x-request-id': 'trace-me' } });
    assert.equal(body<Problem>(problem).requestId, 'trace-me');
    assert.equal(problem.headers['x-request-id'], 'trace-me');
  });

  it('logs every request with its id and outcome, never a payload or a token', async () => {
    const sink = logSink();
    const t = defineTask({ name: s.unique('logged'), handler: () => null });
    const secret = 'tok-secret-0123456789abcdef';
    const { inject } = s.api({ offload: { tasks: [t] }, http: { tokens: `ci:admin:${secret}` }, logTo: sink.stream });
    const auth = { authorization: `Bearer ${secret}` };
    await inject({ method: 'POST', url: '/v1/jobs', headers: { ...auth, 'x-request-id': 'r-1' }, payload: { task: t.name, payload: { card: 'PAYLOAD-SECRET-4242' } } });
    await inject({ method: 'POST', url: '/v1/jobs', headers: { ...auth, 'x-request-id': 'r-2' }, payload: { task: 'nope', payload: { card: 'PAYLOAD-SECRET-4242' } } });
    assert.doesNotMatch(sink.text(), /PAYLOAD-SECRET|tok-secret/);
    const done = sink.lines().filter((l) => l['msg'] === 'request completed');
    assert.deepEqual(done.map((l) => l['reqId']), ['r-1', 'r-2']);
    const refused = sink.lines().find((l) => l['msg'] === 'request refused');
    assert.equal(refused?.['code'], 'OFFLOAD_UNKNOWN_TASK');
  });

  it('logRequests: false leaves out the per-request lines, not the failures', async () => {
    const sink = logSink();
    const { inject, offload } = s.api({ http: { logRequests: false }, logTo: sink.stream });
    await inject({ method: 'GET', url: '/healthz' });
    assert.equal(sink.lines().filter((l) => l['msg'] === 'request completed' || l['msg'] === 'incoming request').length, 0);
    await offload.close();
    await inject({ method: 'GET', url: '/v1/jobs' });
    assert.ok(sink.lines().some((l) => l['msg'] === 'request failed'));
  });

  it('a 5xx hides the cause from the client and logs it', async () => {
    const sink = logSink();
    const { inject, offload } = s.api({ logTo: sink.stream });
    await offload.close();
    const res = await inject({ method: 'GET', url: '/v1/jobs' });
    assert.equal(res.statusCode, 503);
    assert.equal(body<Problem>(res).code, 'OFFLOAD_CLOSED');
    assert.equal(body<Problem>(res).detail, 'the job store is not available; try again later');
    assert.equal(res.headers['retry-after'], '1');
    assert.ok(sink.lines().some((l) => l['msg'] === 'request failed' && (l['err'] as { message?: string }).message?.includes('closed')));
  });

  it('500 with a generic detail for an unexpected error; the cause is logged under the request id', async () => {
    const sink = logSink();
    const { inject, offload } = s.api({ logTo: sink.stream });
    offload.jobs.get = () => Promise.reject(new TypeError('secret internals: /srv/app/db.ts line 12'));
    const res = await inject({ method: 'GET', url: '/v1/jobs/1', headers: { 'x-request-id': 'oops-1' } });
    assert.equal(res.statusCode, 500);
    const p = body<Problem>(res);
    assert.equal(p.code, 'OFFLOAD_HTTP_INTERNAL');
    assert.doesNotMatch(p.detail, /secret internals/);
    const failed = sink.lines().find((l) => l['msg'] === 'request failed');
    assert.equal(failed?.['reqId'], 'oops-1');
    assert.match(String((failed?.['err'] as { message?: string } | undefined)?.message), /secret internals/);
  });

  it('400 problems for a malformed URL and a body that does not match its Content-Length', async () => {
    const { inject } = s.api();
    const url = await inject({ method: 'GET', url: '/v1/jobs/%E0%A4%A' });
    assert.equal(url.statusCode, 400);
    assert.equal(body<Problem>(url).code, 'OFFLOAD_HTTP_BAD_REQUEST');
    const length = await inject({ method: 'POST', url: '/v1/jobs', headers: { 'content-type': 'application/json', 'content-length': '100' }, payload: '{"task":"x"}' });
    assert.equal(length.statusCode, 400);
    assert.equal(body<Problem>(length).code, 'OFFLOAD_HTTP_BAD_REQUEST');
  });

  it('404 problem for an unknown route', async () => {
    const { inject } = s.api();
    const res = await inject({ method: 'GET', url: '/v2/nothing?x=1' });
    assert.equal(res.statusCode, 404);
    const p = body<Problem>(res);
    assert.equal(p.code, 'OFFLOAD_HTTP_NOT_FOUND');
    assert.equal(p.instance, '/v2/nothing');
  });

  it('mounts in a host app under a prefix without changing the host', async () => {
    const t = defineTask({ name: s.unique('mounted'), handler: () => null });
    const offload = s.client({ tasks: [t] });
    const app = Fastify({ logger: false });
    // The host keeps its own parsers, routes and error shapes.
    app.post('/echo', (req, reply) => reply.send({ got: req.body }));
    await app.register(offloadHttp, { offload, prefix: '/jobs-api' });
    try {
      const res = await app.inject({ method: 'POST', url: '/jobs-api/v1/jobs', payload: { task: t.name } });
      assert.equal(res.statusCode, 202);
      const { id } = body<{ id: string }>(res);
      assert.equal(res.headers['location'], `/jobs-api/v1/jobs/${id}`);
      assert.equal((await app.inject({ method: 'GET', url: `/jobs-api/v1/jobs/${id}` })).statusCode, 200);
      const text = await app.inject({ method: 'POST', url: '/echo', headers: { 'content-type': 'text/plain' }, payload: 'plain' });
      assert.deepEqual(body(text), { got: 'plain' });
      // A typo in the host's routes is the host's 404, not a problem document.
      const hostMiss = await app.inject({ method: 'GET', url: '/nothing' });
      assert.equal(hostMiss.statusCode, 404);
      assert.doesNotMatch(String(hostMiss.headers['content-type']), /problem/);
      const ours = await app.inject({ method: 'GET', url: '/jobs-api/v1/nothing' });
      assert.equal(body<Problem>(ours).code, 'OFFLOAD_HTTP_NOT_FOUND');
      const doc = body<{ paths: Record<string, unknown> }>(await app.inject({ method: 'GET', url: '/jobs-api/openapi.json' }));
      assert.ok('/jobs-api/v1/jobs' in doc.paths);
      assert.ok(!('/echo' in doc.paths));
    } finally {
      await app.close();
    }
  });

  it('createHttpServer under a prefix', async () => {
    const t = defineTask({ name: s.unique('prefixed'), handler: () => null });
    const { inject } = s.api({ offload: { tasks: [t] }, http: { prefix: '/api' } });
    const res = await inject({ method: 'POST', url: '/api/v1/jobs', payload: { task: t.name } });
    assert.equal(res.statusCode, 202);
    assert.match(String(res.headers['location']), /^\/api\/v1\/jobs\/\d+$/);
  });

  it('refuses unknown or invalid options at once, with a suggestion', () => {
    const offload = s.client();
    const refuse = (options: Record<string, unknown>, pattern: RegExp) =>
      assert.throws(() => createHttpServer({ offload, logger: false, ...options } as never), (err: unknown) => isOffloadError(err, 'OFFLOAD_INVALID_OPTIONS') && pattern.test(err.message));
    refuse({ bodyLimit: 10 }, /did you mean 'bodyLimitBytes'/);
    refuse({ bodyLimitBytes: 10 }, /bodyLimitBytes: expected an integer in \[1024/);
    refuse({ maxJsonDepth: 0 }, /maxJsonDepth/);
    refuse({ shedLoad: 'yes' }, /shedLoad: expected a boolean/);
    refuse({ prefix: 'api/' }, /prefix must be a path/);
    refuse({ tokens: 42 }, /tokens must be/);
    refuse({ watchMinPollMs: 500, watchMaxPollMs: 100 }, /watchMaxPollMs/);
    refuse({ logRequests: 'no' }, /logRequests: expected a boolean/);
    assert.throws(() => createHttpServer({ offload: {} as never, logger: false }), /offload is required/);
  });

  it('listen() checks its own options', async () => {
    const { server } = s.api();
    await assert.rejects(server.listen({ port: 70_000 }), /port/);
    await assert.rejects(server.listen({ hots: 'x' } as never), /did you mean 'host'/);
  });
});
