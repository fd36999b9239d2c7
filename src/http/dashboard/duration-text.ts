/**
 * Durations as people read them ("1.5 s", "3 min 20 s", "2 h 5 min"). Imports nothing: the page
 * (ui/) uses it too, so the server's sentences and the page's figures agree.
 */

const S = 1000;
const MIN = 60 * S;
const H = 60 * MIN;
const D = 24 * H;

function two(big: number, bigUnit: string, small: number, smallUnit: string): string {
  return small === 0 ? `${big} ${bigUnit}` : `${big} ${bigUnit} ${small} ${smallUnit}`;
}

/**
 * A non-negative duration in the two largest units that matter.
 * @example
 * formatDuration(200_000) // '3 min 20 s'
 */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms)) return 'unknown';
  const v = Math.max(0, ms);
  if (v < S) return `${Math.round(v)} ms`;
  if (v < 10 * S) return `${(Math.floor(v / 100) / 10).toFixed(1)} s`;
  if (v < MIN) return `${Math.floor(v / S)} s`;
  if (v < H) return two(Math.floor(v / MIN), 'min', Math.floor((v % MIN) / S), 's');
  if (v < D) return two(Math.floor(v / H), 'h', Math.floor((v % H) / MIN), 'min');
  return two(Math.floor(v / D), v < 2 * D ? 'day' : 'days', Math.floor((v % D) / H), 'h');
}

/**
 * `at` relative to `now`: "in 5 s", "3 min ago", "now" within a second.
 * @example
 * relativeTime(now + 5000, now) // 'in 5.0 s'
 */
export function relativeTime(atMs: number, nowMs: number): string {
  const d = atMs - nowMs;
  if (Math.abs(d) < S) return 'now';
  return d > 0 ? `in ${formatDuration(d)}` : `${formatDuration(-d)} ago`;
}
