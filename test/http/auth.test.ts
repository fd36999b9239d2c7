/**
 * API tokens and scopes, and the loopback-only rule without tokens, on both stores.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { it } from 'node:test';
import { defineTask, isOffloadError } from '../../src/index.ts';
import { createHttpServer } from '../../src/http/index.ts';
import { body, httpSuite, type Problem } from './harness.ts';

const READ = 'r3ad-0nly-secret-0123456789';
const SUBMIT = 'subm1t-secret-0123456789abc';
const ADMIN = 'adm1n:secret:with:colons-0123';
const bearer = (secret: string) => ({ authorization: `Bearer ${secret}` });

httpSuite('API tokens', (s) => {
  const t = defineTask({ name: s.unique('guarded'), handler: () => null });
  const tokens = `reader:read:${READ};producer:submit:${SUBMIT};ops:admin:${ADMIN}`;

  it('401 without a token or with a wrong or malformed one, with a WWW-Authenticate challenge', async () => {
    const { inject } = s.api({ offload: { tasks: [t] }, http: { tokens } });
    const none = await inject({ method: 'GET', url: '/v1/jobs' });
    assert.equal(none.statusCode, 401);
    assert.equal(body<Problem>(none).code, 'OFFLOAD_HTTP_UNAUTHORIZED');
    assert.equal(none.headers['www-authenticate'], 'Bearer realm="offload"');
    for (const authorization of ['Bearer wrong-token-0123456789', 'Basic dXNlcjpwYXNz', `Bearer ${READ.slice(0, -1)}`, `Bearer  `, READ]) {
      const res = await inject({ method: 'GET', url: '/v1/jobs', headers: { authorization } });
      assert.equal(res.statusCode, 401, authorization);
      assert.match(String(res.headers['www-authenticate']), /error="invalid_token"/);
    }
  });

  it('403 for a token without the scope; admin includes read and submit', async () => {
    const { inject } = s.api({ offload: { tasks: [t] }, http: { tokens } });
    const submit = (secret: string) => inject({ method: 'POST', url: '/v1/jobs', headers: bearer(secret), payload: { task: t.name } });

    const readerSubmits = await submit(READ);
    assert.equal(readerSubmits.statusCode, 403);
    assert.equal(body<Problem>(readerSubmits).code, 'OFFLOAD_HTTP_FORBIDDEN');
    assert.equal(body<Problem>(readerSubmits).requiredScope, 'submit');

    const made = await submit(SUBMIT);
    assert.equal(made.statusCode, 202);
    const { id } = body<{ id: string }>(made);
    // submit does not include read: a producer cannot read other producers' jobs.
    assert.equal((await inject({ method: 'GET', url: `/v1/jobs/${id}`, headers: bearer(SUBMIT) })).statusCode, 403);
    assert.equal((await inject({ method: 'GET', url: `/v1/jobs/${id}`, headers: bearer(READ) })).statusCode, 200);
    for (const url of [`/v1/jobs/${id}/cancel`, `/v1/jobs/${id}/retry`, '/v1/queues/default/pause', '/v1/queues/default/resume']) {
      assert.equal((await inject({ method: 'POST', url, headers: bearer(READ) })).statusCode, 403, url);
      assert.equal((await inject({ method: 'POST', url, headers: bearer(SUBMIT) })).statusCode, 403, url);
    }
    assert.equal((await inject({ method: 'DELETE', url: `/v1/jobs/${id}`, headers: bearer(SUBMIT) })).statusCode, 403);

    assert.equal((await submit(ADMIN)).statusCode, 202);
    assert.equal((await inject({ method: 'GET', url: '/v1/queues', headers: bearer(ADMIN) })).statusCode, 200);
    assert.equal((await inject({ method: 'POST', url: `/v1/jobs/${id}/cancel`, headers: bearer(ADMIN) })).statusCode, 200);
    assert.equal((await inject({ method: 'DELETE', url: `/v1/jobs/${id}`, headers: bearer(ADMIN) })).statusCode, 204);
  });

  it('the token check runs before the body is read: an unauthenticated malformed body gets 401, not 400', async () => {
    const { inject } = s.api({ offload: { tasks: [t] }, http: { tokens } });
    const res = await inject({ method: 'POST', url: '/v1/jobs', headers: { 'content-type': 'application/json' }, payload: '{not json' });
    assert.equal(res.statusCode, 401);
  });

  it('health, readiness and the OpenAPI document need no token', async () => {
    const { inject } = s.api({ offload: { tasks: [t] }, http: { tokens } });
    for (const url of ['/healthz', '/readyz', '/openapi.json']) assert.equal((await inject({ method: 'GET', url })).statusCode, 200, url);
  });

  it('a token given by its sha256 works like its secret', async () => {
    const secret = 'hashed-secret-0123456789';
    const sha256 = createHash('sha256').update(secret).digest('hex');
    const { inject } = s.api({ offload: { tasks: [t] }, http: { tokens: [{ name: 'ci', scopes: ['read'], sha256 }] } });
    assert.equal((await inject({ method: 'GET', url: '/v1/jobs', headers: bearer(secret) })).statusCode, 200);
    assert.equal((await inject({ method: 'GET', url: '/v1/jobs', headers: bearer(sha256) })).statusCode, 401);
    const fromText = s.api({ offload: { tasks: [t] }, http: { tokens: `ci:read:sha256:${sha256}` } });
    assert.equal((await fromText.inject({ method: 'GET', url: '/v1/jobs', headers: bearer(secret) })).statusCode, 200);
  });

  it('refuses bad token configurations without repeating the secret', () => {
    const offload = s.client();
    for (const [tokensOption, pattern] of [
      ['ci:read:short', /at least 16 characters/],
      ['ci:write:long-enough-secret-123', /unknown scope 'write'/],
      ['ci:read', /not name:scopes:secret/],
      ['ci:read:long-enough-secret-123;ci:admin:another-long-secret-1', /two tokens are named 'ci'/],
      ['a:read:long-enough-secret-123;b:admin:long-enough-secret-123', /same secret/],
      ['bad name:read:long-enough-secret-123', /name must match/],
      [[{ name: 'x', scopes: [], secret: 'long-enough-secret-123' }], /non-empty/],
    ] as const) {
      assert.throws(
        () => createHttpServer({ offload, tokens: tokensOption, logger: false }),
        (err: unknown) => isOffloadError(err, 'OFFLOAD_INVALID_OPTIONS') && pattern.test(err.message) && !err.message.includes('long-enough-secret'),
        JSON.stringify(tokensOption),
      );
    }
  });
});

httpSuite('without tokens: loopback only', (s) => {
  it('refuses to listen on an address other than loopback, naming the fix', async () => {
    const { server } = s.api();
    for (const host of ['0.0.0.0', '::', '10.1.2.3', 'example.test']) {
      await assert.rejects(server.listen({ host, port: 0 }), (err: unknown) => isOffloadError(err, 'OFFLOAD_INVALID_OPTIONS') && /OFFLOAD_API_TOKENS/.test(err.message), host);
    }
    const url = await server.listen({ host: '127.0.0.1', port: 0 });
    assert.match(url, /^http:\/\/127\.0\.0\.1:\d+$/);
    const res = await fetch(`${url}/v1/jobs`);
    assert.equal(res.status, 200);
  });

  it('serves loopback peers only, also when mounted in an app that listens elsewhere', async () => {
    const { inject } = s.api();
    assert.equal((await inject({ method: 'GET', url: '/v1/jobs', remoteAddress: '::1' })).statusCode, 200);
    const remote = await inject({ method: 'GET', url: '/v1/jobs', remoteAddress: '10.0.0.7' });
    assert.equal(remote.statusCode, 403);
    assert.equal(body<Problem>(remote).code, 'OFFLOAD_HTTP_FORBIDDEN');
    // Liveness stays open to a prober on the network.
    assert.equal((await inject({ method: 'GET', url: '/healthz', remoteAddress: '10.0.0.7' })).statusCode, 200);
  });
});
