/**
 * The SQLite driver as the runtime sees it: an async facade that forwards each call to the store
 * thread and resolves when the thread answers.
 *
 * Modes: idle (no thread), open (thread running; referenced only while requests are pending, so
 * an idle client does not keep the process alive), closed (every call fails with OFFLOAD_CLOSED).
 * A thread that dies rejects the requests pending on it with OFFLOAD_STORE; the next call starts a
 * new thread (the database file is the state, the thread holds none).
 */
import { Worker } from 'node:worker_threads';
import { deserializeError, OffloadError } from '../../errors.ts';
import type { Driver, DriverCapabilities } from '../driver.ts';
import type { ClaimedWire, SqliteEngineOptions } from './engine.ts';
import type { EngineMethod, StoreRequest, StoreResponse, StoreThreadData } from './protocol.ts';
import { rowOf, toJob } from './rows.ts';

type Pending = { resolve: (v: unknown) => void; reject: (e: unknown) => void };
/** A store thread and the requests it has not answered yet. */
type StoreThread = { worker: Worker; pending: Map<number, Pending> };

// Built, the thread is a .js sibling. From TypeScript source (development, tests under tsx) it is
// .ts, and a worker_thread does not inherit tsx's loader: a small bootstrap registers it first.
const FROM_SOURCE = import.meta.url.endsWith('.ts');
const THREAD_URL = new URL(`./thread${FROM_SOURCE ? '.ts' : '.js'}`, import.meta.url);

/**
 * The store thread's young generation, in MB (V8's default is sized for a main thread, up to
 * 48 MB). What the thread allocates lives for one request (statements' arguments and rows on their
 * way out), so a small nursery collects it as well; at the default it grew to its cap under load,
 * about 7–10 MB more resident memory for the same throughput (bench: worker RSS at c100).
 */
const STORE_THREAD_YOUNG_MB = 3;

function spawnThread(base: { workerData: StoreThreadData; name: string }): Worker {
  const options = { ...base, resourceLimits: { maxYoungGenerationSizeMb: STORE_THREAD_YOUNG_MB } };
  if (!FROM_SOURCE) return new Worker(THREAD_URL, options);
  const tsx = import.meta.resolve('tsx/esm/api');
  const boot = `import(${JSON.stringify(tsx)}).then((m) => { m.register(); return import(${JSON.stringify(THREAD_URL.href)}); })`;
  return new Worker(boot, { ...options, eval: true });
}

export class SqliteDriver implements Driver {
  readonly name = 'sqlite';
  readonly capabilities: DriverCapabilities = { callerTransactions: false, crossProcessNotify: false, ordered: true };
  readonly #options: SqliteEngineOptions;
  #thread: StoreThread | null = null;
  #nextId = 1;
  #closed = false;

  constructor(options: SqliteEngineOptions) {
    this.#options = options;
  }

  #current(): StoreThread {
    if (this.#thread !== null) return this.#thread;
    const data: StoreThreadData = { options: this.#options };
    const w = spawnThread({ workerData: data, name: 'offload-sqlite-store' });
    // Each thread answers only the requests sent to it. A dying thread reports twice ('error',
    // then 'exit'), and by the second report a call may have started its successor: only the
    // dead thread's own requests fail, once.
    const t: StoreThread = { worker: w, pending: new Map() };
    w.on('message', (res: StoreResponse) => {
      const p = t.pending.get(res.id);
      if (p === undefined) return;
      t.pending.delete(res.id);
      if (t.pending.size === 0) w.unref();
      if (res.ok) p.resolve(res.value);
      else p.reject(storeFailure(deserializeError(res.error)));
    });
    const fail = (err: unknown) => {
      if (this.#thread === t) this.#thread = null;
      if (t.pending.size === 0) return;
      const e = new OffloadError('OFFLOAD_STORE', `sqlite store thread stopped: ${(err as Error)?.message ?? err}`, { cause: err });
      const failed = [...t.pending.values()];
      t.pending.clear();
      for (const p of failed) p.reject(e);
    };
    w.on('error', fail);
    w.on('exit', (code) => fail(new Error(`exit code ${code}`)));
    w.unref();
    this.#thread = t;
    return t;
  }

  #call<T>(method: EngineMethod, params: unknown): Promise<T> {
    if (this.#closed) return Promise.reject(new OffloadError('OFFLOAD_CLOSED', 'the sqlite store is closed'));
    const t = this.#current();
    const id = this.#nextId++;
    const req: StoreRequest = { id, method, params };
    return new Promise<T>((resolve, reject) => {
      if (t.pending.size === 0) t.worker.ref();
      t.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      t.worker.postMessage(req);
    });
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    const t = this.#thread;
    if (t !== null) {
      t.worker.ref();
      const id = this.#nextId++;
      const closed = new Promise<void>((resolve) => {
        t.pending.set(id, { resolve: () => resolve(), reject: () => resolve() });
      });
      t.worker.postMessage({ id, method: 'close', params: null } satisfies StoreRequest);
      await closed;
      this.#closed = true;
      this.#thread = null;
      await t.worker.terminate();
    }
    this.#closed = true;
  }

  migrate: Driver['migrate'] = () => this.#call('migrate', null);
  jobInsertMany: Driver['jobInsertMany'] = (p) => {
    if (p.tx !== undefined) {
      return Promise.reject(new OffloadError('OFFLOAD_UNSUPPORTED', 'the sqlite store cannot enqueue inside a caller transaction (option tx); use the postgres store'));
    }
    return this.#call('jobInsertMany', { jobs: p.jobs, atomic: p.atomic });
  };
  // Rows cross from the store thread as JSON text (a big row as its values) and become jobs here (see engine.ts).
  jobClaim: Driver['jobClaim'] = async (p) =>
    (await this.#call<ClaimedWire[]>('jobClaim', p)).map((wire) => {
      const values = typeof wire === 'string' ? (JSON.parse(wire) as unknown[]) : wire;
      const r = rowOf(values);
      return { job: toJob(r), token: r.lease_token! };
    });
  jobHeartbeatMany: Driver['jobHeartbeatMany'] = (p) => this.#call('jobHeartbeatMany', p);
  jobCancelRequested: Driver['jobCancelRequested'] = (p) => this.#call('jobCancelRequested', p);
  jobUnclaim: Driver['jobUnclaim'] = (p) => this.#call('jobUnclaim', p);
  jobCompleteMany: Driver['jobCompleteMany'] = (p) => this.#call('jobCompleteMany', p);
  jobProgress: Driver['jobProgress'] = (p) => this.#call('jobProgress', p);
  jobGet: Driver['jobGet'] = (p) => this.#call('jobGet', p);
  jobList: Driver['jobList'] = (p) => this.#call('jobList', p);
  jobCancel: Driver['jobCancel'] = (p) => this.#call('jobCancel', p);
  jobRetry: Driver['jobRetry'] = (p) => this.#call('jobRetry', p);
  jobDelete: Driver['jobDelete'] = (p) => this.#call('jobDelete', p);
  jobRescueExpired: Driver['jobRescueExpired'] = (p) => this.#call('jobRescueExpired', p);
  jobRetryMany: Driver['jobRetryMany'] = (p) => this.#call('jobRetryMany', p);
  jobCancelMany: Driver['jobCancelMany'] = (p) => this.#call('jobCancelMany', p);
  jobDeleteMany: Driver['jobDeleteMany'] = (p) => this.#call('jobDeleteMany', p);
  jobCount: Driver['jobCount'] = (p) => this.#call('jobCount', p);
  jobPrune: Driver['jobPrune'] = (p) => this.#call('jobPrune', p);
  jobCounts: Driver['jobCounts'] = () => this.#call('jobCounts', null);
  jobExpire: Driver['jobExpire'] = (p) => this.#call('jobExpire', p);
  jobFinishedRecently: Driver['jobFinishedRecently'] = (p) => this.#call('jobFinishedRecently', p);
  queuePause: Driver['queuePause'] = (p) => this.#call('queuePause', p);
  queueResume: Driver['queueResume'] = (p) => this.#call('queueResume', p);
  queueList: Driver['queueList'] = () => this.#call('queueList', null);
  testSetLeaseExpiry: Driver['testSetLeaseExpiry'] = (p) => this.#call('testSetLeaseExpiry', p);
  testAgeJob: Driver['testAgeJob'] = (p) => this.#call('testAgeJob', p);
  workerHeartbeat: Driver['workerHeartbeat'] = (p) => this.#call('workerHeartbeat', p);
  workerList: Driver['workerList'] = (p) => this.#call('workerList', p);
  workerRemove: Driver['workerRemove'] = (p) => this.#call('workerRemove', p);
  workerPrune: Driver['workerPrune'] = (p) => this.#call('workerPrune', p);
  testAgeWorker: Driver['testAgeWorker'] = (p) => this.#call('testAgeWorker', p);
  /** Tests only: the store thread dies of an uncaught error before it answers (see SqliteEngine.testCrash). */
  testCrash = (): Promise<void> => this.#call('testCrash', null);
}

function storeFailure(err: Error): Error {
  if ((err as { code?: unknown }).code?.toString().startsWith('OFFLOAD_')) return err;
  return new OffloadError('OFFLOAD_STORE', `sqlite store: ${err.message}`, { cause: err });
}
