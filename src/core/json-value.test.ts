import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { inspect } from 'node:util';
import { isOffloadError, OffloadError, type ErrorCode } from '../errors.ts';
import { canonicalJson, encodeJson } from './json-value.ts';

const BIG = 1 << 20;

/** Runs `fn`, expecting an OffloadError with `code`; returns it. */
function refused(fn: () => unknown, code: ErrorCode): OffloadError {
  let caught: unknown = 'nothing';
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  assert.ok(caught instanceof OffloadError, `expected ${code}, got ${inspect(caught)}`);
  assert.equal(caught.code, code);
  return caught;
}

describe('encodeJson', () => {
  it('returns JSON text that parses back to the same value', () => {
    const value = { to: 'a@example.com', n: 3, tags: ['x', 'y'], nested: { ok: true, none: null }, ratio: 0.5 };
    const text = encodeJson(value, 'payload', BIG, 'OFFLOAD_PAYLOAD_TOO_LARGE');
    assert.deepEqual(JSON.parse(text), value);
  });

  it('encodes JSON primitives at the top level', () => {
    for (const v of [null, 0, -1.25, 'hello', true, false, [], {}]) {
      assert.deepEqual(JSON.parse(encodeJson(v, 'payload', BIG, 'OFFLOAD_PAYLOAD_TOO_LARGE')), v);
    }
  });

  it('undefined at the top level is stored as null (a handler that returns nothing completes)', () => {
    assert.equal(encodeJson(undefined, 'the handler result', BIG, 'OFFLOAD_RESULT_TOO_LARGE'), 'null');
  });

  it('values JSON cannot represent inside an object follow JSON.stringify: dropped keys, null in arrays', () => {
    const text = encodeJson({ a: undefined, f: () => 1, s: Symbol('s'), keep: 1, list: [undefined, () => 1, Number.NaN] }, 'payload', BIG, 'OFFLOAD_PAYLOAD_TOO_LARGE');
    assert.deepEqual(JSON.parse(text), { keep: 1, list: [null, null, null] });
  });

  it('a Date is stored as its ISO string (toJSON)', () => {
    const at = new Date(Date.UTC(2024, 0, 2, 3, 4, 5));
    assert.equal(encodeJson({ at }, 'payload', BIG, 'OFFLOAD_PAYLOAD_TOO_LARGE'), '{"at":"2024-01-02T03:04:05.000Z"}');
  });

  describe('unserializable values give OFFLOAD_INVALID_PAYLOAD naming the value', () => {
    it('a BigInt, at the top or nested, with the JSON error as cause', () => {
      for (const v of [10n, { amount: 10n }, [1, 2n]]) {
        const err = refused(() => encodeJson(v, "payload of task 'charge'", BIG, 'OFFLOAD_PAYLOAD_TOO_LARGE'), 'OFFLOAD_INVALID_PAYLOAD');
        assert.match(err.message, /^payload of task 'charge' is not JSON-serializable: /);
        assert.ok(err.cause instanceof TypeError);
        assert.match(err.message, /BigInt/);
      }
    });

    it('a circular structure, with the JSON error as cause', () => {
      const a: Record<string, unknown> = { name: 'a' };
      a['self'] = a;
      const err = refused(() => encodeJson({ wrap: a }, 'progress', BIG, 'OFFLOAD_PAYLOAD_TOO_LARGE'), 'OFFLOAD_INVALID_PAYLOAD');
      assert.match(err.message, /^progress is not JSON-serializable: .*circular/i);
      assert.ok(err.cause instanceof TypeError);
    });

    it('a function or symbol as the whole value (JSON.stringify returns undefined)', () => {
      for (const v of [() => 1, Symbol('s')]) {
        const err = refused(() => encodeJson(v, 'the handler result', BIG, 'OFFLOAD_RESULT_TOO_LARGE'), 'OFFLOAD_INVALID_PAYLOAD');
        assert.equal(err.message, 'the handler result is not JSON-serializable');
      }
    });

    it('a toJSON that throws', () => {
      const err = refused(
        () => encodeJson({ toJSON: () => { throw new Error('no'); } }, 'payload', BIG, 'OFFLOAD_PAYLOAD_TOO_LARGE'),
        'OFFLOAD_INVALID_PAYLOAD',
      );
      assert.equal((err.cause as Error).message, 'no');
    });

    it('the size code passed in is not used for serialization failures', () => {
      refused(() => encodeJson(1n, 'the handler result', 16, 'OFFLOAD_RESULT_TOO_LARGE'), 'OFFLOAD_INVALID_PAYLOAD');
    });
  });

  describe('size limit (UTF-8 bytes of the JSON text)', () => {
    it('exactly at the limit passes, one byte over fails with the given code and the sizes', () => {
      const value = { k: 'x'.repeat(100) }; // {"k":"xxx..."} = 8 + 100 bytes
      assert.equal(Buffer.byteLength(JSON.stringify(value)), 108);
      assert.equal(encodeJson(value, 'payload', 108, 'OFFLOAD_PAYLOAD_TOO_LARGE').length, 108);
      const err = refused(() => encodeJson(value, "payload of task 'x'", 107, 'OFFLOAD_PAYLOAD_TOO_LARGE'), 'OFFLOAD_PAYLOAD_TOO_LARGE');
      assert.equal(err.message, "payload of task 'x' is 108 bytes, over the limit of 107 bytes");
      assert.deepEqual(err.details, { bytes: 108, maxBytes: 107 });
    });

    it('the code is the caller\'s: results report OFFLOAD_RESULT_TOO_LARGE', () => {
      refused(() => encodeJson('x'.repeat(50), 'the handler result', 16, 'OFFLOAD_RESULT_TOO_LARGE'), 'OFFLOAD_RESULT_TOO_LARGE');
    });

    it('counts bytes, not characters: 2-, 3- and 4-byte characters', () => {
      const cases: Array<[string, number]> = [
        ['é'.repeat(10), 2 + 10 * 2], // quotes + 2 bytes each
        ['語'.repeat(100), 2 + 100 * 3],
        ['😀'.repeat(10), 2 + 10 * 4], // one code point, two UTF-16 units, four bytes
      ];
      for (const [s, bytes] of cases) {
        assert.equal(encodeJson(s, 'payload', bytes, 'OFFLOAD_PAYLOAD_TOO_LARGE'), JSON.stringify(s));
        const err = refused(() => encodeJson(s, 'payload', bytes - 1, 'OFFLOAD_PAYLOAD_TOO_LARGE'), 'OFFLOAD_PAYLOAD_TOO_LARGE');
        assert.deepEqual(err.details, { bytes, maxBytes: bytes - 1 });
      }
    });

    it('accepts exactly when the UTF-8 size is within the limit, around every limit', () => {
      const values = ['ascii only', 'mixé 語 😀 text', '語'.repeat(7), { 名前: '値', n: [1, 2, 3] }, 'é'];
      for (const v of values) {
        const actual = Buffer.byteLength(JSON.stringify(v), 'utf8');
        for (let maxBytes = Math.max(0, actual - 4); maxBytes <= actual * 3 + 4; maxBytes++) {
          let ok: boolean;
          try {
            encodeJson(v, 'payload', maxBytes, 'OFFLOAD_PAYLOAD_TOO_LARGE');
            ok = true;
          } catch (err) {
            assert.ok(err instanceof OffloadError && err.code === 'OFFLOAD_PAYLOAD_TOO_LARGE');
            assert.deepEqual(err.details, { bytes: actual, maxBytes });
            ok = false;
          }
          assert.equal(ok, actual <= maxBytes, `${JSON.stringify(v)} (${actual} bytes) with maxBytes ${maxBytes}`);
        }
      }
    });

    it('a lone surrogate or a NUL is refused as text no store can keep, whatever the size limit', () => {
      // JSON.stringify writes a lone surrogate as the 6 ASCII characters \ud800, which PostgreSQL refuses.
      for (const v of ['\ud800', { a: ['x\u0000'] }]) {
        assert.throws(
          () => encodeJson(v, 'payload', 1024, 'OFFLOAD_PAYLOAD_TOO_LARGE'),
          (err: unknown) => isOffloadError(err, 'OFFLOAD_INVALID_PAYLOAD') && /PostgreSQL cannot store it/.test(err.message),
        );
      }
      // A paired surrogate (one character) is plain text.
      assert.equal(encodeJson('\ud83d\ude00', 'payload', 8, 'OFFLOAD_PAYLOAD_TOO_LARGE'), '"😀"');
    });
  });
});

describe('canonicalJson', () => {
  it('is the same for objects that differ only in key order, and sorts the keys', () => {
    assert.equal(canonicalJson({ b: 1, a: 2 }), canonicalJson({ a: 2, b: 1 }));
    assert.equal(canonicalJson({ b: 1, a: 2, c: 3 }), '{"a":2,"b":1,"c":3}');
  });

  it('sorts keys at every depth, including objects inside arrays', () => {
    const x = { z: { y: 1, x: [{ b: 1, a: 2 }, { d: { f: 1, e: 2 } }] }, a: null };
    const y = { a: null, z: { x: [{ a: 2, b: 1 }, { d: { e: 2, f: 1 } }], y: 1 } };
    assert.equal(canonicalJson(x), canonicalJson(y));
    assert.equal(canonicalJson(x), '{"a":null,"z":{"x":[{"a":2,"b":1},{"d":{"e":2,"f":1}}],"y":1}}');
  });

  it('keeps array order: arrays with the same items in another order differ', () => {
    assert.notEqual(canonicalJson([1, 2]), canonicalJson([2, 1]));
    assert.equal(canonicalJson([3, 1, 2]), '[3,1,2]');
  });

  it('different values give different text', () => {
    assert.notEqual(canonicalJson({ a: 1 }), canonicalJson({ a: 2 }));
    assert.notEqual(canonicalJson({ a: 1 }), canonicalJson({ a: 1, b: null }));
    assert.notEqual(canonicalJson({ a: { b: 1 } }), canonicalJson({ a: { c: 1 } }));
    assert.notEqual(canonicalJson({ a: '1' }), canonicalJson({ a: 1 }));
  });

  it('round-trips to an equal value', () => {
    const v = { b: [1, { d: 'x', c: true }], a: { y: null, x: -0.5 }, '10': 1, '9': 2, '': 'empty key' };
    assert.deepEqual(JSON.parse(canonicalJson(v)), v);
  });

  it('numeric-looking keys are ordered the same whatever the insertion order', () => {
    assert.equal(canonicalJson({ '10': 'a', '9': 'b', x: 1 }), canonicalJson({ x: 1, '9': 'b', '10': 'a' }));
  });

  it('primitives and null are plain JSON', () => {
    assert.equal(canonicalJson(null), 'null');
    assert.equal(canonicalJson('s'), '"s"');
    assert.equal(canonicalJson(42), '42');
    assert.equal(canonicalJson(false), 'false');
  });

  it('applies toJSON before sorting (a Date becomes its ISO string)', () => {
    const at = new Date(Date.UTC(2024, 0, 1));
    assert.equal(canonicalJson({ b: at, a: 1 }), '{"a":1,"b":"2024-01-01T00:00:00.000Z"}');
  });

  it('keeps an own "__proto__" key, as JSON.parse produces it, so such payloads do not fingerprint alike', () => {
    // Regression: copying keys into a plain {} sent '__proto__' to the prototype setter and dropped it.
    const one = JSON.parse('{"__proto__": {"a": 1}, "b": 2}') as unknown;
    const two = JSON.parse('{"__proto__": {"a": 2}, "b": 2}') as unknown;
    assert.notEqual(canonicalJson(one), canonicalJson(two));
    assert.equal(canonicalJson(one), '{"__proto__":{"a":1},"b":2}');
    assert.equal(canonicalJson(JSON.parse('{"__proto__": 5}')), '{"__proto__":5}');
  });

  it('fingerprints what encodeJson stored: canonical text of the parsed payload equals that of the original', () => {
    const payload = { user: { name: 'Ada', id: 7 }, items: [{ sku: 'b', qty: 1 }] };
    const reordered = { items: [{ qty: 1, sku: 'b' }], user: { id: 7, name: 'Ada' } };
    const stored = encodeJson(payload, 'payload', BIG, 'OFFLOAD_PAYLOAD_TOO_LARGE');
    assert.equal(canonicalJson(JSON.parse(stored)), canonicalJson(reordered));
  });
});
