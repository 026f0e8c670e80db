// A small dependency-free SVG writer for the report's charts: a line chart and a grouped bar chart.
// Output is self-contained (viewBox, white background, font-family sans-serif, escaped text) so it
// renders the same in a browser, a Markdown viewer and rsvg-convert.

/** Colours that stay distinguishable for most readers (Tableau 10). */
export const PALETTE = [
  '#4e79a7',
  '#f28e2b',
  '#e15759',
  '#76b7b2',
  '#59a14f',
  '#edc948',
  '#b07aa1',
  '#ff9da7',
  '#9c755f',
  '#bab0ac',
];

const FONT = 'sans-serif';
const AXIS = '#333333';
const GRID = '#e3e3e3';
const MUTED = '#555555';

export function escapeXml(text: string): string {
  return text.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c] as string,
  );
}

/** Approximate rendered width of a string in a sans-serif font (no font metrics available here). */
export function textWidth(text: string, fontSize: number): number {
  return text.length * fontSize * 0.58;
}

/** Round numbers for coordinates: SVG files stay short and diffs stable. */
const r2 = (v: number): string => String(Math.round(v * 100) / 100);

/** Maps [d0, d1] linearly onto [r0, r1]. */
export function scaleLinear(d0: number, d1: number, r0: number, r1: number): (v: number) => number {
  const span = d1 - d0 || 1;
  return (v) => r0 + ((v - d0) / span) * (r1 - r0);
}

/** "Nice" axis ticks (steps of 1, 2, 2.5 or 5 × 10^k) covering [min, max]. */
export function niceTicks(
  min: number,
  max: number,
  target = 5,
): { ticks: number[]; min: number; max: number; step: number } {
  let lo = min;
  let hi = max;
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) {
    lo = 0;
    hi = 1;
  }
  if (hi - lo < 1e-12) {
    const pad = Math.abs(lo) > 1e-12 ? Math.abs(lo) * 0.1 : 1;
    lo -= pad;
    hi += pad;
  }
  const raw = (hi - lo) / Math.max(1, target);
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = ([1, 2, 2.5, 5, 10].find((m) => m * mag >= raw) ?? 10) * mag;
  const start = Math.floor(lo / step + 1e-9) * step;
  const end = Math.ceil(hi / step - 1e-9) * step;
  const ticks: number[] = [];
  for (let v = start; v <= end + step * 1e-6; v += step) ticks.push(Math.abs(v) < step * 1e-9 ? 0 : v);
  return { ticks, min: start, max: end, step };
}

/** Decimals needed to tell ticks `step` apart. */
export function tickDecimals(step: number): number {
  for (let d = 0; d <= 8; d++) if (Math.abs(Math.round(step * 10 ** d) - step * 10 ** d) < 1e-6) return d;
  return 8;
}

function text(
  x: number,
  y: number,
  content: string,
  attrs: {
    size?: number;
    anchor?: 'start' | 'middle' | 'end';
    weight?: 'bold';
    fill?: string;
    rotate?: number;
    baseline?: 'middle' | 'hanging';
  } = {},
): string {
  const a = [
    `x="${r2(x)}"`,
    `y="${r2(y)}"`,
    `font-size="${attrs.size ?? 12}"`,
    attrs.anchor && attrs.anchor !== 'start' ? `text-anchor="${attrs.anchor}"` : '',
    attrs.weight ? `font-weight="${attrs.weight}"` : '',
    attrs.fill ? `fill="${attrs.fill}"` : '',
    attrs.baseline ? `dominant-baseline="${attrs.baseline === 'middle' ? 'central' : 'hanging'}"` : '',
    attrs.rotate ? `transform="rotate(${attrs.rotate} ${r2(x)} ${r2(y)})"` : '',
  ].filter(Boolean);
  return `<text ${a.join(' ')}>${escapeXml(content)}</text>`;
}

function svgDocument(width: number, height: number, title: string, body: string[]): string {
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="${FONT}" role="img" aria-label="${escapeXml(title)}">`,
    `<title>${escapeXml(title)}</title>`,
    `<rect x="0" y="0" width="${width}" height="${height}" fill="#ffffff"/>`,
    ...body,
    '</svg>',
    '',
  ].join('\n');
}

interface Legend {
  width: number;
  render: (x: number, y: number) => string[];
}

function legend(entries: { name: string; color: string; dashed?: boolean; kind: 'line' | 'box' }[]): Legend {
  const size = 12;
  const swatch = 22;
  const width = Math.max(0, ...entries.map((e) => textWidth(e.name, size))) + swatch + 16;
  return {
    width,
    render: (x, y) =>
      entries.flatMap((e, i) => {
        const cy = y + i * 20;
        const mark =
          e.kind === 'line'
            ? `<line x1="${r2(x)}" y1="${r2(cy)}" x2="${r2(x + swatch - 4)}" y2="${r2(cy)}" stroke="${e.color}" stroke-width="2.5"${e.dashed ? ' stroke-dasharray="6 4"' : ''}/>`
            : `<rect x="${r2(x + 2)}" y="${r2(cy - 6)}" width="12" height="12" fill="${e.color}"/>`;
        return [mark, text(x + swatch, cy, e.name, { size, baseline: 'middle' })];
      }),
  };
}

/** One line of a line chart. Points with non-finite y are dropped. */
export interface LineSeries {
  name: string;
  points: readonly { x: number; y: number }[];
  /** Drawn dashed without markers (e.g. a reference curve). */
  dashed?: boolean;
  color?: string;
}

export interface LineChartOptions {
  title: string;
  xLabel: string;
  yLabel: string;
  series: readonly LineSeries[];
  width?: number;
  height?: number;
  /** Force the y range to include 0 (default false: fit the data). */
  yFromZero?: boolean;
  /** Draw point markers on solid series when they have at most this many points (default 80). */
  maxMarkers?: number;
}

/**
 * A line chart: axes with nice ticks and gridlines, one polyline per series (dashed ones for
 * references), a legend on the right. Each polyline carries `data-series` with its name.
 */
export function lineChart(opts: LineChartOptions): string {
  const width = opts.width ?? 760;
  // tall enough for the legend
  const height = Math.max(opts.height ?? 420, 80 + 20 * opts.series.length);
  const series = opts.series.map((s, i) => ({
    ...s,
    color: s.color ?? (s.dashed ? '#7f7f7f' : PALETTE[i % PALETTE.length]),
    points: s.points.filter((p) => Number.isFinite(p.x) && Number.isFinite(p.y)),
  }));
  const all = series.flatMap((s) => s.points);
  const xs = all.map((p) => p.x);
  const ys = all.map((p) => p.y);
  const xt = niceTicks(xs.length ? Math.min(...xs) : 0, xs.length ? Math.max(...xs) : 1, 8);
  const yt = niceTicks(
    opts.yFromZero ? Math.min(0, ...ys) : ys.length ? Math.min(...ys) : 0,
    ys.length ? Math.max(...ys) : 1,
    6,
  );
  const lg = legend(
    series.map((s) => ({ name: s.name, color: s.color, dashed: s.dashed, kind: 'line' as const })),
  );
  const yDec = tickDecimals(yt.step);
  const yLabelW = Math.max(...yt.ticks.map((t) => textWidth(t.toFixed(yDec), 11)));
  const m = { top: 52, right: 24 + lg.width, bottom: 58, left: 40 + yLabelW };
  const px = scaleLinear(xt.min, xt.max, m.left, width - m.right);
  const py = scaleLinear(yt.min, yt.max, height - m.bottom, m.top);
  const body: string[] = [];
  body.push(text(width / 2, 28, opts.title, { size: 16, anchor: 'middle', weight: 'bold' }));
  for (const t of yt.ticks) {
    body.push(
      `<line x1="${r2(m.left)}" y1="${r2(py(t))}" x2="${r2(width - m.right)}" y2="${r2(py(t))}" stroke="${GRID}" stroke-width="1"/>`,
    );
    body.push(
      text(m.left - 8, py(t), t.toFixed(yDec), { size: 11, anchor: 'end', baseline: 'middle', fill: MUTED }),
    );
  }
  const xDec = tickDecimals(xt.step);
  for (const t of xt.ticks) {
    body.push(
      `<line x1="${r2(px(t))}" y1="${r2(height - m.bottom)}" x2="${r2(px(t))}" y2="${r2(height - m.bottom + 5)}" stroke="${AXIS}" stroke-width="1"/>`,
    );
    body.push(
      text(px(t), height - m.bottom + 18, t.toFixed(xDec), { size: 11, anchor: 'middle', fill: MUTED }),
    );
  }
  body.push(
    `<line x1="${r2(m.left)}" y1="${r2(height - m.bottom)}" x2="${r2(width - m.right)}" y2="${r2(height - m.bottom)}" stroke="${AXIS}" stroke-width="1.2"/>`,
    `<line x1="${r2(m.left)}" y1="${r2(m.top)}" x2="${r2(m.left)}" y2="${r2(height - m.bottom)}" stroke="${AXIS}" stroke-width="1.2"/>`,
    text((m.left + width - m.right) / 2, height - 16, opts.xLabel, { size: 12, anchor: 'middle' }),
    text(16, (m.top + height - m.bottom) / 2, opts.yLabel, { size: 12, anchor: 'middle', rotate: -90 }),
  );
  const maxMarkers = opts.maxMarkers ?? 80;
  // references first so the runs are drawn on top of them
  for (const s of [...series].sort((a, b) => Number(Boolean(b.dashed)) - Number(Boolean(a.dashed)))) {
    if (!s.points.length) continue;
    const pts = s.points.map((p) => `${r2(px(p.x))},${r2(py(p.y))}`).join(' ');
    body.push(
      `<polyline data-series="${escapeXml(s.name)}" points="${pts}" fill="none" stroke="${s.color}" stroke-width="${s.dashed ? 1.8 : 2.2}" stroke-linejoin="round" stroke-linecap="round"${s.dashed ? ' stroke-dasharray="6 4"' : ''}/>`,
    );
    if (!s.dashed && s.points.length <= maxMarkers) {
      for (const p of s.points)
        body.push(`<circle cx="${r2(px(p.x))}" cy="${r2(py(p.y))}" r="2.6" fill="${s.color}"/>`);
    }
  }
  if (!all.length)
    body.push(
      text((m.left + width - m.right) / 2, (m.top + height - m.bottom) / 2, 'no data', {
        size: 14,
        anchor: 'middle',
        fill: MUTED,
      }),
    );
  body.push(...lg.render(width - m.right + 18, m.top + 8));
  return svgDocument(width, height, opts.title, body);
}

/** One series of a grouped bar chart: a value per group (null: no bar). */
export interface BarSeries {
  name: string;
  values: readonly (number | null)[];
  /** Optional ± error per group (e.g. the std over seeds), drawn as a whisker. */
  errors?: readonly (number | null)[];
  color?: string;
}

export interface BarChartOptions {
  title: string;
  yLabel: string;
  xLabel?: string;
  /** Group labels; '\n' splits a label over lines. */
  groups: readonly string[];
  series: readonly BarSeries[];
  width?: number;
  height?: number;
  /** Decimals of the value labels (default: from the data's scale). */
  valueDigits?: number;
}

/**
 * A grouped bar chart (groups along x, one bar per series inside each group) from a zero
 * baseline, with value labels on the bars and a legend on the right. Each bar carries
 * `data-series`, `data-group` and `data-value`.
 */
export function barChart(opts: BarChartOptions): string {
  const width = opts.width ?? 760;
  const groupLines = opts.groups.map((g) => g.split('\n'));
  const labelLines = Math.max(1, ...groupLines.map((l) => l.length));
  const height = Math.max(opts.height ?? 400 + 14 * (labelLines - 1), 80 + 20 * opts.series.length);
  const series = opts.series.map((s, i) => ({ ...s, color: s.color ?? PALETTE[i % PALETTE.length] }));
  const tops = series.flatMap((s) =>
    s.values.map((v, g) => (v === null || !Number.isFinite(v) ? 0 : v + Math.max(0, s.errors?.[g] ?? 0))),
  );
  const bottoms = series.flatMap((s) => s.values.map((v) => (v === null || !Number.isFinite(v) ? 0 : v)));
  const maxV = Math.max(0, ...tops);
  const minV = Math.min(0, ...bottoms);
  // headroom for the value labels
  const yt = niceTicks(minV, maxV > 0 ? maxV * 1.12 : 1, 6);
  const yDec = tickDecimals(yt.step);
  const digits = opts.valueDigits ?? Math.min(4, Math.max(2, yDec + 1));
  const lg = legend(series.map((s) => ({ name: s.name, color: s.color, kind: 'box' as const })));
  const yLabelW = Math.max(...yt.ticks.map((t) => textWidth(t.toFixed(yDec), 11)));
  const m = {
    top: 52,
    right: 24 + lg.width,
    bottom: 28 + 14 * labelLines + (opts.xLabel ? 26 : 0),
    left: 40 + yLabelW,
  };
  const py = scaleLinear(yt.min, yt.max, height - m.bottom, m.top);
  const plotW = width - m.left - m.right;
  const groupW = plotW / Math.max(1, opts.groups.length);
  const barW = (groupW * 0.78) / Math.max(1, series.length);
  const body: string[] = [];
  body.push(text(width / 2, 28, opts.title, { size: 16, anchor: 'middle', weight: 'bold' }));
  for (const t of yt.ticks) {
    body.push(
      `<line x1="${r2(m.left)}" y1="${r2(py(t))}" x2="${r2(width - m.right)}" y2="${r2(py(t))}" stroke="${GRID}" stroke-width="1"/>`,
    );
    body.push(
      text(m.left - 8, py(t), t.toFixed(yDec), { size: 11, anchor: 'end', baseline: 'middle', fill: MUTED }),
    );
  }
  const base = py(0);
  opts.groups.forEach((_, g) => {
    const gx = m.left + g * groupW + groupW * 0.11;
    series.forEach((s, k) => {
      const v = s.values[g];
      if (v === null || v === undefined || !Number.isFinite(v)) return;
      const x = gx + k * barW;
      const y = py(v);
      body.push(
        `<rect data-series="${escapeXml(s.name)}" data-group="${escapeXml((opts.groups[g] as string).replace(/\n/g, ' '))}" data-value="${v}" x="${r2(x + 1)}" y="${r2(Math.min(y, base))}" width="${r2(Math.max(1, barW - 2))}" height="${r2(Math.abs(base - y))}" fill="${s.color}"/>`,
      );
      const err = s.errors?.[g];
      let labelY = Math.min(y, base);
      if (err !== null && err !== undefined && Number.isFinite(err) && err > 0) {
        const cx = x + barW / 2;
        const y0 = py(v - err);
        const y1 = py(v + err);
        body.push(
          `<line x1="${r2(cx)}" y1="${r2(y0)}" x2="${r2(cx)}" y2="${r2(y1)}" stroke="${AXIS}" stroke-width="1"/>`,
          `<line x1="${r2(cx - 4)}" y1="${r2(y1)}" x2="${r2(cx + 4)}" y2="${r2(y1)}" stroke="${AXIS}" stroke-width="1"/>`,
          `<line x1="${r2(cx - 4)}" y1="${r2(y0)}" x2="${r2(cx + 4)}" y2="${r2(y0)}" stroke="${AXIS}" stroke-width="1"/>`,
        );
        labelY = Math.min(labelY, y1);
      }
      // at least two significant digits, so small bars (a random baseline) still say something
      const label = v !== 0 && Math.abs(v) < 10 ** (1 - digits) ? v.toPrecision(2) : v.toFixed(digits);
      const size = 10;
      if (textWidth(label, size) + 2 <= barW) {
        body.push(text(x + barW / 2, labelY - 4, label, { size, anchor: 'middle', fill: AXIS }));
      } else {
        body.push(
          text(x + barW / 2 + 3.5, labelY - 4, label, { size, anchor: 'start', fill: AXIS, rotate: -90 }),
        );
      }
    });
    groupLines[g]?.forEach((line, l) => {
      body.push(
        text(m.left + (g + 0.5) * groupW, height - m.bottom + 18 + 14 * l, line, {
          size: l === 0 ? 12 : 11,
          anchor: 'middle',
          fill: l === 0 ? AXIS : MUTED,
        }),
      );
    });
  });
  body.push(
    `<line x1="${r2(m.left)}" y1="${r2(base)}" x2="${r2(width - m.right)}" y2="${r2(base)}" stroke="${AXIS}" stroke-width="1.2"/>`,
    `<line x1="${r2(m.left)}" y1="${r2(m.top)}" x2="${r2(m.left)}" y2="${r2(height - m.bottom)}" stroke="${AXIS}" stroke-width="1.2"/>`,
    text(16, (m.top + height - m.bottom) / 2, opts.yLabel, { size: 12, anchor: 'middle', rotate: -90 }),
  );
  if (opts.xLabel)
    body.push(
      text((m.left + width - m.right) / 2, height - m.bottom + 18 + 14 * (labelLines - 1) + 26, opts.xLabel, {
        size: 12,
        anchor: 'middle',
      }),
    );
  body.push(...lg.render(width - m.right + 18, m.top + 8));
  return svgDocument(width, height, opts.title, body);
}
