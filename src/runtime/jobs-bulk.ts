/**
 * Bulk actions of `offload.jobs`: retry, cancel or delete every job matching a filter, in
 * batches the store runs one transaction each, and the count of what an action would touch.
 *
 * How a run goes: it reads the newest job id first and acts only on jobs up to it (jobs enqueued
 * during the run are left alone). Then, one allowed state at a time, it asks the driver for a
 * batch of up to `batchSize` jobs below a cursor, highest id first, and moves the cursor to the
 * lowest id the batch changed, until a batch comes back empty. Every batch is fenced by state in
 * its SQL, as the single-job calls are, so a job that moved to a state the action does not apply
 * to between the read and the write is skipped, never forced. A job is visited at most once per
 * run: one that comes back into the filter behind the cursor (retried, failed again, discarded
 * again) is not acted on twice.
 *
 * Between batches it checks the signal and the `max` budget, reports progress, and for a retry
 * wakes this process's workers of the queues it touched.
 */
import { checkKeys, idempotencyKeyOption, intOption, stringOption } from '../core/options.ts';
import { FINAL_STATES, sourcesOf, WAITING_STATES } from '../core/state-machine.ts';
import { OffloadError } from '../errors.ts';
import type { Driver, JobBatch, JobFilter } from '../storage/driver.ts';
import type { JobState } from '../types.ts';
import { JOB_STATES } from '../types.ts';

export type BulkAction = 'retry' | 'cancel' | 'delete';

/** Which jobs a bulk action applies to. At least one field is required. */
export interface JobBulkFilter {
  state?: JobState | JobState[];
  task?: string;
  queue?: string;
  idempotencyKey?: string;
}

export interface BulkOptions {
  /** Act on at most this many jobs (1..1 000 000). Default 100 000. */
  max?: number;
  /** Jobs per batch, one transaction each (1..1000). Default 500. */
  batchSize?: number;
  /** Stops the run between two batches; what was done stays done. */
  signal?: AbortSignal;
  /** Called after every batch with the totals so far. */
  onProgress?: (progress: BulkProgress) => void;
}

export interface BulkProgress {
  action: BulkAction;
  /** Jobs retried, cancelled or deleted. */
  changed: number;
  /** Running jobs asked to stop (cancel only): they end `cancelled` once their worker sees it. */
  requested: number;
  batches: number;
}

export interface BulkResult extends BulkProgress {
  /** `done`: no matching job is left; `max`: the budget ran out; `signal`: aborted. */
  stoppedBy: 'done' | 'max' | 'signal';
}

export const BULK_MAX = 1_000_000;
export const BULK_DEFAULT_MAX = 100_000;

/** The states each action applies to, from the state machine. */
export function bulkStates(action: BulkAction): JobState[] {
  if (action === 'retry') return sourcesOf('available', 'retry');
  if (action === 'cancel') return [...sourcesOf('cancelled', 'cancel').filter((s) => WAITING_STATES.includes(s)), 'running'];
  return [...WAITING_STATES, ...FINAL_STATES];
}

function invalid(message: string): OffloadError {
  return new OffloadError('OFFLOAD_INVALID_OPTIONS', message);
}

/**
 * Checks a filter. `required`: a bulk action refuses an empty filter, so that "every job" is
 * always written out (as every state) and never the result of a forgotten field.
 */
export function resolveFilter(filter: unknown, where: string, required: boolean): JobFilter {
  const f = checkKeys(filter ?? {}, ['state', 'task', 'queue', 'idempotencyKey'], where);
  const raw = f['state'];
  const states = raw === undefined ? null : Array.isArray(raw) ? (raw as unknown[]) : [raw];
  for (const s of states ?? []) {
    if (!JOB_STATES.includes(s as JobState)) throw invalid(`${where}: unknown state '${String(s)}'; states: ${JOB_STATES.join(', ')}`);
  }
  if (states !== null && states.length === 0) throw invalid(`${where}: state is an empty list; leave it out or name at least one state`);
  const key = idempotencyKeyOption(f['idempotencyKey'], where);
  const resolved: JobFilter = {
    states: states as JobState[] | null,
    task: f['task'] === undefined ? null : stringOption(f['task'], `${where}: task`, ''),
    queue: f['queue'] === undefined ? null : stringOption(f['queue'], `${where}: queue`, ''),
    idempotencyKey: key,
  };
  if (required && resolved.states === null && resolved.task === null && resolved.queue === null && resolved.idempotencyKey === null) {
    throw invalid(`${where}: a filter is required (state, task, queue or idempotencyKey); to act on every job, name the states`);
  }
  return resolved;
}

/** The states of `filter` that `action` applies to; refuses a filter that leaves none. */
function statesFor(action: BulkAction, filter: JobFilter, where: string): JobState[] {
  const allowed = bulkStates(action);
  const states = filter.states === null ? allowed : allowed.filter((s) => filter.states!.includes(s));
  if (states.length === 0) {
    throw invalid(`${where}: ${action} applies to ${allowed.join(', ')} jobs, and the filter names none of them (state: ${filter.states!.join(', ')})`);
  }
  return states;
}

export interface BulkRun {
  action: BulkAction;
  filter: JobFilter;
  options: BulkOptions | undefined;
  where: string;
  /** Cancel only: stored as the jobs' cancelReason. */
  reason: string;
  /** Retry only: wakes this process's workers of these queues. */
  wake(queues: readonly string[]): void;
}

/** Runs a bulk action to the end, the budget or the signal. */
export async function runBulk(d: Driver, run: BulkRun): Promise<BulkResult> {
  const o = checkKeys(run.options ?? {}, ['max', 'batchSize', 'signal', 'onProgress'], run.where);
  const max = intOption(o['max'], `${run.where}: max`, 1, BULK_MAX, BULK_DEFAULT_MAX);
  const batchSize = intOption(o['batchSize'], `${run.where}: batchSize`, 1, 1000, 500);
  const signal = o['signal'] as AbortSignal | undefined;
  const onProgress = o['onProgress'] as BulkOptions['onProgress'];
  if (signal !== undefined && !(signal instanceof AbortSignal)) throw invalid(`${run.where}: signal must be an AbortSignal`);
  if (onProgress !== undefined && typeof onProgress !== 'function') throw invalid(`${run.where}: onProgress must be a function`);
  const states = statesFor(run.action, run.filter, run.where);

  const p: BulkProgress = { action: run.action, changed: 0, requested: 0, batches: 0 };
  const end = (stoppedBy: BulkResult['stoppedBy']): BulkResult => ({ ...p, stoppedBy });
  // The newest job now bounds the run: later enqueues are not part of the set it was asked about.
  const [newest] = await d.jobList({ states: null, task: null, queue: null, beforeId: null, limit: 1 });
  if (newest === undefined) return end('done');
  const top = String(BigInt(newest.id) + 1n);

  for (const state of states) {
    const filter: JobFilter = { ...run.filter, states: [state] };
    let before = top;
    for (;;) {
      if (signal?.aborted === true) return end('signal');
      const left = max - p.changed - p.requested;
      if (left <= 0) return end('max');
      const limit = Math.min(batchSize, left);
      const batch = await one(d, run, filter, before, limit);
      const touched = [...batch.ids, ...batch.requested];
      if (touched.length === 0) break;
      p.changed += batch.ids.length;
      p.requested += batch.requested.length;
      p.batches++;
      before = touched.reduce((lo, id) => (BigInt(id) < BigInt(lo) ? id : lo));
      if (run.action === 'retry' && batch.queues.length > 0) run.wake(batch.queues);
      onProgress?.({ ...p });
    }
  }
  return end('done');
}

async function one(d: Driver, run: BulkRun, filter: JobFilter, beforeId: string, limit: number): Promise<JobBatch & { requested: string[] }> {
  if (run.action === 'retry') return { ...(await d.jobRetryMany({ filter, from: bulkStates('retry'), beforeId, limit })), requested: [] };
  if (run.action === 'delete') return { ...(await d.jobDeleteMany({ filter, from: bulkStates('delete'), beforeId, limit })), requested: [] };
  const waitingFrom = bulkStates('cancel').filter((s) => s !== 'running');
  return d.jobCancelMany({ filter, waitingFrom, reason: run.reason, beforeId, limit });
}

/**
 * How many jobs match `filter` (and, with `action`, are in a state it applies to), counted up to
 * `upTo`: `capped` says the count stopped there.
 */
export async function countJobs(d: Driver, filter: JobFilter, action: BulkAction | null, upTo: number, where: string): Promise<{ count: number; capped: boolean }> {
  const states = action === null ? null : statesFor(action, filter, where);
  // One state at a time for an action, so that each count is an index range (state, id).
  let count = 0;
  for (const s of states ?? [null]) {
    const left = upTo + 1 - count;
    if (left <= 0) break;
    count += await d.jobCount({ filter: s === null ? filter : { ...filter, states: [s] }, cap: left });
  }
  return { count: Math.min(count, upTo), capped: count > upTo };
}
