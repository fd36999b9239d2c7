/**
 * "Why is this job still waiting?", derived from the job, its queue and this process's workers.
 * Pure: the caller passes the server's clock, so every branch is tested with plain values.
 *
 * What can hold a waiting job (scheduled, available, retryable), most decisive first:
 *   queue-paused     no process claims from a paused queue, however long it waits
 *   retry-backoff    retryable with its run time ahead: the backoff after a failed attempt
 *   scheduled        its run time is ahead (a delay, a runAt, or a snooze)
 *   no-worker        due, yet nothing of its queue runs or finished in the drain window
 *   loop-overloaded  this process's workers hold claiming while its event loop lags
 *   backlog          due behind other waiting jobs of its queue; the drain rate says how long
 *   due              due, nothing known holds it: the next claim takes it
 *   deadline         not a hold, a warning: it ends cancelled (expired) unless started by then
 *
 * The backlog is an upper bound: the public API has the queue's waiting count, not the number of
 * jobs ordered before this one (by priority, then run time, then id).
 */
import { formatDuration, relativeTime } from './duration-text.ts';
import type { JobJson, LoopJson, QueueJson, WaitReason, WorkersJson } from './protocol.ts';
import { WAITING_STATE_NAMES } from './protocol.ts';

export interface WaitContext {
  /** The job's queue as the store reports it now; null when it could not be read. */
  queue: QueueJson | null;
  /** This process's workers (null when it runs none) and its event loop. */
  workers: WorkersJson | null;
  loop: LoopJson;
  nowMs: number;
}

const MESSAGE_MAX = 160;

function short(text: string): string {
  return text.length > MESSAGE_MAX ? `${text.slice(0, MESSAGE_MAX - 1)}…` : text;
}

function perSecond(rate: number): string {
  return rate >= 10 ? `${Math.round(rate)}` : rate >= 1 ? rate.toFixed(1) : rate.toFixed(2);
}

/**
 * The reasons a job waits, most decisive first; empty when it does not wait (running or final).
 * @example
 * waitReasons(job, { queue, workers: stats.workers, loop: stats.loop, nowMs: Date.now() })[0]?.title
 */
export function waitReasons(job: JobJson, ctx: WaitContext): WaitReason[] {
  if (!WAITING_STATE_NAMES.includes(job.state)) return [];
  const { queue, workers, loop, nowMs } = ctx;
  const reasons: WaitReason[] = [];
  const runAtMs = Date.parse(job.runAt);
  const ahead = runAtMs > nowMs;

  if (queue?.paused === true) {
    reasons.push({
      code: 'queue-paused',
      title: `Queue ${queue.name} is paused`,
      detail: `No worker claims from a paused queue; ${queue.waiting} job${queue.waiting === 1 ? ' waits' : 's wait'} in it. Resume it on the Queues page.`,
      untilMs: null,
    });
  }

  if (ahead && job.state === 'retryable') {
    const last = job.errors.at(-1);
    const failed = last === undefined ? `Attempt ${job.attempt} failed` : `Attempt ${last.attempt} failed with ${last.name}: ${short(last.message)}`;
    reasons.push({
      code: 'retry-backoff',
      title: 'Waiting out its retry backoff',
      detail: `${failed}. Attempt ${job.attempt + 1} of ${job.maxAttempts} is due ${relativeTime(runAtMs, nowMs)} (${job.runAt}).`,
      untilMs: runAtMs,
    });
  } else if (ahead) {
    reasons.push({
      code: 'scheduled',
      title: 'Scheduled for later',
      detail: `It is due ${relativeTime(runAtMs, nowMs)} (${job.runAt}); no worker takes it before.`,
      untilMs: runAtMs,
    });
  }

  if (!ahead && queue !== null && !queue.paused) {
    if (queue.counts.running === 0 && queue.drainPerSec === 0) {
      reasons.push({
        code: 'no-worker',
        title: `No worker is taking jobs from queue ${queue.name}`,
        detail: `Nothing of queue ${queue.name} is running and nothing of it finished in the last 10 s. Is a worker started with this queue, e.g. offload.start({ queues: ['${queue.name}'] })?`,
        untilMs: null,
      });
    }
    if (workers?.pausedBy === 'loop') {
      reasons.push({
        code: 'loop-overloaded',
        title: "This server's workers hold back claiming",
        detail: `Its event loop lags (delay p99 ${Math.round(loop.delayP99Ms)} ms), so worker ${workers.id} claims nothing until the loop recovers. Workers in other processes are not affected.`,
        untilMs: null,
      });
    }
    const others = queue.waiting - 1;
    if (others > 0) {
      const drain =
        queue.drainPerSec > 0
          ? `it drains ${perSecond(queue.drainPerSec)} jobs/s, so the queue empties in about ${formatDuration(queue.estimatedWaitMs ?? 0)}`
          : 'nothing of it finished in the last 10 s, so no estimate';
      reasons.push({
        code: 'backlog',
        title: `Behind up to ${others} other job${others === 1 ? '' : 's'} in queue ${queue.name}`,
        detail: `${queue.waiting} jobs wait in ${queue.name} (a lower priority value, then an earlier due time, runs first); ${drain}.`,
        untilMs: queue.drainPerSec > 0 && queue.estimatedWaitMs !== null ? nowMs + queue.estimatedWaitMs : null,
      });
    }
  }

  if (!ahead && reasons.length === 0) {
    reasons.push({
      code: 'due',
      title: 'Due now',
      detail:
        queue === null
          ? 'It is due; the state of its queue could not be read.'
          : `Nothing holds it: the next claim of a worker on queue ${queue.name} takes it (a wake-up, or the poll).`,
      untilMs: null,
    });
  }

  if (job.expiresAt !== null) {
    const expiresAtMs = Date.parse(job.expiresAt);
    reasons.push({
      code: 'deadline',
      title: expiresAtMs > nowMs ? 'Must start before its deadline' : 'Its start deadline has passed',
      detail:
        expiresAtMs > nowMs
          ? `Not started by ${job.expiresAt} (${relativeTime(expiresAtMs, nowMs)}), it ends cancelled with reason expired.`
          : `The deadline was ${job.expiresAt}; the expirer cancels it (reason expired) at its next round.`,
      untilMs: expiresAtMs,
    });
  }
  return reasons;
}
