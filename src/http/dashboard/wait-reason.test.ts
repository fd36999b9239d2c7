import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { JobJson, LoopJson, QueueJson, WorkersJson } from './protocol.ts';
import { waitReasons, type WaitContext } from './wait-reason.ts';

const NOW = Date.parse('2030-01-01T12:00:00.000Z');
const iso = (ms: number): string => new Date(ms).toISOString();

function job(over: Partial<JobJson> = {}): JobJson {
  return {
    id: '1', task: 'mail.send', queue: 'mail', state: 'available', priority: 0, attempt: 0, maxAttempts: 5, timeoutMs: null,
    idempotencyKey: null, payload: {}, progress: null, result: null, errors: [], cancelReason: null, cancelRequestedAt: null,
    workerId: null, runAt: iso(NOW - 1000), createdAt: iso(NOW - 2000), attemptedAt: null, finishedAt: null, expiresAt: null,
    waitMs: null, runMs: null, ...over,
  };
}

function queue(over: Partial<QueueJson> = {}): QueueJson {
  return {
    name: 'mail', paused: false, waiting: 1, drainPerSec: 2, estimatedWaitMs: 500, maxBacklog: null,
    counts: { scheduled: 0, available: 1, running: 1, retryable: 0, completed: 10, cancelled: 0, discarded: 0 }, ...over,
  };
}

const loop: LoopJson = { delayP50Ms: 1, delayP99Ms: 2, delayMaxMs: 3, utilization: 0.1, overloaded: false };
const workers: WorkersJson = { id: 'host-a:42:abcdef', concurrency: 10, running: 1, claiming: true, pausedBy: null };
const ctx = (over: Partial<WaitContext> = {}): WaitContext => ({ queue: queue(), workers, loop, nowMs: NOW, ...over });
const codes = (j: JobJson, c: WaitContext): string[] => waitReasons(j, c).map((r) => r.code);

describe('waitReasons', () => {
  it('says nothing for a job that does not wait', () => {
    for (const state of ['running', 'completed', 'cancelled', 'discarded'] as const) assert.deepEqual(waitReasons(job({ state }), ctx()), []);
  });

  it('a due job with nothing ahead and a draining queue is due now', () => {
    const [r, ...rest] = waitReasons(job(), ctx());
    assert.equal(rest.length, 0);
    assert.equal(r?.code, 'due');
    assert.match(r.detail, /queue mail/);
  });

  it('a scheduled job waits for its run time, and says when', () => {
    const runAt = NOW + 90_000;
    const [r] = waitReasons(job({ state: 'scheduled', runAt: iso(runAt) }), ctx());
    assert.equal(r?.code, 'scheduled');
    assert.equal(r.untilMs, runAt);
    assert.match(r.detail, /in 1 min 30 s/);
  });

  it('a retryable job ahead is in backoff, naming the failed attempt and the next one', () => {
    const runAt = NOW + 4000;
    const errors = [{ attempt: 2, at: iso(NOW - 10), name: 'TypeError', message: 'x'.repeat(500), code: null }];
    const [r] = waitReasons(job({ state: 'retryable', attempt: 2, runAt: iso(runAt), errors }), ctx());
    assert.equal(r?.code, 'retry-backoff');
    assert.equal(r.untilMs, runAt);
    assert.match(r.detail, /^Attempt 2 failed with TypeError: x+…\. Attempt 3 of 5 is due in 4\.0 s/);
    assert.ok(r.detail.length < 300, 'a long error message is shortened');
  });

  it('a retryable job without a stored error still names its attempt', () => {
    const [r] = waitReasons(job({ state: 'retryable', attempt: 1, runAt: iso(NOW + 5000) }), ctx());
    assert.match(r?.detail ?? '', /^Attempt 1 failed\. Attempt 2 of 5/);
  });

  it('a paused queue comes first, and hides the due-time reasons that do not apply while paused', () => {
    const q = queue({ paused: true, waiting: 7, drainPerSec: 0, counts: { ...queue().counts, running: 0 } });
    assert.deepEqual(codes(job(), ctx({ queue: q })), ['queue-paused']);
    assert.deepEqual(codes(job({ state: 'scheduled', runAt: iso(NOW + 5000) }), ctx({ queue: q })), ['queue-paused', 'scheduled']);
    assert.match(waitReasons(job(), ctx({ queue: q }))[0]?.detail ?? '', /7 jobs wait/);
  });

  it('a due job in a queue nothing runs or drains asks whether a worker works that queue', () => {
    const q = queue({ drainPerSec: 0, estimatedWaitMs: null, counts: { ...queue().counts, running: 0 } });
    const [r] = waitReasons(job(), ctx({ queue: q }));
    assert.equal(r?.code, 'no-worker');
    assert.match(r.detail, /offload\.start\(\{ queues: \['mail'\] \}\)/);
  });

  it('a backlog ahead reports the waiting count and the estimate from the drain rate', () => {
    const q = queue({ waiting: 1201, drainPerSec: 40, estimatedWaitMs: 30_025 });
    const [r] = waitReasons(job(), ctx({ queue: q }));
    assert.equal(r?.code, 'backlog');
    assert.equal(r.title, 'Behind up to 1200 other jobs in queue mail');
    assert.match(r.detail, /drains 40 jobs\/s, so the queue empties in about 30 s/);
    assert.equal(r.untilMs, NOW + 30_025);
  });

  it('a backlog that does not drain has no estimate', () => {
    const q = queue({ waiting: 3, drainPerSec: 0, estimatedWaitMs: null });
    const r = waitReasons(job(), ctx({ queue: q })).find((x) => x.code === 'backlog');
    assert.match(r?.detail ?? '', /no estimate/);
    assert.equal(r?.untilMs, null);
    assert.equal(waitReasons(job(), ctx({ queue: queue({ waiting: 2, drainPerSec: 0.25, estimatedWaitMs: 8000 }) }))[0]?.detail.includes('0.25 jobs/s'), true);
    assert.equal(waitReasons(job(), ctx({ queue: queue({ waiting: 2, drainPerSec: 2.5, estimatedWaitMs: 800 }) }))[0]?.detail.includes('2.5 jobs/s'), true);
  });

  it("names this server's workers when its event loop holds claiming", () => {
    const w: WorkersJson = { ...workers, claiming: false, pausedBy: 'loop' };
    const rs = waitReasons(job(), ctx({ workers: w, loop: { ...loop, delayP99Ms: 412.6, overloaded: true } }));
    assert.deepEqual(rs.map((r) => r.code), ['loop-overloaded']);
    assert.match(rs[0]?.detail ?? '', /p99 413 ms.*host-a:42:abcdef/);
  });

  it('a due job whose queue could not be read is still reported due', () => {
    const [r] = waitReasons(job(), ctx({ queue: null }));
    assert.equal(r?.code, 'due');
    assert.match(r.detail, /could not be read/);
  });

  it('a start deadline ahead warns; one passed says the expirer ends it', () => {
    const ahead = waitReasons(job({ expiresAt: iso(NOW + 60_000) }), ctx()).at(-1);
    assert.equal(ahead?.code, 'deadline');
    assert.match(ahead.detail, /in 1 min/);
    const passed = waitReasons(job({ expiresAt: iso(NOW - 1) }), ctx()).at(-1);
    assert.equal(passed?.title, 'Its start deadline has passed');
  });
});
