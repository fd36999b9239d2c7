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
