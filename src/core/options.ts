/**
 * Option checking shared by every constructor: options are validated once, where they enter,
 * and unknown keys are refused with a suggestion (a typo must not silently fall back to a default).
 */
import { OffloadError } from '../errors.ts';
import { textProblem } from './storable-text.ts';

function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cur = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = cur;
    }
  }
  return row[b.length]!;
}

/** Throws OFFLOAD_INVALID_OPTIONS for a non-object or an unknown key, suggesting the closest known one. */
export function checkKeys(value: unknown, allowed: readonly string[], where: string): Record<string, unknown> {
  if (value === undefined) return {};
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new OffloadError('OFFLOAD_INVALID_OPTIONS', `${where}: expected an object of options, got ${describe(value)}`);
  }
  for (const key of Object.keys(value)) {
    if (allowed.includes(key)) continue;
    let best: string | undefined;
    let bestD = Infinity;
    for (const k of allowed) {
      const d = distance(key.toLowerCase(), k.toLowerCase());
      if (d < bestD) [best, bestD] = [k, d];
    }
    const hint = best !== undefined && bestD <= Math.max(2, Math.floor(key.length / 3)) ? ` (did you mean '${best}'?)` : '';
    throw new OffloadError('OFFLOAD_INVALID_OPTIONS', `${where}: unknown option '${key}'${hint}; known: ${allowed.join(', ')}`);
  }
  return value as Record<string, unknown>;
}

export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'number' && Number.isNaN(value)) return 'NaN';
  if (typeof value === 'object') return 'an object';
  if (typeof value === 'function') return 'a function';
  if (typeof value === 'string') return `string ${JSON.stringify(value)}`;
  // Not JSON.stringify for the rest: it throws on a bigint (turning a refused option into a bare
  // TypeError), prints Infinity as null, and returns undefined for undefined and symbols.
  if (typeof value === 'number' || typeof value === 'bigint' || typeof value === 'boolean' || typeof value === 'symbol') {
    return `${typeof value} ${String(value)}`;
  }
  return 'undefined';
}

/** An integer within [min, max], or the fallback when undefined. */
export function intOption(value: unknown, where: string, min: number, max: number, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new OffloadError('OFFLOAD_INVALID_OPTIONS', `${where}: expected an integer in [${min}, ${max}], got ${describe(value)}`);
  }
  return value;
}

export function stringOption(value: unknown, where: string, fallback: string, pattern?: RegExp): string {
  if (value === undefined) return fallback;
  if (typeof value !== 'string' || value.length === 0 || value.length > 200 || (pattern !== undefined && !pattern.test(value))) {
    throw new OffloadError(
      'OFFLOAD_INVALID_OPTIONS',
      `${where}: expected a non-empty string of at most 200 characters${pattern ? ` matching ${pattern}` : ''}, got ${describe(value)}`,
    );
  }
  // A name or filter with text no store keeps would fail in the store (PostgreSQL), as a store error.
  const problem = textProblem(value);
  if (problem !== null) throw new OffloadError('OFFLOAD_INVALID_OPTIONS', `${where}: holds ${problem}`);
  return value;
}

/**
 * An idempotency key: 1 to 512 characters of text every store keeps as it is (no NUL, no unpaired
 * surrogate: PostgreSQL refuses the one and turns the other into U+FFFD, after which a new job's
 * key would match another's).
 */
export function idempotencyKeyOption(value: unknown, where: string): string | null {
  if (value === undefined) return null;
  if (typeof value !== 'string' || value.length === 0 || value.length > 512) {
    throw new OffloadError('OFFLOAD_INVALID_OPTIONS', `${where}: idempotencyKey must be a string of 1 to 512 characters, got ${describe(value)}`);
  }
  const problem = textProblem(value);
  if (problem !== null) throw new OffloadError('OFFLOAD_INVALID_OPTIONS', `${where}: idempotencyKey holds ${problem}, which PostgreSQL cannot store as it is`);
  return value;
}

export function oneOf<T extends string>(value: unknown, where: string, allowed: readonly T[], fallback: T): T {
  if (value === undefined) return fallback;
  if (typeof value !== 'string' || !allowed.includes(value as T)) {
    throw new OffloadError('OFFLOAD_INVALID_OPTIONS', `${where}: expected one of ${allowed.join(', ')}, got ${describe(value)}`);
  }
  return value as T;
}

/** Names of tasks and queues: printable, no spaces, so they read well in logs, URLs and metrics. */
export const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:-]*$/;
