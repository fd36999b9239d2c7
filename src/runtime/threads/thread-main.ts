/**
 * Entry point of a task thread. It loads the module a task names, finds the task among its
 * exports (by name), and runs one attempt at a time with a context bridged to the main thread:
 * `ctx.signal` is aborted by an `abort` message, `ctx.progress` round-trips to the main thread
 * (which holds the lease and does the fenced write), `ctx.log` lines are sent to the job's logger.
 *
 * The thread holds no job state of its own beyond the run in flight: when it dies, the main
 * thread fails that run and starts a fresh thread for the next one.
 */
import { parentPort } from 'node:worker_threads';
import { deserializeError, serializeError } from '../../errors.ts';
import type { JobContext, Logger, TaskDefinition } from '../../types.ts';
import type { FromThread, LogLevel, RunRequest, ToThread } from './protocol.ts';

const port = parentPort;
if (port === null) throw new Error('offload: a task thread must be started as a worker_thread');

const send = (m: FromThread) => port.postMessage(m);
const modules = new Map<string, Promise<Record<string, unknown>>>();
const controllers = new Map<number, AbortController>();
const progressWaits = new Map<string, { resolve: () => void; reject: (e: unknown) => void }>();
let seq = 0;

function isTask(v: unknown): v is TaskDefinition {
  return typeof v === 'object' && v !== null && typeof (v as { name?: unknown }).name === 'string' && typeof (v as { handler?: unknown }).handler === 'function';
}

async function findTask(moduleUrl: string, name: string): Promise<TaskDefinition> {
  let loading = modules.get(moduleUrl);
  if (loading === undefined) {
    loading = import(moduleUrl) as Promise<Record<string, unknown>>;
    modules.set(moduleUrl, loading);
  }
  const mod = await loading;
  const task = Object.values(mod).find((v) => isTask(v) && v.name === name);
  if (task === undefined) {
    throw Object.assign(new Error(`module ${moduleUrl} exports no task named '${name}' (export the value defineTask() returned)`), { code: 'OFFLOAD_UNKNOWN_TASK' });
  }
  return task as TaskDefinition;
}

function logger(runId: number, bindings: Record<string, unknown>): Logger {
  const at =
    (level: LogLevel) =>
    (obj: object | string, msg?: string): void => {
      // Plain data only: a log line must survive structured clone.
      const data: unknown = typeof obj === 'string' ? obj : JSON.parse(JSON.stringify({ ...bindings, ...obj }) ?? '{}');
      send({ type: 'log', runId, level, obj: data, msg });
    };
  return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error'), child: (b) => logger(runId, { ...bindings, ...b }) };
}

async function run(req: RunRequest): Promise<void> {
  const controller = new AbortController();
  controllers.set(req.runId, controller);
  let task: TaskDefinition;
  try {
    task = await findTask(req.module, req.task);
  } catch (err) {
    controllers.delete(req.runId);
    send({ type: 'done', runId: req.runId, ok: false, error: serializeError(err), loadFailed: true });
    return;
  }
  const ctx: JobContext = {
    ...req.job,
    task: req.task,
    signal: controller.signal,
    log: logger(req.runId, {}),
    progress: (value) => {
      if (controller.signal.aborted) return Promise.reject(controller.signal.reason as Error);
      const s = ++seq;
      return new Promise<void>((resolve, reject) => {
        progressWaits.set(`${req.runId}:${s}`, { resolve, reject });
        send({ type: 'progress', runId: req.runId, seq: s, value });
      });
    },
  };
  try {
    const value: unknown = await task.handler(req.payload, ctx);
    send({ type: 'done', runId: req.runId, ok: true, value });
  } catch (err) {
    send({ type: 'done', runId: req.runId, ok: false, error: serializeError(err), loadFailed: false });
  } finally {
    controllers.delete(req.runId);
  }
}

port.on('message', (msg: ToThread) => {
  switch (msg.type) {
    case 'run':
      void run(msg);
      break;
    case 'abort':
      controllers.get(msg.runId)?.abort(deserializeError(msg.reason));
      break;
    case 'progress-result': {
      const key = `${msg.runId}:${msg.seq}`;
      const w = progressWaits.get(key);
      progressWaits.delete(key);
      if (msg.error === null) w?.resolve();
      else w?.reject(deserializeError(msg.error));
      break;
    }
  }
});
