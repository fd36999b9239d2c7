/**
 * The typed message protocol between the main thread (ThreadPool) and a task thread
 * (thread-main.ts). A thread runs one job at a time; every message about a job carries its
 * `runId`, and progress requests carry a `seq` answered exactly once.
 */
import type { SerializedError } from '../../errors.ts';

/** What a thread needs to run one attempt. */
export interface RunRequest {
  type: 'run';
  runId: number;
  /** URL of the ES module that exports the task (file: URL). */
  module: string;
  task: string;
  payload: unknown;
  job: { jobId: string; queue: string; attempt: number; maxAttempts: number };
}

export type ToThread =
  | RunRequest
  /** Aborts the handler's signal; `reason` becomes `signal.reason`. */
  | { type: 'abort'; runId: number; reason: SerializedError }
  | { type: 'progress-result'; runId: number; seq: number; error: SerializedError | null };

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export type FromThread =
  | { type: 'progress'; runId: number; seq: number; value: unknown }
  | { type: 'log'; runId: number; level: LogLevel; obj: unknown; msg: string | undefined }
  | { type: 'done'; runId: number; ok: true; value: unknown }
  | { type: 'done'; runId: number; ok: false; error: SerializedError; loadFailed: boolean };
