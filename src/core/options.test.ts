import assert from 'node:assert/strict';
import { describe as suite, it } from 'node:test';
import { OffloadError } from '../errors.ts';
import { checkKeys, describe, intOption, NAME_PATTERN, oneOf, stringOption } from './options.ts';

const CLIENT_KEYS = ['store', 'leaseMs', 'heartbeatMs', 'pollMs', 'graceMs', 'retention'] as const;

/** Runs `fn`, expecting OFFLOAD_INVALID_OPTIONS; returns the message. */
function invalid(fn: () => unknown): string {
  let caught: unknown = 'nothing';
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  assert.ok(caught instanceof OffloadError, `expected an OffloadError, got ${describe(caught)}`);
  assert.equal(caught.code, 'OFFLOAD_INVALID_OPTIONS');
  return caught.message;
}

suite('checkKeys', () => {
  it('undefined options mean none', () => {
    assert.deepEqual(checkKeys(undefined, CLIENT_KEYS, 'createOffload()'), {});
  });

  it('an object of known keys is returned as is', () => {
    const o = { leaseMs: 100, pollMs: undefined };
    assert.equal(checkKeys(o, CLIENT_KEYS, 'createOffload()'), o);
    assert.deepEqual(checkKeys({}, CLIENT_KEYS, 'createOffload()'), {});
  });

  it('refuses anything that is not a plain options object, saying what it got', () => {
    const cases: Array<[unknown, string]> = [
      [null, 'null'],
      [[{ leaseMs: 1 }], 'an array'],
      ['leaseMs=5', 'string "leaseMs=5"'],
      [5, 'number 5'],
      [true, 'boolean true'],
    ];
    for (const [value, said] of cases) {
      assert.equal(invalid(() => checkKeys(value, CLIENT_KEYS, 'createOffload()')), `createOffload(): expected an object of options, got ${said}`);
    }
  });

  it('an unknown key with a close known key names the suggestion, and lists the known keys', () => {
    const msg = invalid(() => checkKeys({ leaseMs: 100, leasMs: 100 }, CLIENT_KEYS, 'createOffload()'));
    assert.equal(msg, `createOffload(): unknown option 'leasMs' (did you mean 'leaseMs'?); known: ${CLIENT_KEYS.join(', ')}`);
  });

  it('suggestions ignore case (the documented leaseMS example)', () => {
    assert.match(invalid(() => checkKeys({ leaseMS: 1 }, CLIENT_KEYS, 'x')), /unknown option 'leaseMS' \(did you mean 'leaseMs'\?\)/);
    assert.match(invalid(() => checkKeys({ POLLMS: 1 }, CLIENT_KEYS, 'x')), /did you mean 'pollMs'/);
  });

  it('insertions, deletions and swapped letters are all suggested', () => {
    const typos: Array<[string, string]> = [
      ['leaseeMs', 'leaseMs'],
      ['leseMs', 'leaseMs'],
      ['laeseMs', 'leaseMs'],
      ['hearbeatMs', 'heartbeatMs'],
      ['gracems', 'graceMs'],
      ['retension', 'retention'],
      ['stor', 'store'],
    ];
    for (const [typo, meant] of typos) {
      assert.match(invalid(() => checkKeys({ [typo]: 1 }, CLIENT_KEYS, 'x')), new RegExp(`did you mean '${meant}'`), typo);
    }
  });

  it('the closest of several known keys is suggested', () => {
    assert.match(invalid(() => checkKeys({ graseMs: 1 }, CLIENT_KEYS, 'x')), /did you mean 'graceMs'/);
    assert.match(invalid(() => checkKeys({ polMs: 1 }, CLIENT_KEYS, 'x')), /did you mean 'pollMs'/);
  });

  it('an unrelated key gets no suggestion, only the list', () => {
    const msg = invalid(() => checkKeys({ concurrency: 4 }, CLIENT_KEYS, 'createOffload()'));
    assert.doesNotMatch(msg, /did you mean/);
    assert.equal(msg, `createOffload(): unknown option 'concurrency'; known: ${CLIENT_KEYS.join(', ')}`);
  });

  it('longer keys tolerate more edits before the suggestion is dropped', () => {
    const allowed = ['abcdefghijkl'];
    // 12 characters: up to 4 edits still suggest, 5 do not.
    assert.match(invalid(() => checkKeys({ abcdefghWXYZ: 1 }, allowed, 'x')), /did you mean 'abcdefghijkl'/);
    assert.doesNotMatch(invalid(() => checkKeys({ abcdefgVWXYZ: 1 }, allowed, 'x')), /did you mean/);
    // Short keys: at most 2 edits.
    assert.match(invalid(() => checkKeys({ xy: 1 }, ['ab'], 'x')), /did you mean 'ab'/);
    assert.doesNotMatch(invalid(() => checkKeys({ xyz: 1 }, ['abc'], 'x')), /did you mean/);
  });

  it('with no known keys at all, any key is refused without a suggestion', () => {
    assert.equal(invalid(() => checkKeys({ a: 1 }, [], 'sqlite()')), "sqlite(): unknown option 'a'; known: ");
  });

  it('a key named like a prototype member is still an unknown option', () => {
    const msg = invalid(() => checkKeys(JSON.parse('{"__proto__": {"leaseMs": 1}}'), CLIENT_KEYS, 'x'));
    assert.match(msg, /unknown option '__proto__'/);
    assert.match(invalid(() => checkKeys({ toString: 1 }, CLIENT_KEYS, 'x')), /unknown option 'toString'/);
  });
});

suite('intOption', () => {
  it('undefined gives the fallback', () => {
    assert.equal(intOption(undefined, 'leaseMs', 100, 1000, 500), 500);
  });

  it('both bounds are inclusive', () => {
    assert.equal(intOption(100, 'leaseMs', 100, 1000, 500), 100);
    assert.equal(intOption(1000, 'leaseMs', 100, 1000, 500), 1000);
    assert.equal(intOption(-32768, 'priority', -32768, 32767, 0), -32768);
  });

  it('one past either bound is refused, with the range in the message', () => {
    assert.equal(invalid(() => intOption(99, 'createOffload(): leaseMs', 100, 1000, 500)), 'createOffload(): leaseMs: expected an integer in [100, 1000], got number 99');
    assert.match(invalid(() => intOption(1001, 'leaseMs', 100, 1000, 500)), /got number 1001$/);
  });

  it('non-integers and non-numbers are refused, each described readably', () => {
    const cases: Array<[unknown, string]> = [
      [1.5, 'number 1.5'],
      [Number.NaN, 'NaN'],
      [Infinity, 'number Infinity'],
      [-Infinity, 'number -Infinity'],
      ['500', 'string "500"'],
      [null, 'null'],
      [true, 'boolean true'],
      [[500], 'an array'],
      [{ ms: 500 }, 'an object'],
      [500n, 'bigint 500'],
      [() => 500, 'a function'],
      [Symbol('ms'), 'symbol Symbol(ms)'],
    ];
    for (const [value, said] of cases) {
      assert.equal(invalid(() => intOption(value, 'pollMs', 0, 10_000, 1)), `pollMs: expected an integer in [0, 10000], got ${said}`);
    }
  });

  it('a BigInt is refused with the typed error, not a TypeError from describing it', () => {
    // Regression: describe() used JSON.stringify, which throws on a bigint.
    assert.throws(
      () => intOption(30_000n, 'leaseMs', 100, 86_400_000, 15_000),
      (err: unknown) => err instanceof OffloadError && err.code === 'OFFLOAD_INVALID_OPTIONS',
    );
  });
});

suite('stringOption', () => {
  it('undefined gives the fallback', () => {
    assert.equal(stringOption(undefined, 'queue', 'default'), 'default');
  });

  it('any non-empty string up to 200 characters passes when there is no pattern', () => {
    assert.equal(stringOption('with spaces/and ünïcode', 'label', 'x'), 'with spaces/and ünïcode');
    assert.equal(stringOption('a'.repeat(200), 'label', 'x'), 'a'.repeat(200));
  });

  it('empty, over 200 characters, or not a string is refused', () => {
    assert.match(invalid(() => stringOption('', 'queue', 'default')), /^queue: expected a non-empty string of at most 200 characters, got string ""$/);
    assert.match(invalid(() => stringOption('a'.repeat(201), 'queue', 'default')), /at most 200 characters/);
    assert.match(invalid(() => stringOption(7, 'queue', 'default')), /got number 7$/);
    assert.match(invalid(() => stringOption(null, 'queue', 'default')), /got null$/);
  });

  it('a pattern is enforced and shown in the message', () => {
    assert.equal(stringOption('emails', 'queue', 'default', NAME_PATTERN), 'emails');
    const msg = invalid(() => stringOption('my queue', 'start(): queues[0]', '', NAME_PATTERN));
    assert.equal(msg, `start(): queues[0]: expected a non-empty string of at most 200 characters matching ${NAME_PATTERN}, got string "my queue"`);
  });

  it('the 200-character limit applies to names that match the pattern too', () => {
    assert.ok(NAME_PATTERN.test('q'.repeat(201)));
    invalid(() => stringOption('q'.repeat(201), 'queue', 'default', NAME_PATTERN));
  });
});

suite('NAME_PATTERN', () => {
  it('accepts printable names that read well in logs, URLs and metrics', () => {
    for (const name of ['emails', 'send-email', 'billing.v2', 'reports:daily', 'a_b', 'Q', '0', '9lives', 'A.b-c:d_e']) {
      assert.ok(NAME_PATTERN.test(name), name);
    }
  });

  it('refuses empty names, a leading symbol, whitespace, slashes and non-ASCII letters', () => {
    for (const name of ['', '-lead', '.lead', ':lead', '_lead', 'has space', 'tab\tbed', 'line\nbreak', 'trailing\n', 'a/b', 'a?b', 'é', 'naïve', 'emoji😀', 'a%20b']) {
      assert.equal(NAME_PATTERN.test(name), false, JSON.stringify(name));
    }
  });
});

suite('oneOf', () => {
  const KINDS = ['exponential', 'linear', 'fixed'] as const;

  it('undefined gives the fallback; an allowed value is returned', () => {
    assert.equal(oneOf(undefined, 'retry.backoff', KINDS, 'exponential'), 'exponential');
    assert.equal(oneOf('linear', 'retry.backoff', KINDS, 'exponential'), 'linear');
  });

  it('anything else is refused, listing the allowed values', () => {
    assert.equal(invalid(() => oneOf('Linear', 'retry.backoff', KINDS, 'exponential')), 'retry.backoff: expected one of exponential, linear, fixed, got string "Linear"');
    assert.match(invalid(() => oneOf('', 'retry.backoff', KINDS, 'exponential')), /got string ""$/);
    assert.match(invalid(() => oneOf(1, 'retry.backoff', KINDS, 'exponential')), /got number 1$/);
    assert.match(invalid(() => oneOf(['linear'], 'retry.backoff', KINDS, 'exponential')), /got an array$/);
  });
});

suite('describe', () => {
  it('quotes strings so empty and blank values are visible', () => {
    assert.equal(describe(''), 'string ""');
    assert.equal(describe(' '), 'string " "');
    assert.equal(describe('say "hi"'), 'string "say \\"hi\\""');
  });

  it('never throws, whatever it is given', () => {
    const circular: Record<string, unknown> = {};
    circular['self'] = circular;
    for (const v of [10n, Symbol(), () => 1, circular, undefined, new Date(Number.NaN), Object.create(null)]) {
      assert.equal(typeof describe(v), 'string');
    }
    assert.equal(describe(new Date(Number.NaN)), 'an object');
  });
});
