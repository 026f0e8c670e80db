import { readFileSync } from 'node:fs';
import { PromaxError } from '@promax/core';
import { describe, expect, it } from 'vitest';
import {
  aggregateMetrics,
  comparePaired,
  formatPaired,
  formatPValue,
  meanStd,
  median,
  normalSf,
  pairedBySeed,
  pairedTTest,
  studentTCdf,
  studentTQuantile,
  tInterval,
  wilcoxonSignedRank,
} from './stats.js';

interface Case {
  name: string;
  treated: number[];
  base: number[];
  mean: number;
  std: number;
  t: { statistic: number; pvalue: number; df: number };
  ci95_diff: [number, number];
  ci90_treated: [number, number];
  wilcoxon?: { statistic: number; pvalue: number };
}
// Computed once with SciPy by tools/stats_fixtures.py.
const fixture = JSON.parse(readFileSync(new URL('./fixtures/scipy-stats.json', import.meta.url), 'utf8')) as {
  cases: Case[];
  t_quantiles: { p: number; df: number; q: number }[];
  t_cdf: { t: number; df: number; cdf: number }[];
  normal_sf: { z: number; sf: number }[];
};

/** |a − b| ≤ 1e-10 · max(1, |b|). */
const close = (a: number, b: number) =>
  expect(Math.abs(a - b)).toBeLessThanOrEqual(1e-10 * Math.max(1, Math.abs(b)));

describe('stats against SciPy', () => {
  it.each(fixture.cases.map((c) => [c.name, c] as const))(
    '%s: mean, std, paired t, CIs, Wilcoxon',
    (_, c) => {
      const s = meanStd(c.treated);
      close(s.mean, c.mean);
      close(s.std as number, c.std);
      const t = pairedTTest(c.treated, c.base);
      expect(t.df).toBe(c.t.df);
      close(t.statistic, c.t.statistic);
      close(t.pValue, c.t.pvalue);
      close(t.ci?.low as number, c.ci95_diff[0]);
      close(t.ci?.high as number, c.ci95_diff[1]);
      const ci = tInterval(c.treated, 0.9);
      close(ci?.low as number, c.ci90_treated[0]);
      close(ci?.high as number, c.ci90_treated[1]);
      if (c.wilcoxon) {
        const w = wilcoxonSignedRank(c.treated, c.base);
        close(w.statistic, c.wilcoxon.statistic);
        close(w.pValue, c.wilcoxon.pvalue);
      }
    },
  );

  it('pairs runs by seed, whatever their order, skipping seeds one arm lacks and non-finite values', () => {
    const c = fixture.cases.find((x) => x.name === '5 seeds') as Case;
    const seeds = [2025, 2026, 2027, 2028, 2029];
    const treated = seeds.map((seed, i) => ({ seed, value: c.treated[i] as number })).reverse();
    const base = [
      ...seeds.map((seed, i) => ({ seed, value: c.base[i] as number })),
      { seed: 7, value: 0.5 }, // no treated run: skipped
    ];
    const p = pairedBySeed([...treated, { seed: 8, value: Number.NaN }], [...base, { seed: 8, value: 0.1 }]);
    expect(p.n).toBe(5);
    close(p.p_value as number, c.t.pvalue);
    close(p.ci95?.[0] as number, c.ci95_diff[0]);
    close(p.ci95?.[1] as number, c.ci95_diff[1]);
    close(p.wilcoxon_p as number, c.wilcoxon?.pvalue as number);
    expect(formatPaired(p)).toBe(`${formatPValue(c.t.pvalue)}, W ${formatPValue(c.wilcoxon?.pvalue)}`);
    const three = pairedBySeed(treated.slice(0, 3), base);
    expect(three.n).toBe(3);
    expect(three.wilcoxon_p).toBeNull();
    expect(formatPaired(three)).toMatch(/^p = [0-9.e-]+$/);
    expect(pairedBySeed(treated, [{ seed: 1, value: 0.1 }])).toEqual({
      n: 0,
      p_value: null,
      wilcoxon_p: null,
      ci95: null,
    });
    expect(pairedBySeed(treated.slice(0, 1), base)).toMatchObject({ n: 1, p_value: null, ci95: null });
    expect(formatPaired(undefined)).toBe('');
  });

  it('picks the Wilcoxon method SciPy picks', () => {
    const byName = new Map(fixture.cases.map((c) => [c.name, c]));
    const method = (name: string) => {
      const c = byName.get(name) as Case;
      return wilcoxonSignedRank(c.treated, c.base).method;
    };
    expect(method('5 seeds')).toBe('exact');
    expect(method('30 random (exact)')).toBe('exact');
    expect(method('ties')).toBe('permutation');
    expect(method('zeros')).toBe('permutation');
    expect(method('20 rounded, ties and zeros (asymptotic)')).toBe('asymptotic');
    expect(method('60 random (asymptotic)')).toBe('asymptotic');
  });

  it('matches the t quantiles, t cdf and normal tail', () => {
    for (const q of fixture.t_quantiles) close(studentTQuantile(q.p, q.df), q.q);
    for (const c of fixture.t_cdf) close(studentTCdf(c.t, c.df), c.cdf);
    for (const n of fixture.normal_sf) close(normalSf(n.z), n.sf);
  });
});

describe('stats edge cases', () => {
  it('reports undefined tests as NaN / null instead of inventing numbers', () => {
    const one = pairedTTest([0.2], [0.1]);
    expect(one.pValue).toBeNaN();
    expect(one.ci).toBeNull();
    expect(pairedTTest([1, 2, 3], [1, 2, 3]).pValue).toBeNaN();
    expect(pairedTTest([2, 3, 4], [1, 2, 3]).pValue).toBe(0); // the same gain on every seed
    expect(tInterval([1])).toBeNull();
    expect(meanStd([]).mean).toBeNaN();
    expect(median([3, Number.NaN, 1, 2])).toBe(2);
  });

  it('refuses unpaired or non-finite inputs with a PromaxError', () => {
    const err = (() => {
      try {
        pairedTTest([1, 2], [1]);
      } catch (e) {
        return e;
      }
    })();
    expect(PromaxError.isInstance(err)).toBe(true);
    expect((err as PromaxError).code).toBe('SHAPE_MISMATCH');
    expect(() => wilcoxonSignedRank([1, Number.NaN], [1, 2])).toThrow(/non-finite/);
    expect(() => tInterval([1, 2], 1)).toThrow(/confidence/);
  });

  it('adds Wilcoxon from 5 pairs on and formats p-values', () => {
    expect(comparePaired([1, 2, 3, 4], [0, 1, 1, 2]).wilcoxon).toBeNull();
    expect(comparePaired([1, 2, 3, 4, 5], [0, 1, 1, 2, 2]).wilcoxon?.pValue).toBeCloseTo(0.0625, 12);
    expect(formatPValue(0.0123)).toBe('p = 0.012');
    expect(formatPValue(0.00042)).toBe('p = 4.2e-4');
    expect(formatPValue(1e-7)).toBe('p < 1e-4');
    expect(formatPValue(Number.NaN)).toBe('p = –');
  });

  it('aggregates metric records key by key, skipping missing and non-finite values', () => {
    const agg = aggregateMetrics([
      { a: 1, b: Number.NaN },
      { a: 3, b: 2 },
    ]);
    expect(agg.a).toMatchObject({ mean: 2, n: 2, values: [1, 3] });
    expect(agg.a.std).toBeCloseTo(Math.SQRT2, 14);
    expect(agg.b).toMatchObject({ mean: 2, std: null, n: 1 });
  });
});
