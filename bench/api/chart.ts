/**
 * A raster chart: panels with axes, ticks, labels, lines and points, drawn into an RGB buffer
 * and encoded by png.ts. Linear or log-10 y axes; time on x.
 */
import { GLYPH_HEIGHT, GLYPH_WIDTH, glyph } from './font.ts';
import { encodePng } from './png.ts';

export type Rgb = readonly [number, number, number];

export interface Series {
  label: string;
  color: Rgb;
  points: ReadonlyArray<readonly [number, number]>;
  /** Join the points with lines (default) or draw them as dots. */
  style?: 'line' | 'dots' | 'steps';
}

export interface Panel {
  title: string;
  yLabel: string;
  xLabel: string;
  log?: boolean;
  xMax: number;
  yMin?: number;
  yMax?: number;
  series: Series[];
  /** Horizontal reference lines (a bound, a target). */
  rules?: Array<{ y: number; label: string; color: Rgb }>;
  /** Shaded spans of x (the load window). */
  bands?: Array<{ from: number; to: number; label: string; color: Rgb }>;
}

class Canvas {
  readonly rgb: Uint8Array;
  constructor(
    readonly width: number,
    readonly height: number,
  ) {
    this.rgb = new Uint8Array(width * height * 3).fill(255);
  }

  set(x: number, y: number, c: Rgb): void {
    const xi = Math.round(x);
    const yi = Math.round(y);
    if (xi < 0 || yi < 0 || xi >= this.width || yi >= this.height) return;
    const i = (yi * this.width + xi) * 3;
    this.rgb[i] = c[0];
    this.rgb[i + 1] = c[1];
    this.rgb[i + 2] = c[2];
  }

  rect(x: number, y: number, w: number, h: number, c: Rgb): void {
    for (let j = 0; j < h; j++) for (let i = 0; i < w; i++) this.set(x + i, y + j, c);
  }

  line(x0: number, y0: number, x1: number, y1: number, c: Rgb, thick = 1): void {
    const steps = Math.max(Math.abs(x1 - x0), Math.abs(y1 - y0), 1);
    for (let s = 0; s <= steps; s++) {
      const x = x0 + ((x1 - x0) * s) / steps;
      const y = y0 + ((y1 - y0) * s) / steps;
      this.rect(x - Math.floor(thick / 2), y - Math.floor(thick / 2), thick, thick, c);
    }
  }

  text(x: number, y: number, s: string, c: Rgb, scale = 1): void {
    // Labels are ASCII: one UTF-16 unit per character.
    Array.from({ length: s.length }, (_, k) => s[k]!).forEach((ch, k) => {
      glyph(ch).forEach((row, j) =>
        row.forEach((on, i) => {
          if (on) this.rect(x + (k * (GLYPH_WIDTH + 1) + i) * scale, y + j * scale, scale, scale, c);
        }),
      );
    });
  }

  textWidth(s: string, scale = 1): number {
    return s.length * (GLYPH_WIDTH + 1) * scale;
  }
}

const GRID: Rgb = [225, 225, 225];
const AXIS: Rgb = [60, 60, 60];
const TEXT: Rgb = [30, 30, 30];

function niceTicks(min: number, max: number, count: number): number[] {
  const span = max - min || 1;
  const raw = span / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? raw;
  const ticks: number[] = [];
  for (let v = Math.ceil(min / step) * step; v <= max + step / 1e9; v += step) ticks.push(Number(v.toPrecision(12)));
  return ticks;
}

function fmt(v: number): string {
  if (v >= 1000) return `${Number((v / 1000).toPrecision(3))}K`;
  if (v >= 1) return String(Number(v.toPrecision(3)));
  return String(Number(v.toPrecision(2)));
}

function drawPanel(cv: Canvas, p: Panel, x0: number, y0: number, w: number, h: number): void {
  const left = x0 + 70;
  const right = x0 + w - 20;
  const top = y0 + 50;
  const bottom = y0 + h - 40;
  cv.text(x0 + 10, y0 + 8, p.title, TEXT, 2);
  const values = p.series.flatMap((s) => s.points.map((pt) => pt[1])).concat((p.rules ?? []).map((r) => r.y));
  const positive = values.filter((v) => v > 0);
  const yMin = p.yMin ?? (p.log ? 10 ** Math.floor(Math.log10(Math.min(...positive, 1))) : 0);
  const yMax = p.yMax ?? (p.log ? 10 ** Math.ceil(Math.log10(Math.max(...positive, 10))) : Math.max(...values, 1) * 1.1);
  const ty = (v: number) =>
    p.log ? bottom - ((Math.log10(Math.max(v, yMin)) - Math.log10(yMin)) / (Math.log10(yMax) - Math.log10(yMin))) * (bottom - top) : bottom - ((v - yMin) / (yMax - yMin)) * (bottom - top);
  const tx = (v: number) => left + (v / p.xMax) * (right - left);

  for (const b of p.bands ?? []) {
    cv.rect(tx(b.from), top, Math.max(1, tx(b.to) - tx(b.from)), bottom - top, b.color);
    cv.text(tx(b.from) + 4, top + 4, b.label, TEXT);
  }
  const yTicks = p.log ? Array.from({ length: Math.round(Math.log10(yMax / yMin)) + 1 }, (_, i) => yMin * 10 ** i) : niceTicks(yMin, yMax, 5);
  for (const t of yTicks) {
    cv.line(left, ty(t), right, ty(t), GRID);
    const label = fmt(t);
    cv.text(left - 6 - cv.textWidth(label), ty(t) - 3, label, TEXT);
  }
  for (const t of niceTicks(0, p.xMax, 8)) {
    cv.line(tx(t), top, tx(t), bottom, GRID);
    cv.text(tx(t) - cv.textWidth(fmt(t)) / 2, bottom + 6, fmt(t), TEXT);
  }
  cv.line(left, top, left, bottom, AXIS);
  cv.line(left, bottom, right, bottom, AXIS);
  cv.text(right - cv.textWidth(p.xLabel), bottom + 20, p.xLabel, TEXT);
  cv.text(x0 + 10, top - 14, p.yLabel, TEXT);

  for (const r of p.rules ?? []) {
    for (let x = left; x < right; x += 6) cv.line(x, ty(r.y), Math.min(x + 3, right), ty(r.y), r.color);
    cv.text(left + 6, ty(r.y) - 10, r.label, r.color);
  }
  for (const s of p.series) {
    const pts = s.points.map(([x, y]) => [tx(x), ty(y)] as const);
    if ((s.style ?? 'line') === 'dots') for (const [x, y] of pts) cv.rect(x - 1, y - 1, 3, 3, s.color);
    else {
      pts.forEach(([x, y], i) => {
        const prev = pts[i - 1];
        if (prev === undefined) return;
        if (s.style === 'steps') {
          cv.line(prev[0], prev[1], x, prev[1], s.color, 2);
          cv.line(x, prev[1], x, y, s.color, 2);
        } else cv.line(prev[0], prev[1], x, y, s.color, 2);
      });
    }
  }
  // Legend, top right.
  p.series.forEach((s, i) => {
    const ly = top + 6 + i * 12;
    const lx = right - 10 - cv.textWidth(s.label) - 16;
    cv.rect(lx, ly + 2, 10, 4, s.color);
    cv.text(lx + 14, ly, s.label, s.color);
  });
}

/** Renders panels stacked vertically into a PNG. */
export function renderChart(panels: Panel[], options: { width: number; panelHeight: number; footer?: string }): Buffer {
  const footerHeight = options.footer === undefined ? 0 : 24;
  const cv = new Canvas(options.width, panels.length * options.panelHeight + footerHeight);
  panels.forEach((p, i) => drawPanel(cv, p, 0, i * options.panelHeight, options.width, options.panelHeight));
  if (options.footer !== undefined) cv.text(10, cv.height - GLYPH_HEIGHT - 8, options.footer, [90, 90, 90]);
  return encodePng(cv.width, cv.height, cv.rgb);
}
