/**
 * A live line chart of stats samples (uPlot on a canvas). Under it, as text, each series' latest
 * value: what a screen reader reads, and what a test can check (`data-samples` counts points).
 * Colours come from the theme's CSS variables; a theme change redraws the chart.
 */
import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import type { StatsSample } from '../../../src/http/dashboard/protocol.ts';

export interface ChartSeries {
  label: string;
  /** CSS variable holding the colour, e.g. `--c-completed`. */
  color: string;
  value: (sample: StatsSample) => number | null;
}

export interface ChartProps {
  id: string;
  title: string;
  /** Formats a value for the axis and the text under the chart. */
  format: (value: number) => string;
  samples: readonly StatsSample[];
  series: readonly ChartSeries[];
  /** Changes when the theme does: the chart is drawn again with the new colours. */
  theme: string;
  /** Bottom of the y scale; default 0. The top follows the data. */
  min?: number;
  /** Smallest top of the y scale, so an idle chart does not magnify noise. */
  minMax?: number;
}

const HEIGHT = 170;

function cssVar(name: string): string {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim() || '#888';
}

function toData(samples: readonly StatsSample[], series: readonly ChartSeries[]): uPlot.AlignedData {
  return [samples.map((s) => s.t / 1000), ...series.map((c) => samples.map((s) => c.value(s)))];
}

export function Chart(props: ChartProps) {
  const { samples, series, format, theme } = props;
  const min = props.min ?? 0;
  const minMax = props.minMax ?? 1;
  const boxRef = useRef<HTMLDivElement>(null);
  const plotRef = useRef<uPlot | null>(null);
  // What the chart draws, for the effect that builds it without being re-run each second.
  const latestRef = useRef({ samples, series, format });
  const seriesKey = series.map((s) => s.label).join('|');

  useEffect(() => {
    latestRef.current = { samples, series, format };
    plotRef.current?.setData(toData(samples, series));
  }, [samples, series, format]);

  // Built again only when the theme (colours), the set of series or the scale changes.
  useEffect(() => {
    const el = boxRef.current;
    if (el === null) return undefined;
    const axis = cssVar('--fg-muted');
    const grid = cssVar('--grid');
    const fmt = (v: number) => latestRef.current.format(v);
    const opts: uPlot.Options = {
      width: Math.max(200, el.clientWidth),
      height: HEIGHT,
      legend: { show: false },
      cursor: { drag: { x: false, y: false } },
      scales: {
        // One sample has no span: show the minute before it rather than uPlot's years.
        x: { time: true, range: (_u, lo, hi) => (hi - lo < 60 ? [hi - 60, hi] : [lo, hi]) },
        y: { range: (_u, _min, max) => [min, Math.max(max, minMax)] },
      },
      axes: [
        { stroke: axis, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid } },
        { stroke: axis, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid }, size: 64, values: (_u, vals) => vals.map(fmt) },
      ],
      series: [{}, ...latestRef.current.series.map((s) => ({ label: s.label, stroke: cssVar(s.color), width: 1.5, spanGaps: true, points: { show: false } }))],
    };
    const u = new uPlot(opts, toData(latestRef.current.samples, latestRef.current.series), el);
    plotRef.current = u;
    const resize = new ResizeObserver(() => u.setSize({ width: Math.max(200, el.clientWidth), height: HEIGHT }));
    resize.observe(el);
    return () => {
      resize.disconnect();
      u.destroy();
      plotRef.current = null;
    };
  }, [theme, seriesKey, min, minMax]);

  const latest = samples.at(-1);
  return (
    <figure class="chart" id={props.id} data-samples={samples.length}>
      <figcaption>{props.title}</figcaption>
      <div class="chart-canvas" ref={boxRef} aria-hidden="true" />
      <dl class="chart-latest">
        {series.map((s) => {
          const v = latest === undefined ? null : s.value(latest);
          return (
            <div key={s.label} class="chart-latest-item">
              <dt>
                <span class="swatch" style={{ background: `var(${s.color})` }} />
                {s.label}
              </dt>
              <dd>{v === null ? '–' : format(v)}</dd>
            </div>
          );
        })}
      </dl>
    </figure>
  );
}
