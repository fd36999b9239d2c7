/**
 * Leaf module: every error offload throws. Each carries a stable `code` and is recognised by it
 * (errors cross worker_threads as plain objects, so `instanceof` is not enough).
 */

export type ErrorCode =
  | 'OFFLOAD_INVALID_OPTIONS'
  | 'OFFLOAD_INVALID_PAYLOAD'
  | 'OFFLOAD_PAYLOAD_TOO_LARGE'
  | 'OFFLOAD_RESULT_TOO_LARGE'
  | 'OFFLOAD_UNKNOWN_TASK'
  | 'OFFLOAD_IDEMPOTENCY_CONFLICT'
  | 'OFFLOAD_JOB_NOT_FOUND'
  | 'OFFLOAD_INVALID_STATE'
  | 'OFFLOAD_LEASE_LOST'
  | 'OFFLOAD_LEASE_EXPIRED'
  | 'OFFLOAD_TIMEOUT'
  | 'OFFLOAD_CANCELLED'
  | 'OFFLOAD_SHUTDOWN'
  | 'OFFLOAD_STORE'
  | 'OFFLOAD_CLOSED'
  | 'OFFLOAD_UNSUPPORTED'
  | 'OFFLOAD_OVERLOADED'
  | 'OFFLOAD_THREAD_CRASHED'
  | 'OFFLOAD_THREAD_OUT_OF_MEMORY';

export interface SerializedError {
  name: string;
  code: string | undefined;
  message: string;
  stack: string | undefined;
  details: unknown;
}

/** Base class of every offload error. */
export class OffloadError extends Error {
  readonly code: ErrorCode;
  /** Machine-readable extras (field issues, the conflicting job id ...). */
  readonly details: unknown;

  constructor(code: ErrorCode, message: string, options: { cause?: unknown; details?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'OffloadError';
    this.code = code;
    this.details = options.details;
  }
}

/** One problem found by a task's schema. */
export interface PayloadIssue {
  path: string;
  message: string;
}

export class InvalidPayloadError extends OffloadError {
  readonly issues: PayloadIssue[];
  constructor(task: string, issues: PayloadIssue[]) {
    const list = issues.map((i) => `${i.path || '(root)'}: ${i.message}`).join('; ');
    super('OFFLOAD_INVALID_PAYLOAD', `invalid payload for task '${task}': ${list}`, { details: { task, issues } });
    this.name = 'InvalidPayloadError';
    this.issues = issues;
  }
}

export class IdempotencyConflictError extends OffloadError {
  readonly existingJobId: string;
  constructor(task: string, key: string, existingJobId: string) {
    super(
      'OFFLOAD_IDEMPOTENCY_CONFLICT',
      `idempotency key '${key}' of task '${task}' was already used with another payload (job ${existingJobId})`,
      { details: { task, key, existingJobId } },
    );
    this.name = 'IdempotencyConflictError';
    this.existingJobId = existingJobId;
  }
}

/** Converts anything thrown into a plain object that survives structured clone and JSON. */
export function serializeError(err: unknown): SerializedError {
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    return {
      name: err.name,
      code: typeof code === 'string' ? code : undefined,
      message: err.message,
      stack: err.stack,
      details: (err as { details?: unknown }).details,
    };
  }
  return { name: 'NonError', code: undefined, message: safeString(err), stack: undefined, details: undefined };
}

/** Rebuilds an error from `serializeError`'s output, as an OffloadError when it carries our code. */
export function deserializeError(s: SerializedError): Error {
  const err =
    s.code !== undefined && s.code.startsWith('OFFLOAD_')
      ? new OffloadError(s.code as ErrorCode, s.message, { details: s.details })
      : Object.assign(new Error(s.message), s.code === undefined ? {} : { code: s.code });
  err.name = s.name;
  if (s.stack !== undefined) err.stack = s.stack;
  return err;
}

function safeString(value: unknown): string {
  try {
    return typeof value === 'string' ? value : JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

/** True when `err` is an offload error with the given code, wherever it was created. */
export function isOffloadError(err: unknown, code?: ErrorCode): err is OffloadError {
  if (typeof err !== 'object' || err === null) return false;
  const c = (err as { code?: unknown }).code;
  return typeof c === 'string' && c.startsWith('OFFLOAD_') && (code === undefined || c === code);
}
