/**
 * Redacted payload paths (`redact`) on every route that shows a payload, on both stores: the
 * secret never appears in a response, of the API or of the dashboard, and the rest of the payload does.
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { createHttpServer } from '../../src/http/index.ts';
import { defineTask } from '../../src/index.ts';
import { login, OPS } from '../dashboard/harness.ts';
import { httpSuite } from './harness.ts';

const SECRET = 'hunter2-0b7c1e';
const CARD = '4111111111111111';
const ADMIN = 'adm1n-secret-0123456789abcd';

httpSuite('redacted payload paths', (s) => {
  const payload = { user: 'ada', password: SECRET, card: { number: CARD, exp: '12/30' }, items: [{ token: SECRET }, { token: SECRET }] };
  const redact = ['password', 'card.number', 'items[*].token'];

  it('are replaced in every job view of the API and of the dashboard, and the secret is nowhere in any response', async () => {
    const t = defineTask({ name: s.unique('pay'), handler: () => null });
    const { inject, offload } = s.api({ offload: { tasks: [t] }, http: { redact, tokens: `api:admin:${ADMIN};${OPS.name}:admin:${OPS.secret}` } });
    const auth = { authorization: `Bearer ${ADMIN}` };
    const submitted = await inject({ method: 'POST', url: '/v1/jobs', headers: auth, payload: { task: t.name, payload } });
    assert.equal(submitted.statusCode, 202, submitted.body);
    const id = (JSON.parse(submitted.body) as { id: string }).id;
    const batch = await inject({ method: 'POST', url: '/v1/jobs:batch', headers: auth, payload: { task: t.name, payloads: [payload] } });
    const session = await login(inject, OPS.secret);
    const responses = [
      submitted,
      batch,
      await inject({ method: 'GET', url: `/v1/jobs/${id}`, headers: auth }),
      await inject({ method: 'GET', url: `/v1/jobs?task=${t.name}`, headers: auth }),
      await inject({ method: 'POST', url: `/v1/jobs/${id}/cancel`, headers: auth, payload: {} }),
      await inject({ method: 'POST', url: `/v1/jobs/${id}/retry`, headers: auth }),
      await inject({ method: 'GET', url: `/dashboard/jobs/${id}`, headers: session.headers }),
      await inject({ method: 'GET', url: `/dashboard/api/v1/jobs?task=${t.name}`, headers: session.headers }),
      await inject({ method: 'GET', url: `/dashboard/api/v1/jobs/${id}`, headers: session.headers }),
    ];
    for (const res of responses) {
      assert.ok(res.statusCode < 300, `${res.statusCode} ${res.body}`);
      assert.ok(!res.body.includes(SECRET) && !res.body.includes(CARD), `the secret is not in ${res.body.slice(0, 200)}`);
      assert.match(res.body, /\[redacted\]/);
      assert.match(res.body, /"exp":"12\/30"/, 'the rest of the payload is shown');
    }
    const view = JSON.parse(responses[2]!.body) as { payload: unknown };
    assert.deepEqual(view.payload, { user: 'ada', password: '[redacted]', card: { number: '[redacted]', exp: '12/30' }, items: [{ token: '[redacted]' }, { token: '[redacted]' }] });
    // The store keeps the real payload: the handler gets it.
    const stored = await offload.jobs.get(id);
    assert.equal((stored?.payload as { password?: string } | undefined)?.password, SECRET);
  });

  it('without redact the payload is shown whole; a bad path is refused when the server is made', async () => {
    const t = defineTask({ name: s.unique('plain'), handler: () => null });
    const { inject } = s.api({ offload: { tasks: [t] } });
    const res = await inject({ method: 'POST', url: '/v1/jobs', payload: { task: t.name, payload } });
    assert.match(res.body, new RegExp(SECRET));
    const offload = s.client();
    assert.throws(() => createHttpServer({ offload, logger: false, redact: ['ok', 'not a path'] }), /redact\[1\]/);
    assert.throws(() => createHttpServer({ offload, logger: false, redact: 'password' } as never), /redact/);
  });
});
