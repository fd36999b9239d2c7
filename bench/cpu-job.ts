/**
 * The loop scenario's CPU job: real, synchronous work (SHA-256 over a 4 KiB block, chained through
 * the previous digest so no round can be skipped or cached), run for a number of rounds calibrated
 * once per suite run to about 100 ms on this machine. The same function runs in all three ways
 * measured: on offload's task threads, on offload's main thread and in BullMQ's sandboxed threads.
 *
 * Calibration goes by the fastest of several timed runs, not the mean: other processes on the
 * machine can only make a run slower, so the fastest one is the job's own cost. It refines until
 * the rounds settle, so a pass slowed throughout (a busy machine) does not leave the job short.
 */
import { createHash } from 'node:crypto';

/** What the jobs of one run do, as calibrated once by the orchestrator and sent to every system. */
export interface CpuJobSpec {
  /** SHA-256 rounds per job. */
  rounds: number;
  targetMs: number;
  /** The job's cost at the best rate any timed run reached: its duration on an undisturbed core. */
  ms: number;
  /** Median of the last pass's timed runs at `rounds`: far above `ms`, the machine was busy. */
  medianMs: number;
}

const BLOCK_BYTES = 4096;
/** A trial must take at least this long for its timing to mean something (timer grain, JIT). */
const TRIAL_MS = 20;
const MAX_TRIAL_ROUNDS = 1 << 26;
/** Timed runs per refinement pass. */
const REPEATS = 5;
/** Refinement stops when it would change the rounds by less than this, or after MAX_PASSES. */
const SETTLED = 0.05;
const MAX_PASSES = 4;

/** Runs the job: `rounds` chained SHA-256 digests of a 4 KiB block. Returns the last digest (hex). */
export function cpuJob(rounds: number): string {
  const block = Buffer.alloc(BLOCK_BYTES, 0x5a);
  let digest = Buffer.alloc(32);
  for (let k = 0; k < rounds; k++) digest = createHash('sha256').update(digest).update(block).digest();
  return digest.toString('hex');
}

/** Rounds that take `targetMs` when `rounds` took `elapsedMs`; at least 1. */
export function roundsFor(targetMs: number, rounds: number, elapsedMs: number): number {
  if (!(elapsedMs > 0)) return rounds;
  return Math.max(1, Math.round((rounds * targetMs) / elapsedMs));
}

/**
 * Finds the rounds for a job of `targetMs`. `measure(rounds)` runs the job and returns the
 * milliseconds it took (injected, so the arithmetic is testable without a clock).
 */
export function calibrate(targetMs: number, measure: (rounds: number) => number): CpuJobSpec {
  let rounds = 64;
  let ms = measure(rounds);
  while (ms < TRIAL_MS && rounds < MAX_TRIAL_ROUNDS) {
    rounds *= 2;
    ms = measure(rounds);
  }
  // The best rate seen in any timed run: each pass at the rounds it gives, until they settle. A pass
  // slowed throughout by another process leaves the best rate alone; a fast run later corrects it.
  let bestRate = rounds / ms;
  rounds = roundsFor(targetMs, rounds, ms);
  let runs: number[] = [];
  for (let pass = 0; pass < MAX_PASSES; pass++) {
    runs = Array.from({ length: REPEATS }, () => measure(rounds));
    bestRate = Math.max(bestRate, rounds / Math.min(...runs));
    const next = Math.max(1, Math.round(targetMs * bestRate));
    if (Math.abs(next - rounds) <= SETTLED * rounds) break;
    rounds = next;
  }
  const sorted = runs.toSorted((a, b) => a - b);
  return { rounds, targetMs, ms: rounds / bestRate, medianMs: sorted[Math.floor(sorted.length / 2)]! };
}

/** Calibrates `cpuJob` on the calling thread with the real clock (one to two seconds for 100 ms). */
export function calibrateCpuJob(targetMs: number): CpuJobSpec {
  cpuJob(256); // warm-up: JIT and OpenSSL's first-use set-up are not the job's cost
  return calibrate(targetMs, (rounds) => {
    const t0 = performance.now();
    cpuJob(rounds);
    return performance.now() - t0;
  });
}
