/**
 * The one clock of the suite: epoch milliseconds with sub-millisecond resolution, monotonic within a
 * process (performance.now() on top of the process's time origin). Comparable across the processes
 * of one run on this machine to within about a millisecond, which is what a multi-process run's
 * "last completion" needs; every interval measured is at least hundreds of milliseconds long.
 */
export function now(): number {
  return performance.timeOrigin + performance.now();
}
