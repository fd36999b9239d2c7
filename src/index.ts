/**
 * `offload`: the public API. Nothing else decides what is public.
 *
 * Stores live in their own entry points so that an app pulls in only the database library it uses:
 * `offload/sqlite` and `offload/postgres`.
 */
export { createOffload, Offload } from './runtime/client.ts';
export type { OffloadOptions, OffloadStats, StartOptions, StopOptions } from './runtime/client.ts';
export { JobsApi } from './runtime/jobs-api.ts';
export type { WaitOptions } from './runtime/jobs-api.ts';
export type { BulkAction, BulkOptions, BulkProgress, BulkResult, JobBulkFilter } from './runtime/jobs-bulk.ts';
export { QueuesApi } from './runtime/queues-api.ts';
export { WorkersApi, STALE_AFTER_BEATS } from './runtime/workers-api.ts';
export type { WorkerInfo } from './runtime/workers-api.ts';
export type { OverloadDetails } from './runtime/admission.ts';
export { defineTask, DEFAULT_RETRY } from './runtime/task.ts';
export type { TaskOptions } from './runtime/task.ts';
export { snooze, cancel } from './core/outcome.ts';
export { backoffCapMs } from './core/backoff.ts';
export { transitionTable } from './core/state-machine.ts';
export { OffloadError, InvalidPayloadError, IdempotencyConflictError, isOffloadError } from './errors.ts';
export type { ErrorCode, PayloadIssue } from './errors.ts';
export type { OffloadEvents, OffloadEventName } from './observability/events.ts';
export { consoleLogger } from './observability/logger.ts';
export type { Instrumentation, TraceIds, TracingOptions } from './observability/tracing.ts';
export { pinoLogger } from './observability/logger-pino.ts';
export type { PinoLoggerOptions } from './observability/logger-pino.ts';
export { jobBindings, jobLogView, REDACTED, redactPayloadPaths } from './observability/log-bindings.ts';
export type { JobLogBindings, PayloadRedaction } from './observability/log-bindings.ts';
export { createMetrics } from './observability/metrics.ts';
export type { Metrics, MetricsOptions, MetricsSource, MetricsStats } from './observability/metrics.ts';
export type { Retention } from './runtime/maintenance/pruner.ts';
export type {
  AttemptError,
  BackoffKind,
  EnqueueOptions,
  EnqueueResult,
  Job,
  JobContext,
  JobListFilter,
  JobPage,
  JobState,
  Logger,
  LoopStats,
  QueueStats,
  RetryPolicy,
  StandardSchema,
  TaskDefinition,
  TaskKind,
} from './types.ts';
export type { ThreadPoolStats } from './runtime/threads/pool.ts';
