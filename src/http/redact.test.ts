import assert from 'node:assert/strict';
import { it } from 'node:test';
import { payloadRedactor } from './redact.ts';

it('replaces the value at every configured path, leaves the rest and the original alone', () => {
  const redact = payloadRedactor(['password', 'card.number', 'users[*].email', '["odd key"]', 'list[1]', 'deep.*.token'])!;
  const payload = {
    user: 'ada',
    password: 's3cret',
    card: { number: '4111', exp: '12/30' },
    users: [{ email: 'a@x', id: 1 }, { id: 2 }],
    'odd key': 1,
    list: ['a', 'b', 'c'],
    deep: { x: { token: 't1' }, y: { token: 't2', keep: true } },
  };
  const copy = structuredClone(payload);
  assert.deepEqual(redact(payload), {
    user: 'ada',
    password: '[redacted]',
    card: { number: '[redacted]', exp: '12/30' },
    users: [{ email: '[redacted]', id: 1 }, { id: 2 }],
    'odd key': '[redacted]',
    list: ['a', '[redacted]', 'c'],
    deep: { x: { token: '[redacted]' }, y: { token: '[redacted]', keep: true } },
  });
  assert.deepEqual(payload, copy, 'the original is not changed');
  assert.equal(redact('just a string'), 'just a string');
  assert.equal(redact(null), null);
});

it('no paths: no redactor; a bad path is refused by name', () => {
  assert.equal(payloadRedactor(undefined), null);
  assert.equal(payloadRedactor([]), null);
  assert.throws(() => payloadRedactor(['ok', 'bad path']), /redact\[1\]: "bad path"/);
});
