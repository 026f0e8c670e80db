import { PromaxError } from '@promax/core';
import { describe, expect, it } from 'vitest';
import { type PercentileMethod, percentile, planSparsityShift } from './sparsity-rule.js';

/**
 * User train-degree histograms of the released splits (scipy on amazon_book/trn_mat.npz and
 * yelp/trn_mat.npz): exact counts for degrees 1–16, the remaining users (degree ≥ 17) put at 17.
 * Quartiles and the rule only look at the low order statistics, so this reproduces the real
 * boundaries and the set of augmented users exactly.
 */
const AMAZON = {
  low: [145, 338, 692, 1097, 1359, 1272, 1087, 823, 619, 460, 389, 303, 249, 193, 181, 176],
  total: 11000,
};
const YELP = {
  low: [3, 36, 135, 342, 632, 1033, 1168, 1091, 933, 762, 616, 472, 398, 329, 245, 239],
  total: 11091,
};

function degreesFrom(h: { low: number[]; total: number }): Int32Array {
  const out: number[] = [];
  h.low.forEach((count, i) => {
    for (let j = 0; j < count; j++) out.push(i + 1);
  });
  while (out.length < h.total) out.push(17);
  // interleave so that the rule cannot depend on user order
  const perm = Int32Array.from(out);
  for (let i = perm.length - 1, s = 12345; i > 0; i--) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    const j = s % (i + 1);
    [perm[i], perm[j]] = [perm[j], perm[i]];
  }
  return perm;
}

describe('percentile', () => {
  it('matches numpy.percentile for each method', () => {
    const v = [10, 20, 30, 40];
    // numpy: linear 17.5/25/32.5, lower 10/20/30, higher 20/30/40, midpoint 15/25/35
    const want: Record<PercentileMethod, number[]> = {
      linear: [17.5, 25, 32.5],
      lower: [10, 20, 30],
      higher: [20, 30, 40],
      midpoint: [15, 25, 35],
    };
    for (const [m, w] of Object.entries(want))
      expect([25, 50, 75].map((p) => percentile(v, p, m as PercentileMethod))).toEqual(w);
    expect(percentile([3], 75)).toBe(3);
    expect(() => percentile([], 50)).toThrow(PromaxError);
  });
});

describe('planSparsityShift — the released rule', () => {
  it('Amazon-book: quartiles 5/7/11; ≤4→6, 5–6→8, 7–10→12; exactly the 7,892 users of degree ≤ 10; 2–5 items each', () => {
    const deg = degreesFrom(AMAZON);
    for (const m of ['linear', 'lower', 'higher', 'midpoint'] as const) {
      expect(planSparsityShift(deg, { percentileMethod: m }).boundaries).toEqual([5, 7, 11]);
    }
    const plan = planSparsityShift(deg);
    expect(plan.targets).toEqual([6, 8, 12]);
    expect(plan.bucketLabels).toEqual(['deg < 5', '5 ≤ deg < 7', '7 ≤ deg < 11', 'deg ≥ 11']);
    let augmented = 0;
    let max = 0;
    let min = Number.POSITIVE_INFINITY;
    for (let u = 0; u < deg.length; u++) {
      const d = deg[u];
      const want = d <= 4 ? 6 - d : d <= 6 ? 8 - d : d <= 10 ? 12 - d : 0;
      expect(plan.planned[u]).toBe(want);
      if (want > 0) {
        augmented++;
        max = Math.max(max, want);
        min = Math.min(min, want);
      }
    }
    expect(augmented).toBe(7892);
    expect([min, max]).toEqual([2, 5]); // released A′: 1–5 (shortfalls only lower the count)
  });

  it('Yelp: quartiles 7/10/16; exactly the 8,195 users of degree ≤ 15; 2–7 items each', () => {
    const deg = degreesFrom(YELP);
    const plan = planSparsityShift(deg);
    expect(plan.boundaries).toEqual([7, 10, 16]);
    expect(plan.targets).toEqual([8, 11, 17]);
    const sel = Array.from(plan.planned).filter((n) => n > 0);
    expect(sel.length).toBe(8195);
    expect(Math.max(...sel)).toBe(7);
    expect(Math.min(...sel)).toBe(2);
    for (let u = 0; u < deg.length; u++) expect(plan.planned[u] > 0).toBe(deg[u] <= 15);
  });
});

describe('planSparsityShift — configuration', () => {
  const deg = Int32Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]); // quartiles 3.5 / 6 / 8.5
  it('rounds fractional boundaries up for targets, honours offset, fixedN and maxPerUser', () => {
    const plan = planSparsityShift(deg);
    expect(plan.boundaries).toEqual([3.5, 6, 8.5]);
    expect(plan.targets).toEqual([5, 7, 10]);
    expect(Array.from(plan.planned)).toEqual([4, 3, 2, 3, 2, 4, 3, 2, 0, 0, 0]);
    expect(Array.from(plan.bucketOf)).toEqual([0, 0, 0, 1, 1, 2, 2, 2, 3, 3, 3]);
    expect(Array.from(planSparsityShift(deg, { offset: 0 }).planned)).toEqual([
      3, 2, 1, 2, 1, 3, 2, 1, 0, 0, 0,
    ]);
    expect(Array.from(planSparsityShift(deg, { fixedN: 2 }).planned)).toEqual([
      2, 2, 2, 2, 2, 2, 2, 2, 0, 0, 0,
    ]);
    expect(Array.from(planSparsityShift(deg, { maxPerUser: 2 }).planned)).toEqual([
      2, 2, 2, 2, 2, 2, 2, 2, 0, 0, 0,
    ]);
    const halves = planSparsityShift(deg, { quantiles: [50] });
    expect(halves.boundaries).toEqual([6]);
    expect(Array.from(halves.planned)).toEqual([6, 5, 4, 3, 2, 0, 0, 0, 0, 0, 0]);
  });

  it('rejects invalid settings with INVALID_CONFIG / INVALID_ARGUMENT naming the field', () => {
    expect(() => planSparsityShift(deg, { quantiles: [50, 25] })).toThrow(/increasing/);
    expect(() => planSparsityShift(deg, { quantiles: [] })).toThrow(PromaxError);
    expect(() => planSparsityShift(deg, { offset: -1 })).toThrow(/sparsity.offset/);
    expect(() => planSparsityShift(deg, { fixedN: 0 })).toThrow(/sparsity.fixedN/);
    expect(() => planSparsityShift(deg, { quantile: [50] } as never)).toThrow(
      /unknown sparsity rule setting 'quantile'/,
    );
  });
});
