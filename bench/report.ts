/**
 * The printed report: one table (metrics down, systems across), the notes its cells point to, the
 * ratios, and any failures. Plain text, fixed-width, so it reads the same in a terminal, a CI log and
 * a pasted message.
 */
import { METRICS, type Measurement, type MetricId } from './measurement.ts';
import type { Ratio } from './ratios.ts';
import type { SystemName } from './systems/system.ts';

export function formatValue(value: number, unit: string): string {
  if (!Number.isFinite(value)) return 'n/a';
  if (unit === 'jobs/s') return Math.round(value).toLocaleString('en-US');
  if (unit === 'ms') return value < 10 ? value.toFixed(2) : value.toFixed(1);
  return value.toFixed(1);
}

export function renderTable(systems: readonly SystemName[], measurements: readonly Measurement[]): string {
  // One footnote per distinct text, naming the systems it applies to: the latency note is the same for all.
  const notes: Array<{ text: string; systems: SystemName[] }> = [];
  const metrics = (Object.keys(METRICS) as MetricId[]).filter((id) => measurements.some((m) => m.metric === id));
  const header = ['metric', 'unit', ...systems];
  const rows = metrics.map((id) => {
    const { label, unit } = METRICS[id];
    const cells = systems.map((system) => {
      const m = measurements.find((x) => x.system === system && x.metric === id);
      if (m === undefined) return '-';
      const cell = formatValue(m.value, unit);
      if (m.note === undefined) return cell;
      let n = notes.findIndex((x) => x.text === m.note);
      if (n < 0) n = notes.push({ text: m.note, systems: [] }) - 1;
      if (!notes[n]!.systems.includes(system)) notes[n]!.systems.push(system);
      return `${cell} [${n + 1}]`;
    });
    return [label, unit, ...cells];
  });
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c]!.length)));
  const line = (r: string[]) => r.map((cell, c) => (c < 2 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join('  ');
  const out = [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)];
  const who = (s: SystemName[]) => (s.length === systems.length && s.length > 1 ? 'all' : s.join(', '));
  if (notes.length > 0) out.push('', ...notes.map((n, i) => `[${i + 1}] ${who(n.systems)}: ${n.text}`));
  return out.join('\n');
}

export function renderRatios(ratios: readonly Ratio[]): string {
  if (ratios.length === 0) return '(no ratio: run both systems of a pair to get one)';
  return ratios
    .map((r) => {
      const { label, unit } = METRICS[r.metric];
      const figures = `${formatValue(r.offloadValue, unit)} / ${formatValue(r.peerValue, unit)} ${unit}`;
      const verdict = r.even ? 'about even' : r.offloadAhead ? 'offload ahead' : 'offload behind';
      const caveat = r.caveat === undefined ? '' : '  (a capped run: see its note)';
      return `${label.padEnd(24)} ${`${r.offload} / ${r.peer}`.padEnd(35)} ${figures.padEnd(26)} = ${formatRatio(r.ratio)}x  (${r.better} is better; ${verdict})${caveat}`;
    })
    .join('\n');
}

/** Two decimals, or two significant digits below 0.1, where two decimals would print 0.00. */
function formatRatio(ratio: number): string {
  return ratio >= 0.1 ? ratio.toFixed(2) : ratio.toPrecision(2);
}
