/**
 * Task definitions: the code that runs, its schema and its policies, checked once when defined.
 */
import { checkKeys, intOption, NAME_PATTERN, oneOf, stringOption } from '../core/options.ts';
import { OffloadError } from '../errors.ts';
import type { BackoffKind, JobContext, RetryPolicy, StandardSchema, TaskDefinition } from '../types.ts';

export const DEFAULT_RETRY: RetryPolicy = { attempts: 5, backoff: 'exponential', baseMs: 1000, maxMs: 300_000 };

export interface TaskOptions<Input, Payload, Result> {
  /** Unique name, e.g. `images.resize`. Letters, digits and `._:-`. */
  name: string;
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
  const o = checkKeys(options, ['name', 'schema', 'retry', 'timeoutMs', 'queue', 'priority', 'handler'], 'defineTask()');
  const name = stringOption(o['name'], 'defineTask(): name', '', NAME_PATTERN);
  const where = `defineTask('${name}')`;
  if (typeof o['handler'] !== 'function') throw new OffloadError('OFFLOAD_INVALID_OPTIONS', `${where}: handler must be a function`);
  const schema = o['schema'];
  if (schema !== undefined && (typeof schema !== 'object' || schema === null || !('~standard' in schema))) {
    throw new OffloadError('OFFLOAD_INVALID_OPTIONS', `${where}: schema must implement Standard Schema (zod 3.24+, valibot 1, arktype 2 ...)`);
  }
  return Object.freeze({
    name,
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
