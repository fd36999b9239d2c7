import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { forbiddenKey, jsonDepth, parseJsonBody } from './json-body.ts';
import { HttpProblem } from './problem.ts';

const code = (fn: () => unknown) => {
  try {
    fn();
  } catch (err) {
    return err instanceof HttpProblem ? err.code : 'not a problem';
  }
  return 'no error';
};

describe('json body', () => {
  it('measures depth, skipping strings and escaped quotes', () => {
    assert.equal(jsonDepth('1'), 0);
    assert.equal(jsonDepth('{"a":[1,{"b":[]}]}'), 4);
    assert.equal(jsonDepth('{"a":"[[[{{{\\"[[["}'), 1);
  });

  it('finds prototype keys at any depth, and only those', () => {
    assert.equal(forbiddenKey(JSON.parse('{"a":[{"b":{"__proto__":1}}]}')), '/a/0/b/__proto__');
    assert.equal(forbiddenKey(JSON.parse('{"constructor":{"prototype":{}}}')), '/constructor/prototype');
    assert.equal(forbiddenKey(JSON.parse('{"constructor":{"name":"x"},"proto":1,"__proto":2}')), null);
    assert.equal(forbiddenKey(JSON.parse('{"a/b":{"__proto__":0}}')), '/a~1b/__proto__');
  });

  it('parses, or refuses with the code of the problem', () => {
    assert.deepEqual(parseJsonBody('{"a":[1]}', 4), { a: [1] });
    assert.equal(parseJsonBody('', 4), undefined);
    assert.equal(code(() => parseJsonBody('{"a":', 4)), 'OFFLOAD_HTTP_MALFORMED_JSON');
    assert.equal(code(() => parseJsonBody('[[[[[]]]]]', 4)), 'OFFLOAD_HTTP_TOO_DEEP');
    assert.equal(code(() => parseJsonBody('{"\\u005f\\u005fproto\\u005f\\u005f":{}}', 4)), 'OFFLOAD_HTTP_FORBIDDEN_KEY');
    assert.equal(({} as Record<string, unknown>)['polluted'], undefined);
  });
});
