/**
 * /openapi.json: a valid OpenAPI 3.1 document, generated from the routes, that covers every route
 * and the responses it can give, on both stores.
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { Validator } from '@seriousme/openapi-schema-validator';
import { body, httpSuite } from './harness.ts';

interface Operation {
  operationId: string;
  parameters?: Array<{ name: string; in: string; required: boolean; schema: Record<string, unknown> }>;
  requestBody?: { required: boolean };
  responses: Record<string, { description: string; content?: Record<string, { schema: Record<string, unknown> }> }>;
  security: Array<Record<string, string[]>>;
}
type Doc = { openapi: string; paths: Record<string, Record<string, Operation>>; components: { schemas: Record<string, unknown> } };

const ROUTES = [
  ['post', '/v1/jobs', 'submit'],
  ['post', '/v1/jobs:batch', 'submit'],
  ['get', '/v1/jobs', 'read'],
  ['get', '/v1/jobs/{id}', 'read'],
  ['post', '/v1/jobs/{id}/cancel', 'admin'],
  ['post', '/v1/jobs/{id}/retry', 'admin'],
  ['delete', '/v1/jobs/{id}', 'admin'],
  ['post', '/v1/jobs/bulk', 'admin'],
  ['get', '/v1/jobs/{id}/events', 'read'],
  ['get', '/v1/jobs/{id}/result', 'read'],
  ['get', '/v1/queues', 'read'],
  ['post', '/v1/queues/{name}/pause', 'admin'],
  ['post', '/v1/queues/{name}/resume', 'admin'],
  ['get', '/v1/workers', 'read'],
  ['get', '/healthz', null],
  ['get', '/readyz', null],
] as const;

httpSuite('GET /openapi.json', (s) => {
  it('is a valid OpenAPI 3.1 document', async () => {
    const { inject } = s.api({ http: { tokens: 'ci:read:secret-secret-secret' } });
    const res = await inject({ method: 'GET', url: '/openapi.json' });
    assert.equal(res.statusCode, 200);
    const doc = body<Doc>(res);
    assert.equal(doc.openapi, '3.1.0');
    const result = await new Validator().validate(doc);
    assert.deepEqual(result.errors, undefined);
    assert.equal(result.valid, true);
  });

  it('lists every route with its scope, parameters and problem responses', async () => {
    const { inject } = s.api({ http: { tokens: 'ci:read:secret-secret-secret' } });
    const doc = body<Doc>(await inject({ method: 'GET', url: '/openapi.json' }));
    const listed = Object.entries(doc.paths).flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m} ${path}`));
    assert.deepEqual(listed.toSorted(), ROUTES.map(([m, p]) => `${m} ${p}`).toSorted());
    for (const [method, path, scope] of ROUTES) {
      const op = doc.paths[path]![method]!;
      assert.deepEqual(op.security, scope === null ? [] : [{ apiToken: [scope] }], `${method} ${path}`);
      assert.ok(typeof op.operationId === 'string');
    }
    const submit = doc.paths['/v1/jobs']!['post']!;
    assert.deepEqual(Object.keys(submit.responses).toSorted(), ['200', '202', '400', '401', '403', '409', '413', '415', '422', '429', '503']);
    assert.deepEqual(submit.responses['202']!.content!['application/json']!.schema, { $ref: '#/components/schemas/Job', description: 'Accepted: the job was created.' });
    assert.ok(submit.responses['429']!.content!['application/problem+json'] !== undefined);
    assert.deepEqual(submit.parameters?.map((p) => [p.name, p.in, p.required]), [['idempotency-key', 'header', false]]);
    assert.equal(submit.requestBody?.required, true);
    assert.equal(doc.paths['/v1/jobs/{id}/cancel']!['post']!.requestBody?.required, false);
    const list = doc.paths['/v1/jobs']!['get']!;
    assert.deepEqual(list.parameters?.map((p) => p.name), ['state', 'task', 'queue', 'idempotencyKey', 'cursor', 'limit']);
    assert.deepEqual(doc.paths['/v1/jobs/{id}']!['get']!.parameters?.map((p) => [p.name, p.in, p.required]), [['id', 'path', true]]);
    assert.ok(doc.paths['/v1/jobs/{id}/events']!['get']!.responses['200']!.content!['text/event-stream'] !== undefined);
    assert.equal(doc.paths['/v1/jobs/{id}']!['delete']!.responses['204']!.content, undefined);
    assert.deepEqual(Object.keys(doc.components.schemas).toSorted(), ['Job', 'Problem']);
  });

  it('without tokens, no operation asks for one', async () => {
    const { inject } = s.api();
    const doc = body<Doc>(await inject({ method: 'GET', url: '/openapi.json' }));
    for (const ops of Object.values(doc.paths)) for (const op of Object.values(ops)) assert.deepEqual(op.security, []);
  });
});
