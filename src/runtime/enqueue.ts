/**
 * Turns a user's enqueue call into a row to insert: task resolution, option checks, schema
 * validation, JSON encoding with its size limit and the idempotency fingerprint.
 */
import { createHash } from 'node:crypto';
import { canonicalJson, encodeJson } from '../core/json-value.ts';
import { checkKeys, describe, idempotencyKeyOption, intOption, NAME_PATTERN, stringOption } from '../core/options.ts';
import { InvalidPayloadError, OffloadError, type PayloadIssue } from '../errors.ts';
import type { JobInsert } from '../storage/driver.ts';
import type { EnqueueOptions, TaskDefinition } from '../types.ts';

export const ENQUEUE_KEYS = ['idempotencyKey', 'runAt', 'delayMs', 'priority', 'queue', 'ttlMs', 'expiresAt', 'tx'] as const;

export interface CheckedEnqueueOptions {
  idempotencyKey: string | null;
  runAt: Date | null;
  delayMs: number;
  priority: number | null;
  queue: string | null;
  expiresAt: Date | null;
  ttlMs: number | null;
  tx: unknown;
}

const validDate = (v: unknown): v is Date => v instanceof Date && Number.isFinite(v.getTime());

export function checkEnqueueOptions(options: EnqueueOptions | undefined, where: string): CheckedEnqueueOptions {
  const o = checkKeys(options, ENQUEUE_KEYS, where);
  const runAt = o['runAt'];
  if (runAt !== undefined && !validDate(runAt)) {
    throw new OffloadError('OFFLOAD_INVALID_OPTIONS', `${where}: runAt must be a valid Date, got ${describe(runAt)}`);
  }
  if (runAt !== undefined && o['delayMs'] !== undefined) {
    throw new OffloadError('OFFLOAD_INVALID_OPTIONS', `${where}: give runAt or delayMs, not both`);
  }
  const key = idempotencyKeyOption(o['idempotencyKey'], where);
  const delayMs = intOption(o['delayMs'], `${where}: delayMs`, 0, 10 * 365 * 86_400_000, 0);
  const expiresAt = o['expiresAt'];
  if (expiresAt !== undefined && !validDate(expiresAt)) {
    throw new OffloadError('OFFLOAD_INVALID_OPTIONS', `${where}: expiresAt must be a valid Date, got ${describe(expiresAt)}`);
  }
  if (expiresAt !== undefined && o['ttlMs'] !== undefined) throw new OffloadError('OFFLOAD_INVALID_OPTIONS', `${where}: give ttlMs or expiresAt, not both`);
  const ttlMs = o['ttlMs'] === undefined ? null : intOption(o['ttlMs'], `${where}: ttlMs`, 1, 10 * 365 * 86_400_000, 0);
  // A deadline the job cannot meet is a mistake to report now, not a job to store and expire.
  const now = Date.now();
  const startsAt = runAt !== undefined ? runAt.getTime() : now + delayMs;
  const deadline = expiresAt !== undefined ? expiresAt.getTime() : ttlMs !== null ? now + ttlMs : null;
  if (deadline !== null && deadline <= startsAt) {
    throw new OffloadError(
      'OFFLOAD_INVALID_OPTIONS',
      `${where}: the deadline to start (${expiresAt !== undefined ? 'expiresAt' : 'ttlMs'}) is not after the time the job may first run${runAt !== undefined || delayMs > 0 ? ' (runAt/delayMs)' : ' (now)'}`,
    );
  }
  return {
    idempotencyKey: key,
    runAt: runAt ?? null,
    delayMs,
    expiresAt: expiresAt ?? null,
    ttlMs,
    priority: o['priority'] === undefined ? null : intOption(o['priority'], `${where}: priority`, -32768, 32767, 0),
    queue: o['queue'] === undefined ? null : stringOption(o['queue'], `${where}: queue`, 'default', NAME_PATTERN),
    tx: o['tx'],
  };
}

/** Validates a payload against the task's schema; returns the schema's output (it may transform). */
export async function validatePayload(task: TaskDefinition<any, any, any>, payload: unknown): Promise<unknown> {
  if (task.schema === undefined) return payload;
  const result = await task.schema['~standard'].validate(payload);
  if (result.issues === undefined) return result.value;
  const issues: PayloadIssue[] = result.issues.map((i) => ({
    path: (i.path ?? []).map((seg) => String(typeof seg === 'object' && seg !== null ? seg.key : seg)).join('.'),
    message: i.message,
  }));
  throw new InvalidPayloadError(task.name, issues);
}

export function buildInsert(
  task: TaskDefinition<any, any, any>,
  value: unknown,
  o: CheckedEnqueueOptions,
  maxPayloadBytes: number,
  traceContext: Record<string, string> | null = null,
): JobInsert {
  const payload = encodeJson(value, `payload of task '${task.name}'`, maxPayloadBytes, 'OFFLOAD_PAYLOAD_TOO_LARGE');
  return {
    task: task.name,
    queue: o.queue ?? task.queue,
    payload,
    priority: o.priority ?? task.priority,
    maxAttempts: task.retry.attempts,
    timeoutMs: task.timeoutMs,
    runAt: o.runAt,
    delayMs: o.delayMs,
    idempotencyKey: o.idempotencyKey,
    // Key order must not make two equal payloads "different": hash the canonical form.
    fingerprint: o.idempotencyKey === null ? null : fingerprintOf(JSON.parse(payload)),
    expiresAt: o.expiresAt,
    ttlMs: o.ttlMs,
    traceContext: traceContext === null ? null : JSON.stringify(traceContext),
  };
}

/** What tells two payloads of one idempotency key apart: a hash of their canonical JSON (key order does not count). */
export function fingerprintOf(payload: unknown): string {
  return createHash('sha256').update(canonicalJson(payload)).digest('base64url');
}
