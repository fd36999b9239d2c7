import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compileSchema, isDateTime, pointerTo, validatorCompiler } from './validator.ts';

describe('validator', () => {
  const body = compileSchema(
    {
      type: 'object',
      additionalProperties: false,
      required: ['name'],
      properties: {
        name: { type: 'string', minLength: 2, maxLength: 5, pattern: '^[a-z]+$' },
        n: { type: 'integer', minimum: 1, maximum: 9 },
        at: { type: 'string', format: 'date-time' },
        tags: { type: 'array', maxItems: 2, minItems: 1, items: { type: 'string', enum: ['a', 'b'] } },
        any: { description: 'anything' },
        maybe: { type: ['string', 'null'] },
      },
    },
    { coerceStrings: false },
  );

  it('accepts a valid value unchanged', () => {
    const value = { name: 'abc', n: 3, at: '2030-01-01T00:00:00Z', tags: ['a'], any: { x: [1] }, maybe: null };
    assert.deepEqual(body(value), { value });
  });

  it('reports every issue with a JSON Pointer', () => {
    const r = body({ n: 0.5, at: '2030-01-01', tags: ['c', 'a', 'b'], extra: 1, maybe: 3 });
    assert.ok('issues' in r);
    assert.deepEqual(r.issues.map((i) => i.pointer).toSorted(), ['/at', '/extra', '/maybe', '/n', '/name', '/tags'].toSorted());
    const named = body({ name: 'A', tags: ['c'] });
    assert.ok('issues' in named);
    assert.deepEqual(named.issues.map((i) => `${i.pointer} ${i.message}`).toSorted(), [
      '/name must have at least 2 characters',
      '/name must match ^[a-z]+$',
      '/tags/0 must be one of "a", "b"',
    ]);
  });

  it('does not coerce bodies', () => {
    assert.ok('issues' in body({ name: 'abc', n: '3' }));
  });

  it('coerces query strings, parameters and headers, without mutating the input', () => {
    const q = compileSchema(
      { type: 'object', properties: { limit: { type: 'integer', maximum: 10 }, on: { type: 'boolean' }, state: { type: 'array', items: { type: 'string' } }, one: { type: 'string' } } },
      { coerceStrings: true },
    );
    const input = { limit: '5', on: 'true', state: 'a,b', one: ['x'] };
    assert.deepEqual(q(input), { value: { limit: 5, on: true, state: ['a', 'b'], one: 'x' } });
    assert.deepEqual(input, { limit: '5', on: 'true', state: 'a,b', one: ['x'] });
    assert.deepEqual(q({ state: ['a', 'b'] }), { value: { state: ['a', 'b'] } });
    assert.ok('issues' in q({ limit: '5x' }));
    assert.ok('issues' in q({ limit: '50' }));
  });

  it('refuses, at compile time, a keyword it does not check', () => {
    assert.throws(() => compileSchema({ type: 'object', oneOf: [] }, { coerceStrings: false }), /unsupported schema keyword 'oneOf'/);
    assert.throws(() => compileSchema({ type: 'string', format: 'email' }, { coerceStrings: false }), /unsupported format/);
    assert.throws(() => compileSchema({ type: 'thing' }, { coerceStrings: false }), /unknown type/);
    assert.throws(() => compileSchema({ type: 'object', required: ['x'] }, { coerceStrings: false }), /required 'x' has no schema/);
    assert.throws(() => compileSchema({ type: 'object', additionalProperties: {} }, { coerceStrings: false }), /additionalProperties must be a boolean/);
  });

  it('stops checking items past maxItems', () => {
    const check = compileSchema({ type: 'array', maxItems: 1, items: { type: 'integer' } }, { coerceStrings: false });
    assert.deepEqual(check(['a', 'b', 'c']), { issues: [{ pointer: '', message: 'must have at most 1 items' }] });
  });

  it('as a Fastify compiler: bodies strict, other parts coerced', () => {
    const schema = { type: 'object', properties: { n: { type: 'integer' } } };
    assert.ok(validatorCompiler({ schema, httpPart: 'body' })({ n: '1' }).error !== undefined);
    assert.deepEqual(validatorCompiler({ schema, httpPart: 'querystring' })({ n: '1' }), { value: { n: 1 } });
  });

  it('escapes pointer segments', () => {
    assert.equal(pointerTo('/a', 'b/c~d'), '/a/b~1c~0d');
  });

  it('takes date-times of real calendar dates only; impossible ones are refused, not rolled over', () => {
    for (const v of ['2030-01-01T00:00:00Z', '2028-02-29T23:59:59.999+14:00', '2030-12-31t10:00:00z', '2030-06-30 08:00:00-05:30']) assert.equal(isDateTime(v), true, v);
    for (const v of ['2030-02-31T00:00:00Z', '2029-02-29T00:00:00Z', '2030-04-31T10:00:00Z', '2030-01-01T24:00:00Z', '2030-01-01T10:60:00Z', '2030-13-01T00:00:00Z', '2030-00-10T00:00:00Z', '2030-01-01T00:00:00+24:00', '2030-01-01T00:00:00', '2030-01-01']) {
      assert.equal(isDateTime(v), false, v);
    }
  });
});
