/**
 * How a long-running command (worker, dev) ends: the first SIGINT or SIGTERM stops it gracefully
 * and resolves 0; a second one stops at once and resolves 130. A signal within a second of the
 * first is the same one delivered twice (a Ctrl-C under `npm run` or `npx` reaches the process
 * from the terminal and again forwarded by npm) and is ignored.
 */
import type { CliIo } from '../io.ts';

const DUPLICATE_SIGNAL_MS = 1000;

export interface StopLog {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

/**
 * Resolves with the exit code once `stop` has run after a signal (or a second signal cut it short).
 * @example
 * return untilStopped(io, log, () => offload.close({ graceMs }))
 */
export function untilStopped(io: CliIo, log: StopLog, stop: (signal: NodeJS.Signals) => Promise<void>): Promise<number> {
  return new Promise<number>((resolve) => {
    let firstAt: number | null = null;
    const off = io.onStopSignal((signal) => {
      if (firstAt !== null && io.now() - firstAt < DUPLICATE_SIGNAL_MS) return;
      if (firstAt !== null) {
        log.warn({ signal }, 'second signal: stopping at once');
        off();
        resolve(130);
        return;
      }
      firstAt = io.now();
      stop(signal).then(
        () => {
          off();
          resolve(0);
        },
        (err: unknown) => {
          log.error({ err }, 'stopping failed');
          off();
          resolve(1);
        },
      );
    });
  });
}
