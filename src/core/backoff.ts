/**
 * Retry delays. Full jitter (a uniform draw in [0, cap]) spreads retries of jobs that failed
 * together, so a recovering downstream is not hit by a synchronized wave.
 */
import type { RetryPolicy } from '../types.ts';

/**
 * Delay before the attempt after `attempt` (1-based: the attempt that just failed).
 * `random` returns a number in [0, 1); it is injected so tests are deterministic.
 */
export function backoffDelayMs(policy: RetryPolicy, attempt: number, random: () => number): number {
  const cap = backoffCapMs(policy, attempt);
  if (policy.backoff === 'fixed') return cap;
  return Math.floor(random() * (cap + 1));
}

/** The upper bound of the jittered delay after `attempt`. */
export function backoffCapMs(policy: RetryPolicy, attempt: number): number {
  const n = Math.max(1, attempt);
  let raw: number;
  switch (policy.backoff) {
    case 'fixed':
      raw = policy.baseMs;
      break;
    case 'linear':
      raw = policy.baseMs * n;
      break;
    case 'exponential':
      // 2^(n-1) overflows to Infinity past n ~ 1024; min() keeps it finite.
      raw = policy.baseMs * 2 ** Math.min(n - 1, 60);
      break;
  }
  return Math.min(raw, policy.maxMs);
}
