/**
 * Log lines: the ids every line inside a job carries, redaction of payload paths, and jobs logged
 * without their data. Lines are captured from a real pino logger through its destination stream.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import pino from 'pino';
import { isOffloadError } from '../../src/errors.ts';
import { jobBindings, jobLogView, REDACTED, redactPayloadPaths } from '../../src/observability/log-bindings.ts';
import { pinoLogger } from '../../src/observability/logger-pino.ts';
import { loadInstrumentation } from '../../src/observability/tracing.ts';
import type { Job } from '../../src/types.ts';
import { registerTestTracing } from './otel.ts';

registerTestTracing();

/** A destination that keeps every line, parsed. pino writes to it synchronously. */
function capture(): { lines: Array<Record<string, unknown>>; write(line: string): void } {
  const lines: Array<Record<string, unknown>> = [];
  return { lines, write: (line) => void lines.push(JSON.parse(line) as Record<string, unknown>) };
}

const job: Job = {
  id: '42',
  task: 'accounts.signup',
  queue: 'default',
  state: 'running',
  payload: { email: 'ada@example.com', password: 'hunter22', card: { number: '4111111111111111', brand: 'visa' } },
  priority: 0,
  attempt: 2,
  maxAttempts: 5,
  timeoutMs: null,
  idempotencyKey: null,
  runAt: new Date('2026-01-01T00:00:00Z'),
  createdAt: new Date('2026-01-01T00:00:00Z'),
  attemptedAt: new Date('2026-01-01T00:00:01Z'),
  finishedAt: null,
  leaseExpiresAt: null,
  workerId: 'host:1:abc',
  progress: { step: 'secret step' },
  result: { token: 'secret result' },
  errors: [{ attempt: 1, at: new Date('2026-01-01T00:00:00.500Z'), name: 'Error', message: 'smtp down' }],
  cancelRequestedAt: null,
  cancelReason: null,
  expiresAt: null,
  traceContext: null,
};

describe('logs: ids on every line inside a job', () => {
  it('a child logger made from jobBindings() names the job, queue and attempt on each line', () => {
    const out = capture();
    const log = pinoLogger({ destination: out }).child(jobBindings(job));
    log.info('sending the welcome mail');
    log.warn({ err: new Error('smtp down') }, 'attempt failed');
    assert.equal(out.lines.length, 2);
    for (const line of out.lines) {
      assert.equal(line['jobId'], '42');
      assert.equal(line['task'], 'accounts.signup');
      assert.equal(line['queue'], 'default');
      assert.equal(line['attempt'], 2);
      assert.equal(line['name'], 'offload');
      assert.equal('trace_id' in line, false);
    }
    assert.equal((out.lines[1]!['err'] as { message: string }).message, 'smtp down');
  });

  it("inside an attempt's span, lines carry its trace_id and span_id", async () => {
    const out = capture();
    const logger = pinoLogger({ destination: out });
    const instr = (await loadInstrumentation())!;
    const spanIds = await instr.runAttempt(job, (trace) => {
      logger.child(jobBindings(job, trace)).info('inside the attempt');
      return trace;
    });
    assert.ok(spanIds !== null);
    assert.equal(out.lines[0]!['trace_id'], spanIds.traceId);
    assert.equal(out.lines[0]!['span_id'], spanIds.spanId);
    assert.match(spanIds.traceId, /^[0-9a-f]{32}$/);
  });
});

describe('logs: no payloads unless asked, and redacted then', () => {
  it('writes nothing at debug by default (info level)', () => {
    const out = capture();
    const log = pinoLogger({ destination: out });
    log.debug({ payload: job.payload }, 'attempt started');
    assert.deepEqual(out.lines, []);
  });

  it('logs a job without its payload, result or progress, with its error count', () => {
    const out = capture();
    pinoLogger({ destination: out }).info({ job }, 'job done');
    const logged = out.lines[0]!['job'] as Record<string, unknown>;
    assert.equal(logged['id'], '42');
    assert.equal(logged['state'], 'running');
    assert.equal(logged['errors'], 1);
    for (const key of ['payload', 'result', 'progress']) assert.equal(key in logged, false, key);
    assert.doesNotMatch(JSON.stringify(out.lines[0]), /hunter22|secret|4111/);
    // Anything that is not a job passes through unchanged.
    assert.equal(jobLogView('not a job'), 'not a job');
  });

  it('censors the configured payload paths in debug lines', () => {
    const out = capture();
    const log = pinoLogger({ destination: out, level: 'debug', redact: ['password', 'card.number'] });
    log.child(jobBindings(job)).debug({ payload: job.payload }, 'attempt started');
    assert.deepEqual(out.lines[0]!['payload'], { email: 'ada@example.com', password: REDACTED, card: { number: REDACTED, brand: 'visa' } });
    assert.equal(out.lines[0]!['jobId'], '42');
  });

  it("redactPayloadPaths() gives a user's own pino the same paths, under payload and job.payload", () => {
    const out = capture();
    const log = pino({ redact: redactPayloadPaths(['password', 'users[*].email', '["api-key"]']) }, out);
    log.info({ job: { payload: { password: 'p', users: [{ email: 'a@b.c' }], 'api-key': 'k' } } });
    assert.deepEqual((out.lines[0]!['job'] as { payload: unknown }).payload, { password: REDACTED, users: [{ email: REDACTED }], 'api-key': REDACTED });
    assert.deepEqual(redactPayloadPaths(['a.b']), { paths: ['payload.a.b', 'job.payload.a.b'], censor: REDACTED });
  });

  it('adds base fields to every line without dropping pid and hostname', () => {
    const out = capture();
    pinoLogger({ destination: out, base: { service: 'billing' } }).info('hello');
    assert.equal(out.lines[0]!['service'], 'billing');
    assert.equal(out.lines[0]!['pid'], process.pid);
    assert.equal(typeof out.lines[0]!['hostname'], 'string');
  });
});

function invalid(fn: () => unknown, pattern: RegExp): void {
  assert.throws(fn, (err: unknown) => isOffloadError(err, 'OFFLOAD_INVALID_OPTIONS') && pattern.test(err.message));
}

describe('logs: bad options are refused where they enter', () => {
  it('refuses a path that is not a path inside the payload', () => {
    for (const bad of ['', '.password', 'a..b', 'a.', 'a b', 'a[unclosed', 42]) invalid(() => redactPayloadPaths([bad as string]), /redact\[0\]: .* is not a path inside the payload/);
    invalid(() => redactPayloadPaths('password' as never), /expected an array/);
    invalid(() => pinoLogger({ redact: ['ok', 'not ok'] }), /redact\[1\]/);
  });

  it('refuses an unknown option with a suggestion, an unknown level, a destination without write() and a base that is not an object', () => {
    invalid(() => pinoLogger({ levl: 'info' } as never), /unknown option 'levl' \(did you mean 'level'\?\)/);
    invalid(() => pinoLogger({ level: 'verbose' as never }), /level must be one of/);
    invalid(() => pinoLogger({ destination: {} as never }), /destination must have a write/);
    invalid(() => pinoLogger({ base: ['x'] as never }), /base must be an object/);
  });
});
