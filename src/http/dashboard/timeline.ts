/**
 * A job's timeline from the times stored on it: enqueued, due, each failed attempt, the start of
 * the latest attempt and the worker that claimed it, the lease it holds while running, a cancel
 * request, the end, and a start deadline. Pure: the caller passes the server's clock.
 *
 * Only the latest attempt's start is stored (`attemptedAt`); earlier attempts show by the time
 * they failed. Heartbeats are not stored one by one: a running job shows how long its lease
 * holds, which each heartbeat extends.
 */
import type { JobJson, TimelineEntry } from './protocol.ts';

const ENDS: Record<string, string> = { completed: 'Completed', cancelled: 'Cancelled', discarded: 'Discarded' };

/**
 * The entries, oldest first (planned ones, still ahead, last).
 * @example
 * jobTimeline(job, { leaseExpiresAt: null, nowMs: Date.now() }).map((e) => e.label)
 */
export function jobTimeline(job: JobJson, at: { leaseExpiresAt: string | null; nowMs: number }): TimelineEntry[] {
  const { nowMs } = at;
  const entries: TimelineEntry[] = [];
  const add = (iso: string | null, kind: TimelineEntry['kind'], label: string): void => {
    if (iso === null) return;
    const atMs = Date.parse(iso);
    if (Number.isFinite(atMs)) entries.push({ atMs, kind, label, past: atMs <= nowMs });
  };

  add(job.createdAt, 'enqueued', `Enqueued to queue ${job.queue}, priority ${job.priority}`);
  // A due time equal to the enqueue time says nothing new.
  if (Date.parse(job.runAt) - Date.parse(job.createdAt) >= 1000 || Date.parse(job.runAt) > nowMs) {
    add(job.runAt, 'due', Date.parse(job.runAt) > nowMs ? 'Due' : 'Became due');
  }
  for (const e of job.errors) {
    add(e.at, 'attempt-failed', `Attempt ${e.attempt} failed: ${e.name}${e.code === null ? '' : ` (${e.code})`}: ${e.message}`);
  }
  if (job.attemptedAt !== null && job.attempt > 0) {
    add(job.attemptedAt, 'attempt-started', `Attempt ${job.attempt} of ${job.maxAttempts} started${job.workerId === null ? '' : ` on worker ${job.workerId}`}`);
  }
  if (job.state === 'running') add(at.leaseExpiresAt, 'lease', 'Lease held until (each heartbeat extends it)');
  add(job.cancelRequestedAt, 'cancel-requested', `Cancel requested${job.cancelReason === null ? '' : `: ${job.cancelReason}`}`);
  const end = ENDS[job.state];
  if (end !== undefined) {
    const why = job.state === 'cancelled' && job.cancelReason !== null ? `: ${job.cancelReason}` : job.state === 'discarded' ? ` after ${job.errors.length} failed attempt${job.errors.length === 1 ? '' : 's'}` : '';
    add(job.finishedAt, 'finished', `${end}${why}`);
  }
  const waiting = job.state === 'scheduled' || job.state === 'available' || job.state === 'retryable';
  if (waiting || job.cancelReason === 'expired') add(job.expiresAt, 'deadline', 'Start deadline');
  // Stable: entries at the same instant keep the order above (enqueued before due, failed before started).
  return entries.map((e, i) => ({ e, i })).toSorted((a, b) => a.e.atMs - b.e.atMs || a.i - b.i).map(({ e }) => e);
}
