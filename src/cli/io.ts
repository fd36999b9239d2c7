/**
 * What a command may touch of its process, passed in so tests and embedders can give their own:
 * output streams, the environment, the working directory and the stop signals.
 */
import type { Writable } from 'node:stream';

export interface CliIo {
  stdout: Writable;
  stderr: Writable;
  env: Readonly<Record<string, string | undefined>>;
  cwd: string;
  /** The clock, in milliseconds (Date.now for the real process). */
  now(): number;
  /** Calls `fn` on each SIGINT or SIGTERM; returns the unsubscribe function. */
  onStopSignal(fn: (signal: NodeJS.Signals) => void): () => void;
}

export function processIo(): CliIo {
  return {
    stdout: process.stdout,
    stderr: process.stderr,
    env: process.env,
    cwd: process.cwd(),
    now: () => Date.now(),
    onStopSignal(fn) {
      process.on('SIGINT', fn);
      process.on('SIGTERM', fn);
      return () => {
        process.off('SIGINT', fn);
        process.off('SIGTERM', fn);
      };
    },
  };
}
