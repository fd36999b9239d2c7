/**
 * What the dashboard's server sends its page, as JSON. This file imports nothing, so the browser
 * code (ui/) can import its types without pulling in Node or the runtime; the server modules tie
 * each shape to the real one with `satisfies`, so a change on either side fails the type check.
 *
 * Dates are RFC 3339 strings and times are unix milliseconds (`t`, `atMs`), as on the wire.
 */

export type JobStateName = 'scheduled' | 'available' | 'running' | 'retryable' | 'completed' | 'cancelled' | 'discarded';

export const JOB_STATE_NAMES: readonly JobStateName[] = ['scheduled', 'available', 'running', 'retryable', 'completed', 'cancelled', 'discarded'];

/** Waiting states: what a claim takes jobs from. */
export const WAITING_STATE_NAMES: readonly JobStateName[] = ['scheduled', 'available', 'retryable'];

/** A job as GET /v1/jobs/:id returns it (src/http/job-view.ts). */
export interface JobJson {
  id: string;
  task: string;
  queue: string;
  state: JobStateName;
  priority: number;
  attempt: number;
  maxAttempts: number;
  timeoutMs: number | null;
  idempotencyKey: string | null;
  payload?: unknown;
  progress: unknown;
  result: unknown;
  errors: Array<{ attempt: number; at: string; name: string; message: string; code: string | null }>;
  cancelReason: string | null;
  cancelRequestedAt: string | null;
  workerId: string | null;
  runAt: string;
  createdAt: string;
  attemptedAt: string | null;
  finishedAt: string | null;
  expiresAt: string | null;
  waitMs: number | null;
  runMs: number | null;
}

/** A page of GET /v1/jobs. */
export interface JobPageJson {
  jobs: JobJson[];
  nextCursor: string | null;
}

/** A queue as GET /v1/queues returns it. */
export interface QueueJson {
  name: string;
  paused: boolean;
  counts: Record<JobStateName, number>;
  waiting: number;
  drainPerSec: number;
  estimatedWaitMs: number | null;
  maxBacklog: number | null;
}

export interface LoopJson {
  delayP50Ms: number;
  delayP99Ms: number;
  delayMaxMs: number;
  utilization: number;
  overloaded: boolean;
}

/** This process's workers, as `offload.stats().workers` reports them. */
export interface WorkersJson {
  id: string;
  concurrency: number;
  running: number;
  claiming: boolean;
  pausedBy: 'loop' | null;
}

/** A worker process of the registry, as GET /v1/workers answers it (src/http/routes/workers.ts). */
export interface RegistryWorkerJson {
  id: string;
  host: string;
  pid: number;
  version: string;
  queues: string[];
  concurrency: number;
  running: number;
  threads: ThreadsJson | null;
  loop: { delayP99Ms: number; utilization: number; overloaded: boolean } | null;
  startedAt: string;
  heartbeatAt: string;
  heartbeatAgeMs: number;
  heartbeatMs: number;
  stale: boolean;
}

export interface ThreadsJson {
  size: number;
  threads: number;
  busy: number;
  queued: number;
  retired: number;
}

export interface Percentiles {
  p50: number;
  p95: number;
  p99: number;
}

/**
 * One second of the stats stream. Throughput and latency come from the events of this process's
 * workers (other processes' jobs are not seen); depth comes from the store, so it covers every
 * process, and is null for a second in which it was not read.
 */
export interface StatsSample {
  /** End of the second, unix ms. */
  t: number;
  /** Jobs this process's workers completed, failed (an attempt threw), and enqueues admission control refused. */
  completed: number;
  failed: number;
  rejected: number;
  /** Jobs by state over every queue, or null when the store was not read for this second. */
  depth: Record<JobStateName, number> | null;
  /** From due (runAt) to the start of the attempt, of attempts started in this second; null when none started. */
  waitMs: Percentiles | null;
  /** Duration of the attempts that completed in this second; null when none completed. */
  runMs: Percentiles | null;
  loop: { p50: number; p99: number; max: number; utilization: number };
  /** Busy threads and pool size; null without a thread pool. */
  threads: { busy: number; size: number } | null;
  /** Running jobs and concurrency of this process's workers; null when not started. */
  workers: { running: number; concurrency: number } | null;
}

/** The latest full picture, sent with every sample: what the Queues and Workers pages show live. */
export interface StatsCurrent {
  queues: QueueJson[];
  loop: LoopJson;
  workers: WorkersJson | null;
  threads: ThreadsJson | null;
  /** When `queues` was read, unix ms; null before the first successful read. */
  readAt: number | null;
  /** Set while the store does not answer: the message to show. */
  storeError: string | null;
}

/** The first event of the stream: the server's ring of samples (oldest first). */
export interface StatsHistoryEvent {
  intervalMs: number;
  samples: StatsSample[];
  current: StatsCurrent;
}

export interface StatsSampleEvent {
  sample: StatsSample;
  current: StatsCurrent;
}

/** One reason a job is still waiting, most decisive first. */
export interface WaitReason {
  code: 'scheduled' | 'retry-backoff' | 'queue-paused' | 'no-worker' | 'backlog' | 'loop-overloaded' | 'due' | 'deadline';
  /** One line, e.g. "Scheduled for later". */
  title: string;
  /** The figures behind it, in a sentence. */
  detail: string;
  /** When this reason stops holding, unix ms, when known. */
  untilMs: number | null;
}

export interface TimelineEntry {
  atMs: number;
  kind: 'enqueued' | 'due' | 'attempt-started' | 'attempt-failed' | 'cancel-requested' | 'finished' | 'deadline' | 'lease';
  /** One line for the page. */
  label: string;
  /** False for something planned (a due time or deadline still ahead). */
  past: boolean;
}

/** GET /dashboard/jobs/:id: the job and what the dashboard derives from it. */
export interface JobInsight {
  job: JobJson;
  /** Stack of each failed attempt, by attempt number (the public API leaves stacks out). */
  stacks: Array<{ attempt: number; stack: string | null }>;
  leaseExpiresAt: string | null;
  queue: QueueJson | null;
  /** Empty unless the job waits. */
  wait: WaitReason[];
  timeline: TimelineEntry[];
  /** The server's clock when this was computed, unix ms (for "in 5 s" without trusting the browser's clock). */
  nowMs: number;
}

/** A worker process as far as this server can see it. */
export interface WorkerSeen {
  id: string;
  host: string;
  pid: number | null;
  /** This server's own process. */
  self: boolean;
  /** Running jobs claimed by it, among those read. */
  runningJobs: number;
  /** A few of them, newest first. */
  jobIds: string[];
}

/** GET /dashboard/workers. */
export interface WorkersView {
  /** This process's workers with loop and thread figures; null when it runs none. */
  self: (WorkersJson & { host: string; pid: number; loop: LoopJson; threads: ThreadsJson | null }) | null;
  /** Every worker id found on running jobs, this process's included. */
  seen: WorkerSeen[];
  /** Running jobs read to find them, and whether there were more than that. */
  runningScanned: number;
  truncated: boolean;
}

/** GET /dashboard/session. */
export interface SessionInfo {
  /** False when the server runs without API tokens (loopback only): nobody logs in. */
  authRequired: boolean;
  /** The API token's name, or null without tokens. */
  user: string | null;
  scopes: Array<'read' | 'submit' | 'admin'>;
  /** Send as `x-csrf-token` on every state-changing request. */
  csrfToken: string;
  expiresAt: string;
}
