/**
 * Exit codes of the commands, and how an error of the library maps to one. Scripts can tell "the
 * job is not there" from "it is there but cannot be retried now" from "the store is down".
 *
 *   0  done
 *   1  the environment failed: the store is unreachable or failed mid-command
 *   2  bad arguments (also an invalid payload, an unknown task)
 *   3  no such job
 *   4  refused in the current state: the job's state does not allow it, the queue is full, the
 *      idempotency key was used with another payload
 */
import { isOffloadError } from '../../index.ts';
import type { CliIo } from '../io.ts';
import { FatalError, UsageError } from '../usage-error.ts';

export const EXIT = { ok: 0, failed: 1, usage: 2, notFound: 3, refused: 4 } as const;

export const EXIT_CODES_HELP = `
Exit codes:
  0  done
  1  the store cannot be reached (or failed)
  2  bad arguments
  3  no such job
  4  refused: not allowed in the job's state, queue full, idempotency conflict`;

const BY_CODE: Readonly<Record<string, number>> = {
  OFFLOAD_JOB_NOT_FOUND: EXIT.notFound,
  OFFLOAD_INVALID_STATE: EXIT.refused,
  OFFLOAD_IDEMPOTENCY_CONFLICT: EXIT.refused,
  OFFLOAD_OVERLOADED: EXIT.refused,
  OFFLOAD_INVALID_OPTIONS: EXIT.usage,
  OFFLOAD_INVALID_PAYLOAD: EXIT.usage,
  OFFLOAD_PAYLOAD_TOO_LARGE: EXIT.usage,
  OFFLOAD_UNKNOWN_TASK: EXIT.usage,
  OFFLOAD_UNSUPPORTED: EXIT.usage,
  OFFLOAD_STORE: EXIT.failed,
};

/**
 * Runs a command's body and reports its exit code. An offload error with a known code becomes
 * its message on stderr and its exit code; usage and fatal errors go to the program, which
 * prints them; anything else is a bug and keeps its stack.
 */
export async function runCommand(io: CliIo, finish: (code: number) => void, body: () => Promise<number>): Promise<void> {
  try {
    finish(await body());
  } catch (err) {
    if (err instanceof UsageError || err instanceof FatalError) throw err;
    const code = isOffloadError(err) ? BY_CODE[err.code] : undefined;
    if (code === undefined) throw err;
    io.stderr.write(`offload: ${(err as Error).message}\n`);
    finish(code);
  }
}
