/**
 * The example tasks `offload dev` runs when no `--tasks` module is given: one of each kind of
 * work, so the API, the dashboard and the metrics have something real to show.
 *
 *   examples.hash-password  CPU work (scrypt) on a worker thread: the event loop stays free
 *   examples.wait           I/O-like waiting with progress, honouring cancel and shutdown
 *   examples.flaky          fails its first `failures` attempts, then succeeds: retries and backoff
 *
 * This module is also what the thread pool imports to run `examples.hash-password`, so it must
 * keep exporting its tasks and have no side effects.
 */
import { randomBytes, scryptSync } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { defineTask, type StandardSchema } from '../../index.ts';

type Field = { kind: 'string'; minLength: number } | { kind: 'int'; min: number; max: number };

/** A small Standard Schema for flat objects (the package does not depend on a schema library). */
function objectSchema<T>(fields: Record<string, Field>): StandardSchema<T> {
  return {
    '~standard': {
      version: 1,
      vendor: 'offload-examples',
      validate(value: unknown) {
        if (typeof value !== 'object' || value === null || Array.isArray(value)) return { issues: [{ message: 'expected an object' }] };
        const issues: Array<{ message: string; path: string[] }> = [];
        for (const [key, f] of Object.entries(fields)) {
          const v = (value as Record<string, unknown>)[key];
          if (f.kind === 'string' && (typeof v !== 'string' || v.length < f.minLength)) issues.push({ message: `expected a string of at least ${f.minLength} characters`, path: [key] });
          if (f.kind === 'int' && (typeof v !== 'number' || !Number.isInteger(v) || v < f.min || v > f.max)) issues.push({ message: `expected an integer from ${f.min} to ${f.max}`, path: [key] });
        }
        return issues.length > 0 ? { issues } : { value: value as T };
      },
    },
  };
}

export const hashPassword = defineTask({
  name: 'examples.hash-password',
  kind: 'thread',
  module: import.meta.url,
  schema: objectSchema<{ password: string }>({ password: { kind: 'string', minLength: 8 } }),
  timeoutMs: 30_000,
  handler({ password }, ctx) {
    const salt = randomBytes(16);
    // N = 2^15: about 50-100 ms of CPU, which would hold the event loop if it ran there.
    const key = scryptSync(password, salt, 32, { N: 2 ** 15, r: 8, p: 1, maxmem: 64 * 2 ** 20 });
    ctx.log.info('password hashed');
    return { hash: `scrypt$${salt.toString('base64')}$${key.toString('base64')}` };
  },
});

export const wait = defineTask({
  name: 'examples.wait',
  schema: objectSchema<{ ms: number }>({ ms: { kind: 'int', min: 0, max: 600_000 } }),
  async handler({ ms }, ctx) {
    const started = Date.now();
    for (let left = ms; left > 0; left -= 100) {
      await sleep(Math.min(100, left), undefined, { signal: ctx.signal });
      await ctx.progress({ waitedMs: Date.now() - started, of: ms });
    }
    return { waitedMs: Date.now() - started };
  },
});

export const flaky = defineTask({
  name: 'examples.flaky',
  schema: objectSchema<{ failures: number }>({ failures: { kind: 'int', min: 0, max: 5 } }),
  retry: { attempts: 6, backoff: 'exponential', baseMs: 500, maxMs: 4000 },
  handler({ failures }, ctx) {
    if (ctx.attempt <= failures) throw new Error(`attempt ${ctx.attempt} fails on purpose (${failures} planned failures)`);
    return { succeededOnAttempt: ctx.attempt };
  },
});
