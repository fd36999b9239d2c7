/**
 * The pool of task threads: runs `kind: 'thread'` handlers on worker_threads so that CPU work
 * never holds the main event loop (where claims, heartbeats and the user's HTTP server run).
 *
 * One job per thread at a time (CPU work does not interleave usefully). Threads start lazily, up
 * to `size`; runs beyond that wait in order.
 *
 * Modes of a thread: starting -> idle <-> busy -> retired (terminated: after `maxJobsPerThread`
 * runs, after its module failed to load, after a hard timeout or abort, or when it died). A
 * retired thread is replaced lazily by the next run.
 *
 * Aborts (timeout, cancel, shutdown, lost lease): the handler's `ctx.signal` in the thread is
 * aborted first. A handler that does not finish within `terminateGraceMs` is cut off: the thread
 * is terminated, which stops even a synchronous loop, and the run fails with the abort's reason.
 * Once aborted, the abort decides the outcome even if the handler returns at the same moment.
 *
 * Deaths: a thread that exits (process.exit, an uncaught error, out of memory) fails its own run
 * only, with OFFLOAD_THREAD_OUT_OF_MEMORY or OFFLOAD_THREAD_CRASHED; the job is retried per its
 * task's policy like any failed attempt.
 *
 * Threads are referenced only while busy: an idle pool never keeps the process alive.
 */
import { Worker } from 'node:worker_threads';
import { deserializeError, OffloadError, serializeError } from '../../errors.ts';
import type { Logger } from '../../types.ts';
import type { FromThread, RunRequest, ToThread } from './protocol.ts';

export interface ThreadPoolOptions {
  size: number;
  /** V8 old-space limit per thread; a thread over it dies with OFFLOAD_THREAD_OUT_OF_MEMORY. */
  maxMemoryMb: number | null;
  maxJobsPerThread: number;
  terminateGraceMs: number;
  /** Some task module is TypeScript source: threads register tsx before loading it. */
  typescript: boolean;
}

export interface ThreadRun {
  module: string;
  task: string;
  payload: unknown;
  job: RunRequest['job'];
  /** Started when the run gets a thread (time waiting for one does not count). */
  timeoutMs: number | null;
  /** The executor's signal: cancel, shutdown or a lost lease. */
  signal: AbortSignal;
  progress(value: unknown): Promise<void>;
  log: Logger;
}

export interface ThreadPoolStats {
  size: number;
  threads: number;
  busy: number;
  queued: number;
  /** Threads replaced so far (recycled, crashed, terminated). */
  retired: number;
}

interface Pending {
  id: number;
  run: ThreadRun;
  resolve(value: unknown): void;
  reject(err: unknown): void;
  slot: Slot | null;
  abortReason: Error | null;
  timers: NodeJS.Timeout[];
  onAbort: () => void;
  settled: boolean;
}

interface Slot {
  worker: Worker;
  busy: Pending | null;
  runs: number;
  /** Why it died, from its 'error' event, for the run it fails. */
  error: Error | null;
  retiring: boolean;
}

const FROM_SOURCE = import.meta.url.endsWith('.ts');
const ENTRY = new URL(`./thread-main${FROM_SOURCE ? '.ts' : '.js'}`, import.meta.url);

export class ThreadPool {
  readonly #o: ThreadPoolOptions;
  readonly #slots = new Set<Slot>();
  readonly #queue: Pending[] = [];
  #nextId = 1;
  #retired = 0;
  #closed = false;

  constructor(options: ThreadPoolOptions) {
    this.#o = options;
  }

  stats(): ThreadPoolStats {
    let busy = 0;
    for (const s of this.#slots) if (s.busy !== null) busy++;
    return { size: this.#o.size, threads: this.#slots.size, busy, queued: this.#queue.length, retired: this.#retired };
  }

  /** Runs one attempt on a thread; resolves with the handler's value or rejects with its error. */
  run(run: ThreadRun): Promise<unknown> {
    if (this.#closed) return Promise.reject(new OffloadError('OFFLOAD_CLOSED', 'the thread pool is closed'));
    return new Promise((resolve, reject) => {
      const p: Pending = { id: this.#nextId++, run, resolve, reject, slot: null, abortReason: null, timers: [], onAbort: () => {}, settled: false };
      p.onAbort = () => this.#abort(p, asError(run.signal.reason));
      if (run.signal.aborted) {
        reject(asError(run.signal.reason));
        return;
      }
      run.signal.addEventListener('abort', p.onAbort, { once: true });
      this.#queue.push(p);
      this.#dispatch();
    });
  }

  /** Terminates every thread; runs still waiting or running fail with OFFLOAD_CLOSED. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const closed = new OffloadError('OFFLOAD_CLOSED', 'the thread pool was closed');
    for (const p of this.#queue.splice(0)) this.#settle(p, closed);
    await Promise.all(
      [...this.#slots].map((s) => {
        if (s.busy !== null) this.#settle(s.busy, closed);
        return s.worker.terminate();
      }),
    );
    this.#slots.clear();
  }

  #dispatch(): void {
    while (this.#queue.length > 0 && !this.#closed) {
      let slot = [...this.#slots].find((s) => s.busy === null && !s.retiring);
      if (slot === undefined) {
        if (this.#slots.size >= this.#o.size) return;
        try {
          slot = this.#spawn();
        } catch (err) {
          // No thread can start (e.g. TypeScript tasks without tsx): the run fails, the pool lives.
          this.#settle(this.#queue.shift()!, err);
          continue;
        }
      }
      this.#start(slot, this.#queue.shift()!);
    }
  }

  #start(slot: Slot, p: Pending): void {
    slot.busy = p;
    p.slot = slot;
    slot.worker.ref();
    const { run } = p;
    if (run.timeoutMs !== null) {
      p.timers.push(
        setTimeout(() => this.#abort(p, new OffloadError('OFFLOAD_TIMEOUT', `job ${run.job.jobId} timed out after ${run.timeoutMs} ms`)), run.timeoutMs),
      );
    }
    const req: ToThread = { type: 'run', runId: p.id, module: run.module, task: run.task, payload: run.payload, job: run.job };
    try {
      slot.worker.postMessage(req);
    } catch (err) {
      // The payload cannot cross to a thread (it came from JSON, so this is not expected).
      this.#free(slot);
      this.#settle(p, err);
    }
  }

  #abort(p: Pending, reason: Error): void {
    if (p.settled || p.abortReason !== null) return;
    p.abortReason = reason;
    const slot = p.slot;
    if (slot === null) {
      // Still waiting for a thread: nothing runs yet.
      const i = this.#queue.indexOf(p);
      if (i >= 0) this.#queue.splice(i, 1);
      this.#settle(p, reason);
      return;
    }
    slot.worker.postMessage({ type: 'abort', runId: p.id, reason: serializeError(reason) } satisfies ToThread);
    // A handler that ignores its signal is cut off: terminating the thread stops even a busy loop.
    p.timers.push(
      setTimeout(() => {
        if (p.settled) return;
        const why = isTimeout(reason)
          ? new OffloadError('OFFLOAD_TIMEOUT', `${reason.message}; the handler ignored its abort signal and its thread was terminated`)
          : reason;
        this.#settle(p, why);
        this.#retire(slot);
      }, this.#o.terminateGraceMs),
    );
  }

  #settle(p: Pending, err: unknown, value?: unknown): void {
    if (p.settled) return;
    p.settled = true;
    for (const t of p.timers) clearTimeout(t);
    p.run.signal.removeEventListener('abort', p.onAbort);
    if (err === undefined) p.resolve(value);
    else p.reject(err);
  }

  #free(slot: Slot): void {
    slot.busy = null;
    slot.worker.unref();
  }

  #spawn(): Slot {
    const worker = spawnThread(this.#o);
    const slot: Slot = { worker, busy: null, runs: 0, error: null, retiring: false };
    this.#slots.add(slot);
    worker.unref();
    worker.on('message', (m: FromThread) => this.#onMessage(slot, m));
    worker.on('error', (err) => {
      slot.error = err;
    });
    worker.on('exit', (code) => this.#onExit(slot, code));
    return slot;
  }

  #onMessage(slot: Slot, m: FromThread): void {
    const p = slot.busy;
    if (p === null || p.id !== m.runId) return;
    switch (m.type) {
      case 'progress':
        p.run.progress(m.value).then(
          () => this.#post(slot, { type: 'progress-result', runId: m.runId, seq: m.seq, error: null }),
          (err: unknown) => this.#post(slot, { type: 'progress-result', runId: m.runId, seq: m.seq, error: serializeError(err) }),
        );
        break;
      case 'log':
        p.run.log[m.level](m.obj as object, m.msg);
        break;
      case 'done': {
        slot.runs++;
        this.#free(slot);
        if (p.abortReason !== null) this.#settle(p, p.abortReason);
        else if (m.ok) this.#settle(p, undefined, m.value);
        else this.#settle(p, deserializeError(m.error));
        // A module that failed to load stays failed in this thread's module cache: start afresh.
        if ((!m.ok && m.loadFailed) || slot.runs >= this.#o.maxJobsPerThread) this.#retire(slot);
        this.#dispatch();
        break;
      }
    }
  }

  #post(slot: Slot, m: ToThread): void {
    if (this.#slots.has(slot)) slot.worker.postMessage(m);
  }

  #retire(slot: Slot): void {
    if (slot.retiring) return;
    slot.retiring = true;
    void slot.worker.terminate();
  }

  #onExit(slot: Slot, code: number): void {
    this.#slots.delete(slot);
    this.#retired++;
    const p = slot.busy;
    if (p !== null) {
      const err = slot.error;
      if (p.abortReason !== null) this.#settle(p, p.abortReason);
      else if ((err as { code?: string } | null)?.code === 'ERR_WORKER_OUT_OF_MEMORY') {
        this.#settle(
          p,
          new OffloadError('OFFLOAD_THREAD_OUT_OF_MEMORY', `job ${p.run.job.jobId}: its thread ran out of memory (limit ${this.#o.maxMemoryMb ?? 'default'} MB)`, { cause: err }),
        );
      } else {
        const why = err !== null ? `an uncaught error: ${err.message}` : `exit code ${code}`;
        this.#settle(p, new OffloadError('OFFLOAD_THREAD_CRASHED', `job ${p.run.job.jobId}: its thread died (${why})`, { cause: err ?? undefined, details: { exitCode: code } }));
      }
    }
    this.#dispatch();
  }
}

function spawnThread(o: ThreadPoolOptions): Worker {
  const options = {
    name: 'offload-task',
    ...(o.maxMemoryMb === null ? {} : { resourceLimits: { maxOldGenerationSizeMb: o.maxMemoryMb, maxYoungGenerationSizeMb: Math.max(4, Math.ceil(o.maxMemoryMb / 8)) } }),
  };
  if (!FROM_SOURCE && !o.typescript) return new Worker(ENTRY, options);
  // TypeScript (this package's source in development, or the user's task module): a worker_thread
  // does not inherit the parent's loader, so a bootstrap registers tsx before loading the entry.
  let tsx: string;
  try {
    tsx = import.meta.resolve('tsx/esm/api');
  } catch (err) {
    throw new OffloadError('OFFLOAD_INVALID_OPTIONS', 'a thread task module is TypeScript source: install tsx to run it on threads, or point to built JavaScript', { cause: err });
  }
  const boot = `import(${JSON.stringify(tsx)}).then((m) => { m.register(); return import(${JSON.stringify(ENTRY.href)}); })`;
  return new Worker(boot, { ...options, eval: true });
}

function isTimeout(err: Error): boolean {
  return (err as { code?: unknown }).code === 'OFFLOAD_TIMEOUT';
}

function asError(reason: unknown): Error {
  return reason instanceof Error ? reason : new Error(String(reason));
}
