import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { newSecret, SessionStore } from './sessions.ts';

function store(over: { maxSessions?: number } = {}) {
  let now = 1_000_000;
  const s = new SessionStore({ idleMs: 1000, maxAgeMs: 5000, maxSessions: over.maxSessions ?? 100, now: () => now });
  return { s, advance: (ms: number) => (now += ms), owner: { user: 'ops', scopes: ['read' as const], secret: 'x'.repeat(20) } };
}

describe('SessionStore', () => {
  it('finds a session by its id until it has been idle for idleMs; a request extends it', () => {
    const { s, advance, owner } = store();
    const a = s.create(owner);
    assert.equal(s.get(a.id), a);
    advance(999);
    s.touch(a);
    advance(999);
    assert.equal(s.get(a.id), a, 'touched 999 ms ago: still live');
    advance(1);
    assert.equal(s.get(a.id), null, 'idle for idleMs: ended');
    assert.equal(s.size, 0, 'an expired session met is dropped');
  });

  it('ends maxAgeMs after the login however often it is used', () => {
    const { s, advance, owner } = store();
    const a = s.create(owner);
    for (let i = 0; i < 5; i++) {
      advance(900);
      s.touch(a);
    }
    assert.equal(s.expiresAtMs(a), a.createdAtMs + 5000);
    advance(499);
    assert.equal(s.get(a.id), a, 'idle 499 ms, 4999 ms old');
    advance(1);
    assert.equal(s.get(a.id), null, 'idle 500 ms only, but maxAgeMs old');
  });

  it('fresh ids and CSRF tokens each time; unknown, empty and deleted ids find nothing', () => {
    const { s, owner } = store();
    const a = s.create(owner);
    const b = s.create(owner);
    assert.notEqual(a.id, b.id);
    assert.notEqual(a.csrfToken, b.csrfToken);
    assert.notEqual(a.id, a.csrfToken);
    assert.match(a.id, /^[A-Za-z0-9_-]{43}$/);
    assert.equal(s.get(undefined), null);
    assert.equal(s.get(''), null);
    assert.equal(s.get(newSecret()), null);
    s.delete(a.id);
    assert.equal(s.get(a.id), null);
    assert.equal(s.get(b.id), b);
    s.clear();
    assert.equal(s.size, 0);
  });

  it('a login sweeps expired sessions, and beyond maxSessions ends the oldest', () => {
    const { s, advance, owner } = store({ maxSessions: 2 });
    s.create(owner);
    advance(2000);
    const b = s.create(owner);
    assert.equal(s.size, 1, 'the expired one was swept');
    const c = s.create(owner);
    const d = s.create(owner);
    assert.equal(s.size, 2);
    assert.equal(s.get(b.id), null, 'the oldest made room');
    assert.equal(s.get(c.id), c);
    assert.equal(s.get(d.id), d);
  });

  it('keeps the owner and its scopes', () => {
    const { s } = store();
    const a = s.create({ user: null, scopes: ['read', 'admin'], secret: null });
    assert.equal(a.user, null);
    assert.equal(a.secret, null);
    assert.deepEqual([...a.scopes], ['read', 'admin']);
  });
});
