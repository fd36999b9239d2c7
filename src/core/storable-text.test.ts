import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { findUnstorable, jsonTextRefused, storableError, storableText, textProblem } from './storable-text.ts';

const refused = (v: unknown) => jsonTextRefused(JSON.stringify(v));

describe('storable text', () => {
  it('finds NUL and unpaired surrogates in text, and nothing in well-formed text', () => {
    assert.match(textProblem('a\u0000') ?? '', /NUL/);
    assert.match(textProblem('\udc00x') ?? '', /surrogate/);
    assert.match(textProblem('x\ud83d') ?? '', /surrogate/);
    assert.equal(textProblem('😀 \\u0000 plain'), null);
  });

  it('refuses JSON text by its real escapes only, whatever the backslashes before them', () => {
    assert.equal(refused('\u0000'), true);
    assert.equal(refused('\ud800'), true);
    assert.equal(refused('\udfff'), true);
    assert.equal(refused('\\\u0000'), true); // a backslash, then NUL: "\\\u0000"
    assert.equal(refused('\\u0000'), false); // a backslash, then the text u0000
    assert.equal(refused('\\\\u0000'), false);
    assert.equal(refused('😀\u0001\u001f'), false);
    assert.equal(refused({ '\u0000': 1 }), true);
  });

  it('names where the bad text is', () => {
    assert.deepEqual(findUnstorable({ a: [1, { 'b-c': 'x\u0000' }] }), { path: '$.a[1]["b-c"]', problem: 'a NUL character (\\u0000)' });
    assert.deepEqual(findUnstorable({ ok: 'y', ['\ud800']: 1 })?.path, 'a key of $');
    assert.deepEqual(findUnstorable({ d: { toJSON: () => 'z\u0000' } })?.path, '$.d');
    assert.equal(findUnstorable({ fine: ['😀'] }), null);
  });

  it('makes text and errors storable without losing the rest', () => {
    assert.equal(storableText('a\u0000b\ud800'), 'a\ufffdb\ufffd');
    const e = storableError({ name: 'E', code: undefined, message: 'm\u0000', stack: 's\u0000', details: { k: 'v\u0000', ['\u0000']: [1n] } });
    assert.deepEqual([e.message, e.stack], ['m\ufffd', 's\ufffd']);
    assert.match(String(e.details), /not JSON-serializable/);
    assert.deepEqual(storableError({ name: 'E', code: 'X', message: 'm', stack: undefined, details: { k: 'v\u0000', ['\u0000']: '\\u0000' } }).details, { k: 'v\ufffd', '\ufffd': '\\u0000' });
  });
});
