/**
 * The default logger: one JSON object per line on stderr, pino-compatible in shape, so output
 * reads the same when a user passes a real pino instance as `logger`.
 */
import type { Logger } from '../types.ts';

const LEVELS = { debug: 20, info: 30, warn: 40, error: 50, silent: 100 } as const;
export type LogLevel = keyof typeof LEVELS;

export function consoleLogger(level: LogLevel = 'warn', bindings: Record<string, unknown> = {}): Logger {
  const min = LEVELS[level];
  const write = (lvl: Exclude<LogLevel, 'silent'>) => (obj: object | string, msg?: string) => {
    if (LEVELS[lvl] < min) return;
    const fields = typeof obj === 'string' ? { msg: obj } : { ...obj, ...(msg === undefined ? {} : { msg }) };
    process.stderr.write(`${JSON.stringify({ level: LEVELS[lvl], time: Date.now(), name: 'offload', ...bindings, ...fields }, errorReplacer)}\n`);
  };
  return {
    debug: write('debug'),
    info: write('info'),
    warn: write('warn'),
    error: write('error'),
    child: (more) => consoleLogger(level, { ...bindings, ...more }),
  };
}

function errorReplacer(_key: string, value: unknown): unknown {
  if (value instanceof Error) return { type: value.name, message: value.message, stack: value.stack, code: (value as { code?: unknown }).code };
  return value;
}

/**
 * `logger.child(bindings)`, made on first use. A job's logger is made for every attempt but most
 * attempts never log; making children eagerly showed in a busy worker's profile. The methods are
 * bound (own arrow functions), so a handler may take them apart (`const { info } = ctx.log`) as it
 * could with the default logger's children.
 */
export class LazyChild implements Logger {
  readonly #parent: Logger;
  readonly #bindings: () => Record<string, unknown>;
  #made: Logger | null = null;

  constructor(parent: Logger, bindings: () => Record<string, unknown>) {
    this.#parent = parent;
    this.#bindings = bindings;
  }

  #get(): Logger {
    return (this.#made ??= this.#parent.child(this.#bindings()));
  }

  // Arguments passed through as given: pino formats an explicit `undefined` message differently
  // from a missing one.
  readonly debug = (...a: Parameters<Logger['debug']>): void => this.#get().debug(...a);
  readonly info = (...a: Parameters<Logger['info']>): void => this.#get().info(...a);
  readonly warn = (...a: Parameters<Logger['warn']>): void => this.#get().warn(...a);
  readonly error = (...a: Parameters<Logger['error']>): void => this.#get().error(...a);
  readonly child = (bindings: Record<string, unknown>): Logger => this.#get().child(bindings);
}
