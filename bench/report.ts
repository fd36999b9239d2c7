/**
 * The printed report: one table (metrics down, systems across), the notes its cells point to, the
 * ratios, and any failures. Plain text, fixed-width, so it reads the same in a terminal, a CI log and
 * a pasted message.
 */
import { METRICS, type Measurement, type MetricId } from './measurement.ts';
import type { LoopFloor } from './loop-floor.ts';
import type { Ratio } from './ratios.ts';
import type { SystemName } from './systems/system.ts';
import type { TargetCheck } from './targets.ts';

export function formatValue(value: number, unit: string): string {
  if (!Number.isFinite(value)) return 'n/a';
  // Below 100 a decimal matters: the loop scenario's CPU jobs run at tens per second.
  if (unit === 'jobs/s') return value < 100 ? value.toFixed(1) : Math.round(value).toLocaleString('en-US');
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
  const rows = ratios.map((r) => {
    const { label, unit } = METRICS[r.metric];
    const first = r.sides?.[0] ?? 'offload';
    const verdict = r.even ? 'about even' : r.offloadAhead ? `${first} ahead` : `${first} behind`;
    const caveat = r.caveat === undefined ? '' : r.metric.startsWith('loop.') ? '  (a run not saturated: see its note)' : '  (a capped run: see its note)';
    return {
      // The loop rows' labels name one side ("on threads"); a ratio is over both, so that goes.
      what: r.sides === undefined ? label : label.replace(/, (jobs )?on threads$/, ''),
      pair: r.sides === undefined ? `${r.offload} / ${r.peer}` : `${r.sides[0]} / ${r.sides[1]}`,
      figures: `${formatValue(r.offloadValue, unit)} / ${formatValue(r.peerValue, unit)} ${unit}`,
      rest: `= ${formatRatio(r.ratio)}x  (${r.better} is better; ${verdict})${caveat}`,
    };
  });
  const width = (key: 'what' | 'pair' | 'figures') => Math.max(...rows.map((r) => r[key].length));
  const [w1, w2, w3] = [width('what'), width('pair'), width('figures')];
  return rows.map((r) => `${r.what.padEnd(w1)}  ${r.pair.padEnd(w2)}  ${r.figures.padEnd(w3)}  ${r.rest}`).join('\n');
}

export function renderLoopFloor(floor: LoopFloor, when: string): string {
  const { histogram: h, elapsedMs } = floor.reading;
  const ms = (v: number) => formatValue(v, 'ms');
  return (
    `Loop floor ${when} the systems, no queue (${floor.threads} plain worker_threads running the CPU job back to back, main thread idle): ` +
    `delay p50 ${ms(h.p50Ms)} / p99 ${ms(h.p99Ms)} / max ${ms(h.maxMs)} ms, ${formatValue((floor.completed * 1000) / elapsedMs, 'jobs/s')} jobs/s`
  );
}

export function renderTargets(targets: readonly TargetCheck[]): string {
  return targets
    .map((t) => {
      const { label, unit, better } = METRICS[t.metric];
      const status = t.met ? 'met   ' : 'MISSED';
      const sign = better === 'lower' ? '<=' : '>=';
      if (t.figures !== undefined) {
        const of = `${formatValue(t.figures.system, unit)} / ${formatValue(t.figures.peer, unit)} ${unit}`;
        return `${status}  ${t.system} / ${t.peer} ${label}: ${formatRatio(t.value)}x (${of}; target ${sign} ${t.limit}x; ${t.source})`;
      }
      return `${status}  ${t.system} ${label}: ${formatValue(t.value, unit)} ${unit} (target ${sign} ${formatValue(t.limit, unit)} ${unit}; ${t.source})`;
    })
    .join('\n');
}

/** Two decimals, or two significant digits below 0.1, where two decimals would print 0.00. */
function formatRatio(ratio: number): string {
  return ratio >= 0.1 ? ratio.toFixed(2) : ratio.toPrecision(2);
}
