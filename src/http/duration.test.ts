import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseDuration } from './duration.ts';

describe('parseDuration', () => {
  it('reads ms, s, m and bare seconds', () => {
    assert.equal(parseDuration('250ms'), 250);
    assert.equal(parseDuration('30s'), 30_000);
    assert.equal(parseDuration('2m'), 120_000);
    assert.equal(parseDuration('15'), 15_000);
    assert.equal(parseDuration('0'), 0);
  });
  it('refuses anything else', () => {
    for (const text of ['', '1h', '-1s', '1.5s', 's', '10 s', '1234567890']) assert.equal(parseDuration(text), null, text);
  });
});
