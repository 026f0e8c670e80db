import { csrFromCoo } from '@promax/core';
import { describe, expect, it } from 'vitest';
import { degreeQuartileGroups, keepRows, percentile } from './sparsity.js';

/** A users × items matrix whose row u has `degrees[u]` items. */
function withDegrees(degrees: number[], items = 40) {
  const row: number[] = [];
  const col: number[] = [];
  degrees.forEach((d, u) => {
    for (let i = 0; i < d; i++) {
      row.push(u);
      col.push((u + i) % items);
    }
  });
  return csrFromCoo({ rows: degrees.length, cols: items, row, col }).matrix;
}

describe('user sparsity groups', () => {
  it('interpolates percentiles like NumPy', () => {
    const v = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
    expect(percentile(v, 25)).toBeCloseTo(3.25, 12); // numpy.percentile(range(1, 11), 25)
    expect(percentile(v, 50)).toBeCloseTo(5.5, 12);
    expect(percentile(v, 75)).toBeCloseTo(7.75, 12);
    expect(percentile([4], 75)).toBe(4);
  });

  it('groups users at the train-degree quartiles: d < q1, q1 ≤ d < q2, q2 ≤ d < q3, d ≥ q3', () => {
    // quartiles of these degrees are 5, 7 and 11, as on Amazon-book (method.md §5)
    const degrees = [1, 4, 5, 5, 6, 7, 7, 9, 10, 11, 11, 20, 2, 5, 7, 11, 30];
    const sorted = [...degrees].sort((a, b) => a - b);
    expect([25, 50, 75].map((q) => percentile(sorted, q))).toEqual([5, 7, 11]);
    const { quartiles, groups } = degreeQuartileGroups(withDegrees(degrees));
    expect(quartiles).toEqual([5, 7, 11]);
    const members = groups.map((g) => Array.from(g.users).map((u) => degrees[u]));
    expect(members).toEqual([
      [1, 4, 2],
      [5, 5, 6, 5],
      [7, 7, 9, 10, 7],
      [11, 11, 20, 11, 30],
    ]);
    expect(groups.map((g) => [g.name, g.minDegree, g.maxDegree])).toEqual([
      ['Q1', 1, 4],
      ['Q2', 5, 6],
      ['Q3', 7, 10],
      ['Q4', 11, 30],
    ]);
  });

  it('drops groups that ties leave empty', () => {
    const { groups } = degreeQuartileGroups(withDegrees([3, 3, 3, 3, 3, 3, 8]));
    expect(groups.map((g) => g.name)).toEqual(['Q4']);
  });

  it('keeps only the chosen rows of a matrix', () => {
    const m = withDegrees([2, 3, 1, 4]);
    const k = keepRows(m, [1, 3]);
    expect(Array.from(k.indptr)).toEqual([0, 0, 3, 3, 7]);
    expect(Array.from(k.indices)).toEqual([...m.indices.subarray(2, 5), ...m.indices.subarray(6, 10)]);
    expect([k.rows, k.cols]).toEqual([4, 40]);
  });
});
