/**
 * Argument parsers shared by the commands: a bad value is commander's InvalidArgumentError, which
 * the program turns into a message and exit code 2.
 */
import { InvalidArgumentError } from 'commander';

/** A parser of integers within [min, max]. */
export function intArg(min: number, max: number): (value: string) => number {
  return (value) => {
    if (!/^-?\d+$/.test(value)) throw new InvalidArgumentError(`expected an integer, got '${value}'`);
    const n = Number(value);
    if (n < min || n > max) throw new InvalidArgumentError(`expected an integer from ${min} to ${max}, got ${n}`);
    return n;
  };
}

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevelName = (typeof LOG_LEVELS)[number];

export function logLevelArg(value: string): LogLevelName {
  if (!(LOG_LEVELS as readonly string[]).includes(value)) throw new InvalidArgumentError(`expected one of ${LOG_LEVELS.join(', ')}`);
  return value as LogLevelName;
}
