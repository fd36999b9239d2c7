/** Figures and times as the pages show them. */
import { formatDuration, relativeTime } from '../../src/http/dashboard/duration-text.ts';

export { formatDuration, relativeTime };

const int = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });

export function count(n: number | null | undefined): string {
  return n === null || n === undefined ? '–' : int.format(n);
}

/** A rate per second: more digits when small. */
export function rate(n: number | null | undefined): string {
  if (n === null || n === undefined || !Number.isFinite(n)) return '–';
  return n >= 100 ? int.format(n) : n >= 10 ? n.toFixed(1) : n.toFixed(2);
}

export function ms(n: number | null | undefined): string {
  return n === null || n === undefined || !Number.isFinite(n) ? '–' : formatDuration(n);
}

export function percent(ratio: number | null | undefined): string {
  return ratio === null || ratio === undefined || !Number.isFinite(ratio) ? '–' : `${Math.round(ratio * 100)} %`;
}

/** Local date and time, to the second. */
export function dateTime(iso: string | null): string {
  if (iso === null) return '–';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'medium' });
}

/** Any JSON value, indented; undefined and null say so. */
export function json(value: unknown): string {
  if (value === undefined) return '(not sent)';
  return JSON.stringify(value, null, 2) ?? 'null';
}
