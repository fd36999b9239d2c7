/**
 * Terminal output of the read commands: aligned columns, short durations and times. Plain text,
 * no colour codes, so output piped to grep or a file reads the same as on a terminal.
 */

/** Columns padded to their widest cell; the columns whose index is in `right` (numbers) right-aligned. */
export function table(headers: readonly string[], rows: ReadonlyArray<readonly string[]>, right: ReadonlySet<number> = new Set()): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => (right.has(i) ? c.padStart(widths[i]!) : i === cells.length - 1 ? c : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(headers), ...rows.map(line)].join('\n') + '\n';
}

/** 850 ms, 12.3 s, 4 min 5 s, 2 h 10 min. */
export function duration(ms: number | null): string {
  if (ms === null || !Number.isFinite(ms)) return '-';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  if (ms < 3_600_000) return `${Math.floor(ms / 60_000)} min ${Math.round((ms % 60_000) / 1000)} s`;
  return `${Math.floor(ms / 3_600_000)} h ${Math.round((ms % 3_600_000) / 60_000)} min`;
}

/** `12 s ago`, `in 3 min 0 s`, or `-`. */
export function relative(at: Date | null, now: number): string {
  if (at === null) return '-';
  const d = at.getTime() - now;
  return Math.abs(d) < 1000 ? 'now' : d < 0 ? `${duration(-d)} ago` : `in ${duration(d)}`;
}

/** JSON for --json: one document, two-space indented, with a final newline. */
export function json(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}
