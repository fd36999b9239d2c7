/**
 * When to come back after an overload refusal: how long until `excess` jobs have drained at
 * `drainPerSec`, within [100 ms, 60 s]. When nothing drained in the measuring window, the window
 * itself: nothing finished during that long, so at least that long.
 */
export function retryAfterMs(excess: number, drainPerSec: number, windowMs: number): number {
  if (!(drainPerSec > 0)) return windowMs;
  return Math.min(60_000, Math.max(100, Math.ceil((Math.max(excess, 1) / drainPerSec) * 1000)));
}
