/**
 * What the body parser refuses: malformed JSON, other content types, deep nesting, prototype keys,
 * bodies over the limit (declared, and chunked over a real socket), on both stores.
 */
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { it } from 'node:test';
import { defineTask } from '../../src/index.ts';
import { body, httpSuite, type Problem } from './harness.ts';

httpSuite('request bodies', (s) => {
  const echoTask = () => defineTask({ name: s.unique('echo'), handler: (p: unknown) => p });
  const jobsOf = async (inject: ReturnType<typeof s.api>['inject'], task: string) =>
    body<{ jobs: unknown[] }>(await inject({ method: 'GET', url: `/v1/jobs?task=${task}` })).jobs.length;

  it('400 for malformed JSON', async () => {
    const t = echoTask();
    const { inject } = s.api({ offload: { tasks: [t] } });
    for (const text of ['{"task":', '{task: 1}', '[1,]', '"\\x"']) {
      const res = await inject({ method: 'POST', url: '/v1/jobs', headers: { 'content-type': 'application/json' }, payload: text });
      assert.equal(res.statusCode, 400, text);
      assert.equal(body<Problem>(res).code, 'OFFLOAD_HTTP_MALFORMED_JSON');
    }
  });

  it('415 for a body that is not application/json, before reading it', async () => {
    const t = echoTask();
    const { inject } = s.api({ offload: { tasks: [t] } });
    for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'application/xml']) {
      const res = await inject({ method: 'POST', url: '/v1/jobs', headers: { 'content-type': type }, payload: `task=${t.name}` });
      assert.equal(res.statusCode, 415, type);
      const p = body<Problem>(res);
      assert.equal(p.code, 'OFFLOAD_HTTP_UNSUPPORTED_MEDIA_TYPE');
      assert.deepEqual(p.accepted, ['application/json']);
    }
    // A charset parameter is fine.
    const ok = await inject({ method: 'POST', url: '/v1/jobs', headers: { 'content-type': 'application/json; charset=utf-8' }, payload: JSON.stringify({ task: t.name }) });
    assert.equal(ok.statusCode, 202);
  });

  it('400 for nesting deeper than maxJsonDepth; the limit itself is accepted', async () => {
    const t = echoTask();
    const { inject } = s.api({ offload: { tasks: [t] }, http: { maxJsonDepth: 8 } });
    // The envelope is one level; the payload adds the rest.
    const nested = (levels: number) => `{"task":"${t.name}","payload":${'['.repeat(levels)}${']'.repeat(levels)}}`;
    assert.equal((await inject({ method: 'POST', url: '/v1/jobs', headers: { 'content-type': 'application/json' }, payload: nested(7) })).statusCode, 202);
    const deep = await inject({ method: 'POST', url: '/v1/jobs', headers: { 'content-type': 'application/json' }, payload: nested(8) });
    assert.equal(deep.statusCode, 400);
    const p = body<Problem>(deep);
    assert.equal(p.code, 'OFFLOAD_HTTP_TOO_DEEP');
    assert.equal(p.maxDepth, 8);
    // Brackets inside strings do not count.
    const inString = `{"task":"${t.name}","payload":"${'['.repeat(50)}"}`;
    assert.equal((await inject({ method: 'POST', url: '/v1/jobs', headers: { 'content-type': 'application/json' }, payload: inString })).statusCode, 202);
    // The default limit (64) holds against a hostile depth too.
    const { inject: dflt } = s.api({ offload: { tasks: [t] } });
    const hostile = await dflt({ method: 'POST', url: '/v1/jobs', headers: { 'content-type': 'application/json' }, payload: nested(100_000) });
    assert.equal(hostile.statusCode, 400);
    assert.equal(body<Problem>(hostile).code, 'OFFLOAD_HTTP_TOO_DEEP');
  });

  it('400 for __proto__ and constructor.prototype keys, escaped or not; nothing is polluted or stored', async () => {
    const t = echoTask();
    const { inject } = s.api({ offload: { tasks: [t] } });
    const bodies = [
      `{"task":"${t.name}","payload":{"__proto__":{"polluted":true}}}`,
      `{"task":"${t.name}","payload":{"a":[{"\\u005f_proto__":{"polluted":true}}]}}`,
      `{"task":"${t.name}","__proto__":{"polluted":true}}`,
      `{"task":"${t.name}","payload":{"constructor":{"prototype":{"polluted":true}}}}`,
    ];
    for (const text of bodies) {
      const res = await inject({ method: 'POST', url: '/v1/jobs', headers: { 'content-type': 'application/json' }, payload: text });
      assert.equal(res.statusCode, 400, text);
      const p = body<Problem>(res);
      assert.equal(p.code, 'OFFLOAD_HTTP_FORBIDDEN_KEY');
      assert.match(String(p.pointer), /__proto__|prototype/);
    }
    assert.equal(({} as Record<string, unknown>)['polluted'], undefined);
    assert.equal(await jobsOf(inject, t.name), 0);
    // A key named constructor with a plain value is ordinary data.
    const plain = await inject({ method: 'POST', url: '/v1/jobs', headers: { 'content-type': 'application/json' }, payload: `{"task":"${t.name}","payload":{"constructor":"Point"}}` });
    assert.equal(plain.statusCode, 202);
    assert.deepEqual(body<{ payload: unknown }>(plain).payload, { constructor: 'Point' });
  });

  it('413 for a declared Content-Length over the limit', async () => {
    const t = echoTask();
    const { inject } = s.api({ offload: { tasks: [t] }, http: { bodyLimitBytes: 2048 } });
    const res = await inject({ method: 'POST', url: '/v1/jobs', headers: { 'content-type': 'application/json' }, payload: JSON.stringify({ task: t.name, payload: 'x'.repeat(4000) }) });
    assert.equal(res.statusCode, 413);
    const p = body<Problem>(res);
    assert.equal(p.code, 'OFFLOAD_HTTP_BODY_TOO_LARGE');
    assert.equal(p.limitBytes, 2048);
    assert.equal(await jobsOf(inject, t.name), 0);
  });

  it('413 for a chunked body over the limit, answered while the client is still sending (real socket)', async () => {
    const t = echoTask();
    const { server, inject } = s.api({ offload: { tasks: [t] }, http: { bodyLimitBytes: 64 * 1024 } });
    const url = new URL('/v1/jobs', await server.listen({ port: 0 }));
    const chunk = Buffer.alloc(16 * 1024, 'x');
    // The client would send 64 MiB, a thousand times the limit, if the server let it.
    const plannedBytes = 64 * 2 ** 20;
    const outcome = await new Promise<{ status: number; text: string; sentBytes: number; ended: boolean }>((resolve, reject) => {
      let sentBytes = 0;
      const state = { answered: false };
      const req = request(url, { method: 'POST', headers: { 'content-type': 'application/json', 'transfer-encoding': 'chunked' } }, (res) => {
        state.answered = true;
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (text += d));
        res.on('end', () => {
          resolve({ status: res.statusCode ?? 0, text, sentBytes, ended: req.writableEnded });
          req.destroy();
        });
      });
      // The server closes the connection after its answer; a write racing that close fails.
      req.on('error', (err) => (state.answered ? undefined : reject(err)));
      const pump = () => {
        while (!state.answered && sentBytes < plannedBytes) {
          sentBytes += chunk.length;
          const first = sentBytes === chunk.length;
          if (!req.write(first ? Buffer.concat([Buffer.from(`{"task":"${t.name}","payload":"`), chunk]) : chunk)) {
            req.once('drain', pump);
            return;
          }
        }
        if (!state.answered) req.end('"}');
      };
      pump();
    });
    assert.equal(outcome.status, 413);
    assert.equal(body<Problem>({ body: outcome.text }).code, 'OFFLOAD_HTTP_BODY_TOO_LARGE');
    assert.equal(outcome.ended, false, 'the answer came before the client finished its body');
    assert.ok(outcome.sentBytes < plannedBytes);
    assert.equal(await jobsOf(inject, t.name), 0);
  });

  it('an empty body with a JSON content type is no body (cancel needs none)', async () => {
    const t = echoTask();
    const { inject } = s.api({ offload: { tasks: [t] } });
    const job = body<{ id: string }>(await inject({ method: 'POST', url: '/v1/jobs', payload: { task: t.name } }));
    const res = await inject({ method: 'POST', url: `/v1/jobs/${job.id}/cancel`, headers: { 'content-type': 'application/json' }, payload: '' });
    assert.equal(res.statusCode, 200);
    // POST /v1/jobs does need one.
    const none = await inject({ method: 'POST', url: '/v1/jobs', headers: { 'content-type': 'application/json' }, payload: '' });
    assert.equal(none.statusCode, 422);
    assert.equal(body<Problem>(none).code, 'OFFLOAD_HTTP_INVALID_REQUEST');
  });
});
