/**
 * The internal seam between the runtime and a database. @internal: free to reshape; the shared
 * suite in ./drivertest is its contract, and every driver must pass all of it.
 *
 * Rules every driver follows:
 * - Methods are entity-first and take one params object.
 * - Every write out of `running` is fenced by the lease token: `WHERE lease_token = $token AND
 *   state = 'running'`. A refused write is reported, never thrown.
 * - The database clock decides what is due and when leases expire (`now()` on PostgreSQL; on
 *   SQLite the host clock, which is the database's own).
 * - Transient errors (busy, serialization, connection reset) are retried inside the driver; what
 *   escapes is an OffloadError with code OFFLOAD_STORE and the driver error as `cause`.
 */
import type { SerializedError } from '../errors.ts';
import type { Job, JobState } from '../types.ts';

export interface JobInsert {
  task: string;
  queue: string;
  /** JSON text, already validated and size-checked. */
  payload: string;
  priority: number;
  maxAttempts: number;
  timeoutMs: number | null;
  /** Absolute time, or null for "now" by the database clock. */
  runAt: Date | null;
  delayMs: number;
  idempotencyKey: string | null;
  /** Hash of the canonical payload, set together with idempotencyKey. */
  fingerprint: string | null;
  /** Deadline to start, absolute; exclusive with ttlMs. */
  expiresAt: Date | null;
  /** Deadline to start, relative to the database's now. */
  ttlMs: number | null;
  /** JSON text of the W3C trace context carrier, or null. */
  traceContext: string | null;
  /**
   * Insert the job already claimed by this lease (a worker of this process has a free slot for
   * it; see Producer.offer): `running`, attempt 1, leased until the database's now + leaseMs.
   * Only when the job is due at insert, not past its start deadline, and its queue is not paused;
   * otherwise it is inserted as without a claim, and the returned job's state says which happened.
   */
  claim?: InsertClaim;
}

export interface InsertClaim {
  token: string;
  leaseMs: number;
  workerId: string;
}

export interface QueueInfo {
  name: string;
  pausedAt: Date | null;
}

export type InsertOutcome =
  | { kind: 'created'; job: Job }
  | { kind: 'existing'; job: Job }
  | { kind: 'conflict'; job: Job };

export interface JobCompletion {
  id: string;
  token: string;
  state: JobState;
  /** For waiting states: run again after this many ms (database clock). */
  delayMs: number | null;
  refund: 0 | 1;
  /** JSON text, for completed. */
  result: string | null;
  /** The attempt's error, for states that record one. */
  error: (SerializedError & { attempt: number }) | null;
  cancelReason: string | null;
}

export interface ClaimParams {
  queues: readonly string[];
  tasks: readonly string[];
  limit: number;
  workerId: string;
  leaseMs: number;
}

export interface ClaimedJob {
  job: Job;
  /** The fencing token of this lease; every later write about this attempt must carry it. */
  token: string;
}

/** A running job's cancel request, as the lease keeper learns of it. */
export interface CancelRequest {
  id: string;
  reason: string | null;
}

export interface HeldLease {
  id: string;
  token: string;
  cancelRequested: boolean;
  /** The cancel request's reason, when one was requested. */
  cancelReason: string | null;
}

/** What a worker process reports of itself on each registry heartbeat (see workerHeartbeat). */
export interface WorkerBeat {
  /** The Workers id, `hostname:pid:random`. */
  id: string;
  host: string;
  pid: number;
  /** The offload version the process runs. */
  version: string;
  queues: readonly string[];
  concurrency: number;
  running: number;
  /** Its registry heartbeat period: readers call a row stale after a few periods of silence. */
  heartbeatMs: number;
  /** Thread pool occupancy, or null without thread tasks. */
  threads: { size: number; threads: number; busy: number; queued: number; retired: number } | null;
  /** Event-loop health; null when the loop monitor is off. */
  loop: { delayP99Ms: number; utilization: number; overloaded: boolean } | null;
}

/** A registry row as read back: the beat plus the times the database recorded. */
export interface WorkerRow extends WorkerBeat {
  /** Database clock at the first heartbeat of this id. */
  startedAt: Date;
  /** Database clock at the last heartbeat. */
  heartbeatAt: Date;
  /** Database now minus heartbeatAt, computed by the database (never negative). */
  heartbeatAgeMs: number;
}

/** Which jobs a bulk action or a count covers. A null field does not filter. */
export interface JobFilter {
  states: readonly JobState[] | null;
  task: string | null;
  queue: string | null;
  idempotencyKey: string | null;
}

/** One batch of a bulk action: the ids it changed, highest first. */
export interface JobBatch {
  ids: string[];
  /** The queues of the changed jobs (a retry wakes their workers). */
  queues: string[];
}

export interface DriverCapabilities {
  /** Enqueue inside a caller's transaction (`tx` option). */
  callerTransactions: boolean;
  /** The driver can push wake-ups across processes (LISTEN/NOTIFY). */
  crossProcessNotify: boolean;
  /**
   * Requests of this process run in the order they are made, each after the one before has
   * committed (SQLite: one store thread): a claim made after an insert's call sees the insert.
   */
  ordered: boolean;
}

export interface Driver {
  readonly name: string;
  readonly capabilities: DriverCapabilities;

  /** Applies numbered migrations under a lock; safe to call from many processes at once. */
  migrate(): Promise<void>;
  close(): Promise<void>;

  /**
   * Inserts jobs. `atomic`: all of them or none (any conflict rolls the whole call back, and the
   * outcomes report the conflicts). Not atomic: each job stands alone (group commit of many
   * independent enqueues). A key already used with the same fingerprint is `existing`. A job
   * with a `claim` is inserted `running` under that lease when it is due, not past its start
   * deadline and its queue is not paused (an `existing` or `conflict` job is never claimed this way).
   */
  jobInsertMany(params: { jobs: JobInsert[]; atomic: boolean; tx?: unknown }): Promise<InsertOutcome[]>;
  /**
   * Gives back the lease `token` of a job still `running` under it, without an attempt: back to
   * `available`, as a release. For an insert with a claim that reported an error, which may have
   * come after its commit (the job would otherwise wait for the rescuer, charged an attempt it
   * never ran). Returns whether a job held that lease; a second call finds none.
   */
  jobUnclaim(params: { token: string }): Promise<boolean>;
  /**
   * Leases up to `limit` due jobs of `queues` whose task is among `tasks` (a worker never takes a
   * job it has no code for), best priority first, each with a fresh lease token. Never a job of a
   * paused queue, nor one whose start deadline (`expires_at`) has passed.
   */
  jobClaim(params: ClaimParams): Promise<ClaimedJob[]>;
  /** Extends the leases still held; returns exactly those (a missing one was lost). */
  jobHeartbeatMany(params: { leases: ReadonlyArray<{ id: string; token: string }>; leaseMs: number }): Promise<HeldLease[]>;
  /** The running jobs among `ids` whose cancellation was requested, with the request's reason. A read: no write lock. */
  jobCancelRequested(params: { ids: readonly string[] }): Promise<CancelRequest[]>;
  /** Ends attempts. Returns, per input in order, whether the fenced write applied. */
  jobCompleteMany(params: { completions: readonly JobCompletion[] }): Promise<boolean[]>;
  /** Stores progress, fenced by the lease. */
  jobProgress(params: { id: string; token: string; progress: string }): Promise<boolean>;

  jobGet(params: { id: string }): Promise<Job | null>;
  jobList(params: {
    states: readonly JobState[] | null;
    task: string | null;
    queue: string | null;
    /** Jobs with this idempotency key, of any task (index: idempotency_key, id). */
    idempotencyKey?: string | null;
    /** Jobs with id below this one (newest first). */
    beforeId: string | null;
    limit: number;
  }): Promise<Job[]>;
  /**
   * Waiting job (state in `waitingFrom`): set `cancelled`. Running job: record the request so
   * its worker aborts it. Returns the job after the change, or null when it does not exist.
   */
  jobCancel(params: { id: string; waitingFrom: readonly JobState[]; reason: string }): Promise<Job | null>;
  /** Moves a job in one of `from` to `available` now with a fresh attempt budget. */
  jobRetry(params: { id: string; from: readonly JobState[] }): Promise<Job | null>;
  /** Deletes a job in one of `from`. Returns false when it was not in such a state (or absent). */
  jobDelete(params: { id: string; from: readonly JobState[] }): Promise<boolean>;

  /*
   * Bulk actions, one batch per call: up to `limit` jobs matching `filter` whose id is below
   * `beforeId`, highest id first, each fenced by state as its single-job method is (a job in no
   * allowed state is left alone and not returned). One call is one transaction. A job another
   * transaction holds at that moment (a claim, a completion) may be passed over. The caller walks
   * the ids downwards with `beforeId` = the lowest id of the previous batch until a batch is empty.
   */
  /** As jobRetry, for every matching job in one of `from`. */
  jobRetryMany(params: { filter: JobFilter; from: readonly JobState[]; beforeId: string | null; limit: number }): Promise<JobBatch>;
  /** As jobCancel: matching jobs in `waitingFrom` are cancelled (`ids`); running ones get the request (`requested`). */
  jobCancelMany(params: { filter: JobFilter; waitingFrom: readonly JobState[]; reason: string; beforeId: string | null; limit: number }): Promise<JobBatch & { requested: string[] }>;
  /** As jobDelete, for every matching job in one of `from`. */
  jobDeleteMany(params: { filter: JobFilter; from: readonly JobState[]; beforeId: string | null; limit: number }): Promise<JobBatch>;
  /** Jobs matching `filter`, counted up to `cap` (the count stops there). */
  jobCount(params: { filter: JobFilter; cap: number }): Promise<number>;

  /**
   * Expired leases: back to `retryable` (now) or to `discarded` when attempts are used up, or to
   * `cancelled` when a cancel was requested. An error is appended to the job's history.
   */
  jobRescueExpired(params: { limit: number }): Promise<{ retried: string[]; discarded: string[]; cancelled: string[] }>;
  /**
   * Waiting jobs (state in `from`) whose start deadline has passed: set `cancelled` with reason
   * `expired`. Returns them after the change.
   */
  jobExpire(params: { from: readonly JobState[]; limit: number }): Promise<Job[]>;
  /** Per queue, how many jobs reached a final state within the last `windowMs` (database clock). */
  jobFinishedRecently(params: { windowMs: number }): Promise<Array<{ queue: string; count: number }>>;
  /** Deletes final jobs older than their retention. Returns how many. */
  jobPrune(params: { completedMs: number; cancelledMs: number; discardedMs: number; limit: number }): Promise<number>;
  /** Counts by state and queue. */
  jobCounts(): Promise<Array<{ queue: string; state: JobState; count: number }>>;

  /** Pauses a queue for every process: claims skip it until it is resumed. Idempotent. */
  queuePause(params: { name: string }): Promise<QueueInfo>;
  /** Resumes a paused queue. Idempotent. */
  queueResume(params: { name: string }): Promise<QueueInfo>;
  /** Queues that were ever paused or resumed (queues are otherwise implicit in their jobs). */
  queueList(): Promise<QueueInfo[]>;

  /**
   * The worker registry: one row per worker process, written by the process itself.
   * Upserts the row of `worker.id` with heartbeat_at = database now (started_at is set on the
   * first beat only). A removed row comes back with the next beat.
   */
  workerHeartbeat(params: { worker: WorkerBeat }): Promise<void>;
  /** Registry rows, ordered by host, pid, id, at most `limit`; ages by the database clock. */
  workerList(params: { limit: number }): Promise<WorkerRow[]>;
  /** Deletes one row (graceful stop). Returns whether it existed. */
  workerRemove(params: { id: string }): Promise<boolean>;
  /** Deletes rows whose last heartbeat is older than `deadMs` (database clock); returns their ids. */
  workerPrune(params: { deadMs: number }): Promise<string[]>;

  /**
   * Subscribes to "jobs were inserted" hints from any process. Hints may be lost or coalesced:
   * polling must stay correct without them. Returns an unsubscribe function.
   */
  onJobsAvailable?(listener: (queue: string) => void): Promise<() => Promise<void>>;
  /** Subscribes to cancel requests from any process (same caveats as onJobsAvailable). */
  onCancelRequested?(listener: (jobId: string) => void): Promise<() => Promise<void>>;

  /** Test rigging: sets a running job's lease expiry relative to the database clock. */
  testSetLeaseExpiry(params: { id: string; inMs: number }): Promise<void>;
  /** Test rigging: moves a job's times (its deadline too) into the past by `ms`. */
  testAgeJob(params: { id: string; ms: number }): Promise<void>;
  /** Test rigging: moves a registry row's times into the past by `ms`. */
  testAgeWorker(params: { id: string; ms: number }): Promise<void>;
}
