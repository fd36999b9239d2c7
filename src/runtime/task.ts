/**
 * Task definitions: the code that runs, its schema and its policies, checked once when defined.
 */
import { checkKeys, intOption, NAME_PATTERN, oneOf, stringOption } from '../core/options.ts';
import { OffloadError } from '../errors.ts';
import { isAbsolute } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { BackoffKind, JobContext, RetryPolicy, StandardSchema, TaskDefinition, TaskKind } from '../types.ts';

export const DEFAULT_RETRY: RetryPolicy = { attempts: 5, backoff: 'exponential', baseMs: 1000, maxMs: 300_000 };

export interface TaskOptions<Input, Payload, Result> {
  /** Unique name, e.g. `images.resize`. Letters, digits and `._:-`. */
  name: string;
  /**
   * `thread`: the handler runs on a worker thread of the pool, so CPU work (hashing, image or
   * JSON crunching) never holds the event loop. It needs `module`. Default `main`: the handler
   * runs on the event loop, which suits I/O (HTTP calls, queries).
   */
  kind?: TaskKind;
  /**
   * For `kind: 'thread'`: the module that exports this task, almost always `import.meta.url` of
   * the file calling defineTask. The thread imports it and finds the task among its exports by
   * name, so the task must be exported. TypeScript source works in development (with tsx).
   */
  module?: string | URL;
  /** Any Standard Schema (zod, valibot, arktype ...). Payloads are validated at enqueue. */
  schema?: StandardSchema<Input, Payload>;
  /** Default: 5 attempts, exponential backoff with full jitter from 1 s up to 5 min. */
  retry?: Partial<RetryPolicy>;
  /** Per attempt; the handler's signal is aborted and the attempt fails when it runs out. */
  timeoutMs?: number;
  /** Default queue of this task's jobs. Default `default`. */
  queue?: string;
  /** Default priority of this task's jobs (lower runs first). Default 0. */
  priority?: number;
  handler: (payload: Payload, ctx: JobContext) => Promise<Result> | Result;
}

/**
 * Defines a task.
 * @example
 * const resize = defineTask({
 *   name: 'images.resize',
 *   schema: z.object({ url: z.string().url(), width: z.number().int() }),
 *   retry: { attempts: 5, backoff: 'exponential', baseMs: 1000, maxMs: 300_000 },
 *   timeoutMs: 30_000,
 *   async handler({ url, width }, ctx) { await ctx.progress(50); return { url, width } },
 * })
 */
export function defineTask<Input = unknown, Payload = Input, Result = unknown>(
  options: TaskOptions<Input, Payload, Result>,
): TaskDefinition<Input, Payload, Result> {
  const o = checkKeys(options, ['name', 'kind', 'module', 'schema', 'retry', 'timeoutMs', 'queue', 'priority', 'handler'], 'defineTask()');
  const name = stringOption(o['name'], 'defineTask(): name', '', NAME_PATTERN);
  const where = `defineTask('${name}')`;
  if (typeof o['handler'] !== 'function') throw new OffloadError('OFFLOAD_INVALID_OPTIONS', `${where}: handler must be a function`);
  const schema = o['schema'];
  if (schema !== undefined && (typeof schema !== 'object' || schema === null || !('~standard' in schema))) {
    throw new OffloadError('OFFLOAD_INVALID_OPTIONS', `${where}: schema must implement Standard Schema (zod 3.24+, valibot 1, arktype 2 ...)`);
  }
  const kind = oneOf<TaskKind>(o['kind'], `${where}: kind`, ['main', 'thread'], 'main');
  return Object.freeze({
    name,
    kind,
    module: moduleOf(o['module'], kind, where),
    schema: schema as StandardSchema<Input, Payload> | undefined,
    retry: retryPolicy(o['retry'], `${where}: retry`),
    timeoutMs: o['timeoutMs'] === undefined ? null : intOption(o['timeoutMs'], `${where}: timeoutMs`, 1, 2_147_483_647, 0),
    queue: stringOption(o['queue'], `${where}: queue`, 'default', NAME_PATTERN),
    priority: intOption(o['priority'], `${where}: priority`, -32768, 32767, 0),
    handler: o['handler'] as TaskDefinition<Input, Payload, Result>['handler'],
  });
}

function retryPolicy(value: unknown, where: string): RetryPolicy {
  const r = checkKeys(value, ['attempts', 'backoff', 'baseMs', 'maxMs'], where);
  const policy: RetryPolicy = {
    attempts: intOption(r['attempts'], `${where}.attempts`, 1, 10_000, DEFAULT_RETRY.attempts),
    backoff: oneOf<BackoffKind>(r['backoff'], `${where}.backoff`, ['exponential', 'linear', 'fixed'], DEFAULT_RETRY.backoff),
    baseMs: intOption(r['baseMs'], `${where}.baseMs`, 0, 2_147_483_647, DEFAULT_RETRY.baseMs),
    maxMs: intOption(r['maxMs'], `${where}.maxMs`, 0, 2_147_483_647, DEFAULT_RETRY.maxMs),
  };
  if (policy.maxMs < policy.baseMs) throw new OffloadError('OFFLOAD_INVALID_OPTIONS', `${where}: maxMs (${policy.maxMs}) is below baseMs (${policy.baseMs})`);
  return policy;
}

/** A thread task's module as a file: URL href; refused for a main-thread task (it would be ignored). */
function moduleOf(value: unknown, kind: TaskKind, where: string): string | null {
  if (kind === 'main') {
    if (value !== undefined) throw new OffloadError('OFFLOAD_INVALID_OPTIONS', `${where}: module is for kind 'thread' tasks; this task runs on the main thread`);
    return null;
  }
  if (value === undefined) {
    throw new OffloadError('OFFLOAD_INVALID_OPTIONS', `${where}: a kind 'thread' task needs module: import.meta.url (the module that exports this task)`);
  }
  const text = value instanceof URL ? value.href : value;
  if (typeof text === 'string' && text.startsWith('file:')) return new URL(text).href;
  if (typeof text === 'string' && isAbsolute(text)) return pathToFileURL(text).href;
  throw new OffloadError('OFFLOAD_INVALID_OPTIONS', `${where}: module must be a file: URL (import.meta.url) or an absolute path, got ${typeof text === 'string' ? JSON.stringify(text) : typeof text}`);
}
