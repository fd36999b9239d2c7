/**
 * A pino logger with offload's defaults: named `offload`, errors serialized with their code and
 * cause, jobs serialized without their data, payload paths redacted, lines on stderr (stdout is
 * for a program's own output, such as the CLI's `--json`).
 */
import { hostname } from 'node:os';
import type pino from 'pino';
import { checkKeys } from '../core/options.ts';
import { OffloadError } from '../errors.ts';
import { pino as loadPino } from './lazy-deps.ts';
import { jobLogView, redactPayloadPaths } from './log-bindings.ts';

export type PinoLevel = pino.LevelWithSilent;
const LEVELS: readonly PinoLevel[] = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'];

export interface PinoLoggerOptions {
  /** Default `info`: offload writes job payloads only at `debug`. */
  level?: PinoLevel;
  /** Paths inside job payloads to censor, e.g. `['password', 'card.number']` (see redactPayloadPaths). */
  redact?: string[];
  /** Where lines go. Default stderr. Any object with `write(line)`, e.g. `pino.destination(path)`. */
  destination?: pino.DestinationStream;
  /** Fields on every line (`service`, `region` ...). pid and hostname are there already. */
  base?: Record<string, unknown>;
}

/**
 * Creates the pino logger offload recommends: pass it as `logger` to `createOffload`.
 * @example
 * const offload = createOffload({ store, tasks, logger: pinoLogger({ level: 'info', redact: ['password'] }) })
 */
export function pinoLogger(options: PinoLoggerOptions = {}): pino.Logger {
  const o = checkKeys(options, ['level', 'redact', 'destination', 'base'], 'pinoLogger()');
  const level = o['level'] ?? 'info';
  if (!LEVELS.includes(level as PinoLevel)) {
    throw new OffloadError('OFFLOAD_INVALID_OPTIONS', `pinoLogger(): level must be one of ${LEVELS.join(', ')}, got ${JSON.stringify(level)}`);
  }
  const destination = o['destination'] as pino.DestinationStream | undefined;
  if (destination !== undefined && typeof (destination as { write?: unknown } | null)?.write !== 'function') {
    throw new OffloadError('OFFLOAD_INVALID_OPTIONS', 'pinoLogger(): destination must have a write(line) method');
  }
  const base = o['base'];
  if (base !== undefined && (typeof base !== 'object' || base === null || Array.isArray(base))) {
    throw new OffloadError('OFFLOAD_INVALID_OPTIONS', 'pinoLogger(): base must be an object of fields');
  }
  const redact = o['redact'] === undefined ? undefined : redactPayloadPaths(o['redact'] as string[]);
  const pino = loadPino();
  return pino(
    {
      name: 'offload',
      level: level as PinoLevel,
      // Given fields extend pino's default base (pid, hostname) rather than replace it.
      ...(base === undefined ? {} : { base: { pid: process.pid, hostname: hostname(), ...base } }),
      serializers: { err: pino.stdSerializers.err, error: pino.stdSerializers.err, job: jobLogView },
      ...(redact === undefined ? {} : { redact }),
    },
    destination ?? pino.destination({ dest: 2, sync: true }),
  );
}
