/**
 * How much work each scenario does, full and `--quick`. Full counts are sized so that the slowest
 * uncapped configuration takes tens of seconds and the whole suite stays under ~15 minutes on
 * 2 cores; quick counts only show that everything runs (a minute or two), their numbers are noisy.
 */
export interface Counts {
  /** Jobs enqueued with sequential awaits. */
  enqueueOne: number;
  /** Jobs enqueued by 50 concurrent sequential producers. */
  enqueueInFlight: number;
  /** Batches of 1000 enqueued one after the other. */
  bulkBatches: number;
  /**
   * Jobs done before each timed part, on the same client and workers (connections open, code warm).
   * A thousand, because a worker child process is otherwise measured while V8 is still compiling
   * its hot paths, which the single-process runs (later runs in a warm process) are not.
   */
  warmup: number;
  /** Jobs enqueued before a process run. */
  process: number;
  /** A process run still going after this is stopped and reported as time-capped. */
  processBudgetMs: number;
  /** For a poll-bound system, jobs are capped to what its bound allows in about this long. */
  pollBoundSeconds: number;
  latencyWarmupMs: number;
  latencyMeasureMs: number;
  /** Jobs waiting when the RSS run starts, and how long it samples at most. */
  rssJobs: number;
  rssWindowMs: number;
  /** Loop scenario: CPU jobs run this long before the window opens (threads started, code warm), then the window. */
  loopWarmupMs: number;
  loopWindowMs: number;
}

export const FULL: Counts = {
  enqueueOne: 2000,
  enqueueInFlight: 10_000,
  bulkBatches: 20,
  warmup: 1000,
  process: 20_000,
  processBudgetMs: 40_000,
  pollBoundSeconds: 10,
  latencyWarmupMs: 1000,
  latencyMeasureMs: 5000,
  rssJobs: 20_000,
  rssWindowMs: 6000,
  loopWarmupMs: 2000,
  loopWindowMs: 8000,
};

export const QUICK: Counts = {
  enqueueOne: 300,
  enqueueInFlight: 2000,
  bulkBatches: 3,
  warmup: 500,
  process: 2000,
  processBudgetMs: 15_000,
  pollBoundSeconds: 3,
  latencyWarmupMs: 300,
  latencyMeasureMs: 2000,
  rssJobs: 3000,
  rssWindowMs: 2500,
  loopWarmupMs: 1000,
  loopWindowMs: 2000,
};

/** Fixed by the brief, the same in both modes. */
export const IN_FLIGHT = 50;
export const BULK_SIZE = 1000;
export const LATENCY_RATE_PER_S = 100;
/**
 * Workers in the latency run have room for 100 jobs: at 100 jobs/s no system's queue grows, not
 * even pg-boss's, which takes at most one batch (batchSize = concurrency) per 500 ms poll.
 */
export const LATENCY_CONCURRENCY = 100;
export const RSS_CONCURRENCY = 100;
export const RSS_SAMPLE_MS = 50;
/** The loop scenario's CPU job is calibrated to this long (cpu-job.ts), as in issue 3's experiment. */
export const LOOP_JOB_MS = 100;
/**
 * Loop scenario concurrency per core (= per thread of offload's default pool): 2, so that the pool
 * is saturated, every thread busy and as many jobs again waiting for one.
 */
export const LOOP_CONCURRENCY_PER_CORE = 2;
