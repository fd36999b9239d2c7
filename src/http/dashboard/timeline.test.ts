import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { JobJson } from './protocol.ts';
import { jobTimeline } from './timeline.ts';

const T0 = Date.parse('2030-01-01T12:00:00.000Z');
const iso = (ms: number): string => new Date(ms).toISOString();

function job(over: Partial<JobJson> = {}): JobJson {
  return {
    id: '1', task: 'mail.send', queue: 'mail', state: 'available', priority: 0, attempt: 0, maxAttempts: 3, timeoutMs: null,
    idempotencyKey: null, progress: null, result: null, errors: [], cancelReason: null, cancelRequestedAt: null, workerId: null,
    runAt: iso(T0), createdAt: iso(T0), attemptedAt: null, finishedAt: null, expiresAt: null, waitMs: null, runMs: null, ...over,
  };
}

describe('jobTimeline', () => {
  it('a fresh due job has only its enqueue', () => {
    assert.deepEqual(jobTimeline(job(), { leaseExpiresAt: null, nowMs: T0 + 10 }), [
      { atMs: T0, kind: 'enqueued', label: 'Enqueued to queue mail, priority 0', past: true },
    ]);
  });

  it('a scheduled job shows its due time ahead, and its deadline', () => {
    const t = jobTimeline(job({ state: 'scheduled', runAt: iso(T0 + 60_000), expiresAt: iso(T0 + 120_000) }), { leaseExpiresAt: null, nowMs: T0 + 10 });
    assert.deepEqual(t.map((e) => [e.kind, e.label, e.past]), [
      ['enqueued', 'Enqueued to queue mail, priority 0', true],
      ['due', 'Due', false],
      ['deadline', 'Start deadline', false],
    ]);
  });

  it('a discarded job lists each failed attempt, the last start with its worker, and the end', () => {
    const errors = [
      { attempt: 1, at: iso(T0 + 1000), name: 'Error', message: 'boom', code: null },
      { attempt: 2, at: iso(T0 + 3000), name: 'OffloadError', message: 'timed out', code: 'OFFLOAD_TIMEOUT' },
    ];
    const t = jobTimeline(
      job({ state: 'discarded', attempt: 2, maxAttempts: 2, errors, workerId: 'h:1:aa', runAt: iso(T0 + 2000), attemptedAt: iso(T0 + 2500), finishedAt: iso(T0 + 3000) }),
      { leaseExpiresAt: null, nowMs: T0 + 5000 },
    );
    assert.deepEqual(t.map((e) => e.label), [
      'Enqueued to queue mail, priority 0',
      'Attempt 1 failed: Error: boom',
      'Became due',
      'Attempt 2 of 2 started on worker h:1:aa',
      'Attempt 2 failed: OffloadError (OFFLOAD_TIMEOUT): timed out',
      'Discarded after 2 failed attempts',
    ]);
  });

  it('a running job shows its lease; a cancel request and the cancelled end carry the reason', () => {
    const running = jobTimeline(job({ state: 'running', attempt: 1, attemptedAt: iso(T0 + 100), workerId: null }), { leaseExpiresAt: iso(T0 + 15_000), nowMs: T0 + 200 });
    assert.deepEqual(running.map((e) => [e.kind, e.past]), [['enqueued', true], ['attempt-started', true], ['lease', false]]);
    assert.equal(running[1]?.label, 'Attempt 1 of 3 started');
    const cancelled = jobTimeline(
      job({ state: 'cancelled', attempt: 1, attemptedAt: iso(T0 + 100), cancelRequestedAt: iso(T0 + 200), cancelReason: 'operator', finishedAt: iso(T0 + 300), expiresAt: iso(T0 + 9000) }),
      { leaseExpiresAt: iso(T0 + 15_000), nowMs: T0 + 400 },
    );
    assert.deepEqual(cancelled.map((e) => e.label).slice(-2), ['Cancel requested: operator', 'Cancelled: operator']);
    assert.equal(cancelled.some((e) => e.kind === 'lease' || e.kind === 'deadline'), false, 'no lease once ended; a deadline only for expired jobs');
  });

  it('an expired job shows the deadline it missed; a discarded job of one attempt says so', () => {
    const expired = jobTimeline(job({ state: 'cancelled', cancelReason: 'expired', expiresAt: iso(T0 + 500), finishedAt: iso(T0 + 600) }), { leaseExpiresAt: null, nowMs: T0 + 700 });
    assert.deepEqual(expired.map((e) => e.label), ['Enqueued to queue mail, priority 0', 'Start deadline', 'Cancelled: expired']);
    const once = jobTimeline(job({ state: 'discarded', errors: [{ attempt: 1, at: iso(T0 + 5), name: 'E', message: 'm', code: null }], finishedAt: iso(T0 + 5) }), { leaseExpiresAt: null, nowMs: T0 + 9 });
    assert.equal(once.at(-1)?.label, 'Discarded after 1 failed attempt');
  });

  it('skips a time that does not parse', () => {
    assert.deepEqual(jobTimeline(job({ state: 'completed', finishedAt: 'not a date' }), { leaseExpiresAt: null, nowMs: T0 }).map((e) => e.kind), ['enqueued']);
  });
});
