/**
 * Durations in query strings: `30s`, `500ms`, `2m`, or a bare number of seconds (`?wait=30`).
 */

export const DURATION_PATTERN = '^[0-9]{1,9}(ms|s|m)?$';
const DURATION = new RegExp(DURATION_PATTERN);
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000 };

/**
 * Milliseconds of a duration text, or null when it is not one.
 * @example
 * parseDuration('30s') // 30000
 */
export function parseDuration(text: string): number | null {
  const m = DURATION.exec(text);
  if (m === null) return null;
  const digits = m[0].slice(0, m[0].length - (m[1]?.length ?? 0));
  return Number(digits) * UNIT_MS[m[1] ?? 's']!;
}
