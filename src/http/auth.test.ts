import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { parseApiTokens, TokenStore } from './auth.ts';

describe('API tokens', () => {
  it('parses name:scopes:secret entries; the secret keeps its colons; sha256: gives a hash', () => {
    const hash = 'a'.repeat(64);
    assert.deepEqual(parseApiTokens(' ci:read,submit:s3cr:et-0123456789 ; ; ops:admin:sha256:' + hash + ';'), [
      { name: 'ci', scopes: ['read', 'submit'], secret: 's3cr:et-0123456789' },
      { name: 'ops', scopes: ['admin'], sha256: hash },
    ]);
    // Not 64 hex digits: an ordinary secret that happens to start with "sha256:".
    assert.deepEqual(parseApiTokens('x:read:sha256:short-but-long-enough'), [{ name: 'x', scopes: ['read'], secret: 'sha256:short-but-long-enough' }]);
    assert.throws(() => parseApiTokens('justaname'), /entry 1 is not name:scopes:secret/);
    assert.deepEqual(parseApiTokens(''), []);
  });

  it('finds a token by its secret, and nothing by its hash or a near miss', () => {
    const secret = 'correct-horse-battery-staple';
    const store = new TokenStore([
      { name: 'a', scopes: ['read'], secret },
      { name: 'b', scopes: ['admin'], sha256: createHash('sha256').update('another-secret-value').digest('hex') },
    ]);
    assert.equal(store.enabled, true);
    assert.equal(store.find(secret)?.name, 'a');
    assert.equal(store.find('another-secret-value')?.name, 'b');
    assert.equal(store.find(`${secret} `), null);
    assert.equal(store.find(createHash('sha256').update(secret).digest('hex')), null);
    assert.equal(new TokenStore([]).enabled, false);
  });
});
