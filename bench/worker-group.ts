/**
 * The workers of one run, wherever they are: in this process (`LocalWorkers`) or in child processes
 * (`ChildWorkers`, each a worker-process.ts). A scenario starts them, waits for a number of finished
 * jobs, stops them; it reads the same counter and the same "latest completion" time either way.
 *
 * Every start resets the count, so a warm-up's jobs never count towards the timed run.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { Countdown } from './countdown.ts';
import type { BenchClient, BenchWorker, JobKind, StateRef, SystemName } from './systems/system.ts';
import type { FromWorker, LoopWindow, RssSummary, ToWorker } from './worker-protocol.ts';

export interface WorkerGroup {
  start(concurrency: number): Promise<void>;
  readonly done: Countdown;
  stop(): Promise<void>;
  close(): Promise<void>;
}

export class LocalWorkers implements WorkerGroup {
  readonly #client: BenchClient;
  #worker: BenchWorker | null = null;
  done = new Countdown();

  constructor(client: BenchClient) {
    this.#client = client;
  }

  async start(concurrency: number): Promise<void> {
    const done = new Countdown();
    this.done = done;
    this.#worker = await this.#client.startWorker(concurrency, { onDone: () => done.add() });
  }

  async stop(): Promise<void> {
    await this.#worker?.stop();
    this.#worker = null;
  }

  async close(): Promise<void> {
    await this.stop();
  }
}

const WORKER_ENTRY = new URL('./worker-process.ts', import.meta.url);
/** A child that does not answer within this long is treated as hung and killed. */
const REPLY_TIMEOUT_MS = 120_000;

export class ChildWorkers implements WorkerGroup {
  readonly #children: WorkerChild[];
  done = new Countdown();
  /** RSS summaries of the last stop, one per child that sampled. */
  rss: RssSummary[] = [];

  private constructor(children: WorkerChild[]) {
    this.#children = children;
    for (const child of children) {
      child.onProgress = (delta, firstAt, lastAt) => this.done.add(delta, lastAt, firstAt);
    }
  }

  /**
   * Forks `count` children on `state` and resolves once every one has its client open. `entry`:
   * the script they run, worker-process.ts under this process's tsx by default, or a plain
   * JavaScript one (plain-worker.ts) that runs without any loader.
   */
  static async spawn(system: SystemName, state: StateRef, count: number, job: JobKind = 'noop', entry: URL | null = null): Promise<ChildWorkers> {
    const children = await Promise.all(Array.from({ length: count }, () => WorkerChild.spawn(system, state, job, entry)));
    return new ChildWorkers(children);
  }

  start(concurrency: number, sampleRssMs: number | null = null): Promise<void> {
    this.done = new Countdown();
    return Promise.all(this.#children.map((c) => c.start(concurrency, sampleRssMs))).then(() => {});
  }

  /** One event-loop window in each child, while its worker runs (see worker-protocol.ts). */
  measureLoop(warmupMs: number, windowMs: number): Promise<LoopWindow[]> {
    return Promise.all(this.#children.map((c) => c.measureLoop(warmupMs, windowMs)));
  }

  async stop(): Promise<void> {
    const stopped = await Promise.all(this.#children.map((c) => c.stop()));
    this.rss = stopped.flatMap((s) => (s.rss === null ? [] : [s.rss]));
  }

  async close(): Promise<void> {
    await Promise.all(this.#children.map((c) => c.exit()));
  }
}

/** One child process, its replies awaited by message type. */
class WorkerChild {
  readonly #proc: ChildProcess;
  readonly #waiting = new Map<string, (msg: FromWorker) => void>();
  #failure: Error | null = null;
  #count = 0;
  onProgress: (delta: number, firstAt: number, lastAt: number) => void = () => {};

  private constructor(proc: ChildProcess) {
    this.#proc = proc;
    proc.on('message', (msg: FromWorker) => this.#receive(msg));
    proc.on('exit', (code, signal) => this.#fail(new Error(`worker process exited (code ${code}, signal ${signal})`)));
  }

  static async spawn(system: SystemName, state: StateRef, job: JobKind, entry: URL | null): Promise<WorkerChild> {
    const args = [system, JSON.stringify(state), job];
    const stdio: ['ignore', 'inherit', 'inherit', 'ipc'] = ['ignore', 'inherit', 'inherit', 'ipc'];
    // execArgv is inherited by default: the child runs under the same `--import tsx` as this
    // process. A plain JavaScript entry runs with none.
    const proc = entry === null ? fork(WORKER_ENTRY, args, { stdio }) : fork(entry, args, { stdio, execArgv: [] });
    const child = new WorkerChild(proc);
    await child.#reply('ready');
    return child;
  }

  #receive(msg: FromWorker): void {
    if (msg.type === 'progress') {
      this.onProgress(msg.count - this.#count, msg.firstAt, msg.lastAt);
      this.#count = msg.count;
      return;
    }
    if (msg.type === 'stopped' && msg.count > this.#count) {
      // Jobs finished after the last progress message.
      this.onProgress(msg.count - this.#count, msg.firstAt, msg.lastAt);
      this.#count = msg.count;
    }
    if (msg.type === 'failed') {
      this.#fail(new Error(`worker process failed: ${msg.message}`));
      return;
    }
    const waiter = this.#waiting.get(msg.type);
    this.#waiting.delete(msg.type);
    waiter?.(msg);
  }

  #fail(err: Error): void {
    this.#failure ??= err;
    for (const waiter of this.#waiting.values()) waiter({ type: 'failed', message: err.message });
    this.#waiting.clear();
  }

  #reply<T extends FromWorker['type']>(type: T): Promise<Extract<FromWorker, { type: T }>> {
    if (this.#failure !== null) return Promise.reject(this.#failure);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`worker process: no '${type}' within ${REPLY_TIMEOUT_MS} ms`)), REPLY_TIMEOUT_MS);
      this.#waiting.set(type, (msg) => {
        clearTimeout(timer);
        if (msg.type === 'failed') reject(new Error(msg.message));
        else resolve(msg as Extract<FromWorker, { type: T }>);
      });
    });
  }

  #send(msg: ToWorker): void {
    if (this.#failure !== null) throw this.#failure;
    this.#proc.send(msg);
  }

  async start(concurrency: number, sampleRssMs: number | null): Promise<void> {
    this.#count = 0;
    const started = this.#reply('started');
    this.#send({ type: 'start', concurrency, sampleRssMs });
    await started;
  }

  async measureLoop(warmupMs: number, windowMs: number): Promise<LoopWindow> {
    const loop = this.#reply('loop');
    this.#send({ type: 'measure-loop', warmupMs, windowMs });
    const { type: _, ...window } = await loop;
    return window;
  }

  async stop(): Promise<Extract<FromWorker, { type: 'stopped' }>> {
    const stopped = this.#reply('stopped');
    this.#send({ type: 'stop' });
    return stopped;
  }

  async exit(): Promise<void> {
    if (this.#proc.exitCode !== null || this.#proc.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => this.#proc.once('exit', () => resolve()));
    if (this.#failure === null) this.#proc.send({ type: 'exit' } satisfies ToWorker);
    const timer = setTimeout(() => this.#proc.kill('SIGKILL'), 15_000);
    await exited;
    clearTimeout(timer);
  }
}
