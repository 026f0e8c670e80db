import { describe, expect, it } from 'vitest';
import { xmlProblems } from './fake-runs.test-util.js';
import { barChart, escapeXml, lineChart, niceTicks, scaleLinear, tickDecimals } from './svg.js';

const attr = (el: string, name: string): string | undefined =>
  new RegExp(`\\s${name}="([^"]*)"`).exec(el)?.[1];
const elements = (svg: string, tag: string): string[] => svg.match(new RegExp(`<${tag}\\b[^>]*>`, 'g')) ?? [];
/** `<text …>content</text>` elements with their content unescaped. */
const texts = (svg: string): { el: string; content: string }[] =>
  [...svg.matchAll(/(<text\b[^>]*>)([^<]*)<\/text>/g)].map((m) => ({
    el: m[1] as string,
    content: (m[2] as string)
      .replace(/&lt;/g, '<')
      .replace(/&gt;/g, '>')
      .replace(/&quot;/g, '"')
      .replace(/&apos;/g, "'")
      .replace(/&amp;/g, '&'),
  }));

describe('svg helpers', () => {
  it('escapes the five XML specials', () => {
    expect(escapeXml(`a<b & "c" 'd'>`)).toBe('a&lt;b &amp; &quot;c&quot; &apos;d&apos;&gt;');
  });

  it('makes nice ticks that cover the data', () => {
    const t = niceTicks(0.1213, 0.1657, 5);
    expect(t.min).toBeLessThanOrEqual(0.1213);
    expect(t.max).toBeGreaterThanOrEqual(0.1657);
    expect(t.ticks[0]).toBeCloseTo(t.min, 12);
    for (let i = 1; i < t.ticks.length; i++)
      expect((t.ticks[i] as number) - (t.ticks[i - 1] as number)).toBeCloseTo(t.step, 12);
    expect([0.01, 0.02, 0.025, 0.005]).toContain(Number(t.step.toPrecision(3)));
    expect(niceTicks(3, 3).ticks.length).toBeGreaterThan(1); // a flat series still gets an axis
    expect(tickDecimals(0.025)).toBe(3);
    expect(tickDecimals(5)).toBe(0);
    const s = scaleLinear(0, 10, 100, 200);
    expect(s(5)).toBe(150);
  });
});

describe('lineChart', () => {
  const svg = lineChart({
    title: 'Recall <by> epoch & "seed"',
    xLabel: 'epoch',
    yLabel: 'recall@20',
    series: [
      {
        name: 'lightgcn seed 1',
        points: [
          { x: 0, y: 0.1 },
          { x: 10, y: 0.2 },
          { x: 20, y: 0.15 },
        ],
      },
      {
        name: "authors' curve",
        points: [
          { x: 0, y: 0.12 },
          { x: 30, y: 0.18 },
        ],
        dashed: true,
      },
    ],
  });

  it('is well-formed, self-contained SVG with escaped text', () => {
    expect(xmlProblems(svg)).toEqual([]);
    expect(svg).toMatch(
      /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg" width="\d+" height="\d+" viewBox="0 0 \d+ \d+" font-family="sans-serif"/,
    );
    expect(svg).toContain('Recall &lt;by&gt; epoch &amp; &quot;seed&quot;');
    expect(texts(svg).map((t) => t.content)).toEqual(
      expect.arrayContaining(['epoch', 'recall@20', 'lightgcn seed 1', "authors' curve"]),
    );
  });

  it('maps values to coordinates linearly and consistently with the axis labels', () => {
    const lines = elements(svg, 'polyline');
    expect(lines).toHaveLength(2);
    const run = lines.find((l) => attr(l, 'data-series') === 'lightgcn seed 1') as string;
    const ref = lines.find((l) => attr(l, 'data-series') === 'authors&apos; curve') as string;
    expect(attr(ref, 'stroke-dasharray')).toBe('6 4');
    expect(attr(run, 'stroke-dasharray')).toBeUndefined();
    const pts = (attr(run, 'points') as string)
      .split(' ')
      .map((p) => p.split(',').map(Number) as [number, number]);
    const [a, b, c] = pts as [[number, number], [number, number], [number, number]];
    // x: equal data steps → equal pixel steps, increasing
    expect(b[0] - a[0]).toBeGreaterThan(0);
    expect(c[0] - b[0]).toBeCloseTo(b[0] - a[0], 1);
    // y: pixels per unit the same between any two points, and up is larger
    const perUnit = (b[1] - a[1]) / (0.2 - 0.1);
    expect(perUnit).toBeLessThan(0);
    expect((c[1] - a[1]) / (0.15 - 0.1)).toBeCloseTo(perUnit, 0);
    // the y tick labelled 0.10 sits at the height of the point with value 0.1; the x tick 10 under the point at x=10
    const yTick = texts(svg).find((t) => t.content === '0.10' && attr(t.el, 'text-anchor') === 'end');
    expect(yTick).toBeDefined();
    expect(Number(attr(yTick?.el as string, 'y'))).toBeCloseTo(a[1], 1);
    const xTick = texts(svg).find((t) => t.content === '10' && attr(t.el, 'text-anchor') === 'middle');
    expect(Number(attr(xTick?.el as string, 'x'))).toBeCloseTo(b[0], 1);
    // the reference's x=30 extends the axis: its last point is right of the run's last
    const refPts = (attr(ref, 'points') as string).split(' ').map((p) => Number(p.split(',')[0]));
    expect(refPts[1]).toBeGreaterThan(c[0]);
    // markers on the solid series only
    expect(elements(svg, 'circle')).toHaveLength(3);
  });
});

describe('barChart', () => {
  const svg = barChart({
    title: 'Recall by group',
    yLabel: 'recall@20',
    groups: ['Q1\n10 users', 'Q2\n12 users'],
    series: [
      { name: 'base', values: [0.1, 0.2] },
      { name: 'promax', values: [0.15, null], errors: [0.01, null] },
    ],
  });

  it('is well-formed and draws one bar per present value with its label', () => {
    expect(xmlProblems(svg)).toEqual([]);
    const bars = elements(svg, 'rect').filter((r) => attr(r, 'data-series'));
    expect(
      bars.map((b) => [attr(b, 'data-series'), attr(b, 'data-group'), Number(attr(b, 'data-value'))]),
    ).toEqual([
      ['base', 'Q1 10 users', 0.1],
      ['promax', 'Q1 10 users', 0.15],
      ['base', 'Q2 12 users', 0.2],
    ]);
    const contents = texts(svg).map((t) => t.content);
    expect(contents).toEqual(
      expect.arrayContaining(['0.100', '0.150', '0.200', 'Q1', '10 users', 'base', 'promax']),
    );
  });

  it('gives bars heights proportional to their values from a common baseline', () => {
    const bars = elements(svg, 'rect').filter((r) => attr(r, 'data-series'));
    const geo = bars.map((b) => ({
      v: Number(attr(b, 'data-value')),
      y: Number(attr(b, 'y')),
      h: Number(attr(b, 'height')),
    }));
    const baseline = (geo[0] as { y: number; h: number }).y + (geo[0] as { h: number }).h;
    for (const g of geo) expect(g.y + g.h).toBeCloseTo(baseline, 1);
    for (const g of geo) expect(g.h / g.v).toBeCloseTo((geo[0] as { h: number }).h / 0.1, 0);
    // the y tick labelled 0.10 is level with the top of the 0.1 bar
    const tick = texts(svg).find((t) => t.content === '0.10' && attr(t.el, 'text-anchor') === 'end');
    expect(Number(attr(tick?.el as string, 'y'))).toBeCloseTo((geo[0] as { y: number }).y, 1);
  });
});
