/**
 * The loop scenario's CPU job: real, synchronous work (SHA-256 over a 4 KiB block, chained through
 * the previous digest so no round can be skipped or cached), run for a number of rounds calibrated
 * once per suite run to about 100 ms on this machine. The same function runs in all three ways
 * measured: on offload's task threads, on offload's main thread and in BullMQ's sandboxed threads.
 *
 * Calibration takes the fastest of several timed runs, not the mean: other processes on the
 * machine can only make a run slower, so the fastest one is the job's own cost.
 */
import { createHash } from 'node:crypto';

/** What the jobs of one run do, as calibrated once by the orchestrator and sent to every system. */
export interface CpuJobSpec {
  /** SHA-256 rounds per job. */
  rounds: number;
  targetMs: number;
  /** Fastest of the final timed runs at `rounds`, on one otherwise idle thread. */
  ms: number;
  /** Median of the same runs: far above `ms` means the machine was busy while calibrating. */
  medianMs: number;
}

const BLOCK_BYTES = 4096;
/** A trial must take at least this long for its timing to mean something (timer grain, JIT). */
const TRIAL_MS = 20;
const MAX_TRIAL_ROUNDS = 1 << 26;
/** Timed runs per refinement pass; two passes. */
const REPEATS = 5;

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
  rounds = roundsFor(targetMs, rounds, ms);
  let runs: number[] = [];
  for (let pass = 0; pass < 2; pass++) {
    if (pass > 0) rounds = roundsFor(targetMs, rounds, Math.min(...runs));
    runs = Array.from({ length: REPEATS }, () => measure(rounds));
  }
  const sorted = runs.toSorted((a, b) => a - b);
  return { rounds, targetMs, ms: sorted[0]!, medianMs: sorted[Math.floor(sorted.length / 2)]! };
}

/** Calibrates `cpuJob` on the calling thread with the real clock (about a second for 100 ms). */
export function calibrateCpuJob(targetMs: number): CpuJobSpec {
  cpuJob(256); // warm-up: JIT and OpenSSL's first-use set-up are not the job's cost
  return calibrate(targetMs, (rounds) => {
    const t0 = performance.now();
    cpuJob(rounds);
    return performance.now() - t0;
  });
}
