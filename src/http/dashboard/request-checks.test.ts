import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { FastifyRequest } from 'fastify';
import { cookieHeader, readCookie, SESSION_COOKIE } from './cookies.ts';
import { originProblem, sameToken } from './csrf.ts';
import { isLoopbackHostHeader, loopbackProblem } from './loopback.ts';

// The checks read only these fields of a request.
const request = (headers: Record<string, string>, remoteAddress = '127.0.0.1') => ({ headers, socket: { remoteAddress } }) as unknown as FastifyRequest;

describe('cookies', () => {
  it('reads the named cookie among others, and only values the dashboard could have set', () => {
    assert.equal(readCookie('a=1; offload_session=abc_DEF-9; b=2', SESSION_COOKIE), 'abc_DEF-9');
    assert.equal(readCookie(undefined, SESSION_COOKIE), undefined);
    assert.equal(readCookie('offload_sessionx=1', SESSION_COOKIE), undefined);
    assert.equal(readCookie('offload_session=a%20b', SESSION_COOKIE), undefined);
    assert.equal(readCookie('offload_session=', SESSION_COOKIE), undefined);
    assert.equal(readCookie('junk; offload_session=ok', SESSION_COOKIE), 'ok');
  });

  it('writes HttpOnly, SameSite=Strict cookies; Secure over HTTPS; Max-Age 0 deletes', () => {
    assert.equal(cookieHeader('n', 'v', { path: '/', maxAgeS: 60.7, secure: false }), 'n=v; Path=/; Max-Age=60; HttpOnly; SameSite=Strict');
    assert.equal(cookieHeader('n', '', { path: '/login', maxAgeS: -1, secure: true }), 'n=; Path=/login; Max-Age=0; HttpOnly; SameSite=Strict; Secure');
  });
});

describe('CSRF checks', () => {
  it('sameToken: equal non-empty strings only', () => {
    assert.equal(sameToken('abc', 'abc'), true);
    assert.equal(sameToken('abd', 'abc'), false);
    assert.equal(sameToken('', ''), false);
    assert.equal(sameToken(undefined, 'abc'), false);
    assert.equal(sameToken(['abc'], 'abc'), false);
  });

  it('an Origin must name the host the request was sent to; none is fine', () => {
    assert.equal(originProblem(request({ host: '127.0.0.1:3000' })), null);
    assert.equal(originProblem(request({ host: '127.0.0.1:3000', origin: 'http://127.0.0.1:3000' })), null);
    assert.match(originProblem(request({ host: '127.0.0.1:3000', origin: 'http://evil.example' })) ?? '', /another origin \(evil\.example\)/);
    assert.match(originProblem(request({ host: '127.0.0.1:3000', origin: 'http://127.0.0.1:4000' })) ?? '', /another origin/);
    assert.equal(originProblem(request({ host: 'localhost:80', origin: 'http://localhost' })), null, 'the default port is implied');
    assert.equal(originProblem(request({ host: 'ops.example:443', origin: 'https://OPS.example' })), null);
    assert.match(originProblem(request({ host: 'localhost:443', origin: 'http://localhost' })) ?? '', /another origin/);
    assert.match(originProblem(request({ host: 'x', origin: 'null' })) ?? '', /opaque origin/);
    assert.match(originProblem(request({ host: 'x', origin: 'not a url' })) ?? '', /not a URL/);
    assert.match(originProblem(request({ origin: 'http://x' })) ?? '', /another origin/);
  });
});

describe('loopback checks', () => {
  it('loopback host names, with or without a port', () => {
    for (const h of ['localhost', 'localhost:3000', '127.0.0.1', '127.1.2.3:80', '[::1]', '[::1]:3000', 'LOCALHOST']) assert.equal(isLoopbackHostHeader(h), true, h);
    for (const h of [undefined, '', 'evil.example', '127.0.0.1.evil.example', '10.0.0.1:3000', '[::2]:3000', 'localhost.evil']) assert.equal(isLoopbackHostHeader(h), false, String(h));
  });

  it('needs a loopback peer and a loopback Host header', () => {
    assert.equal(loopbackProblem(request({ host: 'localhost:3000' })), null);
    assert.equal(loopbackProblem(request({ host: '[::1]:3000' }, '::ffff:127.0.0.1')), null);
    assert.match(loopbackProblem(request({ host: 'localhost' }, '10.1.2.3')) ?? '', /loopback\) are served/);
    assert.match(loopbackProblem(request({ host: 'rebound.evil.example' })) ?? '', /loopback host name/);
  });
});
