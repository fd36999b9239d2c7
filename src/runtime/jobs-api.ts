/**
 * `offload.jobs`: read, cancel, retry, delete and wait for jobs. Every call goes through the
 * client, so migrations have run before the first query.
 */
import { checkKeys, describe, idempotencyKeyOption, intOption, stringOption } from '../core/options.ts';
import { textProblem } from '../core/storable-text.ts';
import { FINAL_STATES, sourcesOf, WAITING_STATES } from '../core/state-machine.ts';
import { OffloadError } from '../errors.ts';
import type { Driver } from '../storage/driver.ts';
import type { Job, JobListFilter, JobPage, JobState } from '../types.ts';
import { JOB_STATES } from '../types.ts';
import type { OffloadEventName, OffloadEvents } from '../observability/events.ts';
import { BULK_DEFAULT_MAX, BULK_MAX, countJobs, resolveFilter, runBulk, type BulkAction, type BulkOptions, type BulkResult, type JobBulkFilter } from './jobs-bulk.ts';

export interface WaitOptions {
  timeoutMs?: number;
  signal?: AbortSignal;
}

/** What the jobs API needs of its client. */
export interface JobsApiHost {
  ready(): Promise<Driver>;
  wakeFor(job: Job): void;
  wakeQueues(queues: readonly string[]): void;
  on<E extends OffloadEventName>(event: E, listener: (payload: OffloadEvents[E]) => void): () => void;
}

const CURSOR = /^[0-9]{1,18}$/;

/** The jobs API of a client: `offload.jobs`. */
export class JobsApi {
  readonly #c: JobsApiHost;
  constructor(client: JobsApiHost) {
    this.#c = client;
  }

  /** The job, or null when there is none with this id. */
  async get(id: string): Promise<Job | null> {
    return (await this.#c.ready()).jobGet({ id: idOf(id) });
  }

  /**
   * A page of jobs, newest first.
   * @example
   * let page = await offload.jobs.list({ state: 'discarded' })
   * while (page.nextCursor) page = await offload.jobs.list({ state: 'discarded', cursor: page.nextCursor })
   */
  async list(filter: JobListFilter = {}): Promise<JobPage> {
    const f = checkKeys(filter, ['state', 'task', 'queue', 'idempotencyKey', 'cursor', 'limit'], 'jobs.list()');
    const rawStates = f['state'];
    const states = rawStates === undefined ? null : Array.isArray(rawStates) ? rawStates : [rawStates];
    for (const s of states ?? []) {
      if (!JOB_STATES.includes(s as JobState)) throw new OffloadError('OFFLOAD_INVALID_OPTIONS', `jobs.list(): unknown state '${String(s)}'; states: ${JOB_STATES.join(', ')}`);
    }
    const cursor = f['cursor'];
    if (cursor !== undefined && (typeof cursor !== 'string' || !CURSOR.test(cursor))) throw new OffloadError('OFFLOAD_INVALID_OPTIONS', 'jobs.list(): cursor is not one returned by a previous page');
    const limit = intOption(f['limit'], 'jobs.list(): limit', 1, 1000, 100);
    const key = idempotencyKeyOption(f['idempotencyKey'], 'jobs.list()');
    const jobs = await (await this.#c.ready()).jobList({
      states: states as JobState[] | null,
      task: f['task'] === undefined ? null : stringOption(f['task'], 'jobs.list(): task', ''),
      queue: f['queue'] === undefined ? null : stringOption(f['queue'], 'jobs.list(): queue', ''),
      idempotencyKey: key,
      beforeId: cursor ?? null,
      limit: limit + 1,
    });
    const more = jobs.length > limit;
    if (more) jobs.pop();
    return { jobs, nextCursor: more ? jobs[jobs.length - 1]!.id : null };
  }

  /**
   * Cancels a job: a waiting one ends `cancelled` at once; a running one has its signal aborted
   * within about half a second, wherever it runs, and ends `cancelled`.
   */
  async cancel(id: string, reason = 'cancelled by request'): Promise<Job> {
    checkReason(reason, 'jobs.cancel()');
    const job = await (await this.#c.ready()).jobCancel({ id: idOf(id), waitingFrom: sourcesOf('cancelled', 'cancel').filter((s) => WAITING_STATES.includes(s)), reason });
    if (job === null) throw notFound(id);
    if (job.state === 'completed' || job.state === 'discarded') {
      throw new OffloadError('OFFLOAD_INVALID_STATE', `job ${id} is ${job.state}; only waiting or running jobs can be cancelled`, { details: { state: job.state } });
    }
    return job;
  }

  /** Redrives a discarded or cancelled job (or runs a waiting one now) with a fresh attempt budget. */
  async retry(id: string): Promise<Job> {
    const d = await this.#c.ready();
    const job = await d.jobRetry({ id: idOf(id), from: sourcesOf('available', 'retry') });
    if (job !== null) {
      this.#c.wakeFor(job);
      return job;
    }
    const current = await d.jobGet({ id: idOf(id) });
    if (current === null) throw notFound(id);
    throw new OffloadError('OFFLOAD_INVALID_STATE', `job ${id} is ${current.state}; retry applies to ${sourcesOf('available', 'retry').join(', ')} jobs`, { details: { state: current.state } });
  }

  /** Deletes a job that is not running. */
  async delete(id: string): Promise<void> {
    const d = await this.#c.ready();
    const from = [...WAITING_STATES, ...FINAL_STATES];
    if (await d.jobDelete({ id: idOf(id), from })) return;
    const current = await d.jobGet({ id: idOf(id) });
    if (current === null) throw notFound(id);
    throw new OffloadError('OFFLOAD_INVALID_STATE', `job ${id} is running; cancel it first`, { details: { state: current.state } });
  }

  /**
   * Redrives every job matching `filter` that retry applies to (discarded, cancelled, scheduled,
   * retryable), in batches; the others are skipped. See jobs-bulk.ts for how a run goes.
   * @example
   * const r = await offload.jobs.retryMany({ state: 'discarded', task: 'emails.send' }, { onProgress: (p) => console.log(p.changed) })
   */
  async retryMany(filter: JobBulkFilter, options?: BulkOptions): Promise<BulkResult> {
    return this.#bulk('retry', filter, options, 'jobs.retryMany()', '');
  }

  /**
   * Cancels every matching waiting job, and asks every matching running one to stop, in batches.
   * @example
   * await offload.jobs.cancelMany({ queue: 'imports', state: ['available', 'scheduled'] }, { reason: 'bad import' })
   */
  async cancelMany(filter: JobBulkFilter, options?: BulkOptions & { reason?: string }): Promise<BulkResult> {
    const { reason, ...rest } = options ?? {};
    if (reason !== undefined) checkReason(reason, 'jobs.cancelMany()');
    return this.#bulk('cancel', filter, rest, 'jobs.cancelMany()', reason ?? 'cancelled by request');
  }

  /**
   * Deletes every matching job that is not running, in batches.
   * @example
   * await offload.jobs.deleteMany({ state: 'discarded', task: 'old.task' })
   */
  async deleteMany(filter: JobBulkFilter, options?: BulkOptions): Promise<BulkResult> {
    return this.#bulk('delete', filter, options, 'jobs.deleteMany()', '');
  }

  /**
   * How many jobs match `filter`, counted up to `upTo` (default 100 000); with `action`, only
   * those in a state the action applies to: what a bulk run would touch now.
   * @example
   * const { count, capped } = await offload.jobs.count({ state: 'discarded' }, { action: 'retry' })
   */
  async count(filter: JobBulkFilter = {}, options: { action?: BulkAction; upTo?: number } = {}): Promise<{ count: number; capped: boolean }> {
    const o = checkKeys(options, ['action', 'upTo'], 'jobs.count()');
    const action = o['action'];
    if (action !== undefined && action !== 'retry' && action !== 'cancel' && action !== 'delete') throw new OffloadError('OFFLOAD_INVALID_OPTIONS', "jobs.count(): action must be 'retry', 'cancel' or 'delete'");
    const upTo = intOption(o['upTo'], 'jobs.count(): upTo', 1, BULK_MAX, BULK_DEFAULT_MAX);
    const f = resolveFilter(filter, 'jobs.count()', false);
    return countJobs(await this.#c.ready(), f, action ?? null, upTo, 'jobs.count()');
  }

  async #bulk(action: BulkAction, filter: JobBulkFilter, options: BulkOptions | undefined, where: string, reason: string): Promise<BulkResult> {
    const f = resolveFilter(filter, where, true);
    return runBulk(await this.#c.ready(), { action, filter: f, options, where, reason, wake: (queues) => this.#c.wakeQueues(queues) });
  }

  /**
   * Resolves with the job once it reaches a final state (completed, cancelled, discarded).
   * @example
   * const done = await offload.jobs.waitFor(job.id, { timeoutMs: 30_000 })
   */
  async waitFor(id: string, options: WaitOptions = {}): Promise<Job> {
    const o = checkKeys(options, ['timeoutMs', 'signal'], 'jobs.waitFor()');
    const timeoutMs = intOption(o['timeoutMs'], 'jobs.waitFor(): timeoutMs', 0, 2_147_483_647, 2_147_483_647);
    const signal = o['signal'] as AbortSignal | undefined;
    const d = await this.#c.ready();
    const deadline = Date.now() + timeoutMs;
    let delay = 5;
    for (;;) {
      const job = await d.jobGet({ id: idOf(id) });
      if (job === null) throw notFound(id);
      if (FINAL_STATES.includes(job.state)) return job;
      if (signal?.aborted) throw signal.reason;
      const left = deadline - Date.now();
      if (left <= 0) throw new OffloadError('OFFLOAD_TIMEOUT', `job ${id} is still ${job.state} after ${timeoutMs} ms`, { details: { state: job.state } });
      // Poll with growing pauses, cut short by a local event about this job.
      await this.#pause(idOf(id), Math.min(delay, left), signal);
      delay = Math.min(delay * 2, 250);
    }
  }

  #pause(id: string, ms: number, signal: AbortSignal | undefined): Promise<void> {
    return new Promise((resolve) => {
      const offs: Array<() => void> = [];
      const done = () => {
        clearTimeout(timer);
        for (const off of offs) off();
        signal?.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      const mine = (p: { job: Job }) => {
        if (p.job.id === id) done();
      };
      offs.push(this.#c.on('job:completed', mine), this.#c.on('job:failed', mine), this.#c.on('job:cancelled', mine));
      signal?.addEventListener('abort', done, { once: true });
    });
  }
}

/**
 * Job ids are decimal strings; a number from plain JavaScript is accepted too. Anything else is a
 * caller's mistake and gets a clear error instead of a silent "not found".
 */
function idOf(id: unknown): string {
  if (typeof id === 'string' && id.length > 0) return id;
  if (typeof id === 'number' && Number.isSafeInteger(id)) return `${id}`;
  throw new OffloadError('OFFLOAD_INVALID_OPTIONS', `a job id must be a non-empty string, got ${describe(id)}`);
}

function notFound(id: string): OffloadError {
  return new OffloadError('OFFLOAD_JOB_NOT_FOUND', `no job with id '${id}'`, { details: { id } });
}

/** A cancel reason is kept with the job: a non-empty string every store can hold. */
function checkReason(reason: unknown, where: string): void {
  if (typeof reason !== 'string' || reason.length === 0) throw new OffloadError('OFFLOAD_INVALID_OPTIONS', `${where}: reason must be a non-empty string, got ${describe(reason)}`);
  const problem = textProblem(reason);
  if (problem !== null) throw new OffloadError('OFFLOAD_INVALID_OPTIONS', `${where}: reason holds ${problem}, which PostgreSQL cannot store`);
}
