import { type CsrMatrix, csrNnz } from '@promax/core';
import { describe, expect, it } from 'vitest';
import { locateData } from './data-dir.js';
import { degreeStats, itemDegreeStats, normalizedAdjacency, userDegreeStats } from './graph.js';
import { readSparseMatrix } from './loaders.js';

const R: CsrMatrix = {
  rows: 3,
  cols: 4,
  indptr: Int32Array.from([0, 2, 3, 3]), // user 2 has no items
  indices: Int32Array.from([0, 2, 2]),
};

/** float64 dense reference of D^-1/2 (A [+ I]) D^-1/2. */
function reference(m: CsrMatrix, loops: boolean): number[][] {
  const n = m.rows + m.cols;
  const A = Array.from({ length: n }, () => new Array<number>(n).fill(0));
  for (let u = 0; u < m.rows; u++) {
    for (let k = m.indptr[u]; k < m.indptr[u + 1]; k++) {
      A[u][m.rows + m.indices[k]] = 1;
      A[m.rows + m.indices[k]][u] = 1;
    }
  }
  if (loops) for (let v = 0; v < n; v++) A[v][v] = 1;
  const d = A.map((row) => row.reduce((a, b) => a + b, 0));
  return A.map((row, i) => row.map((a, j) => (a === 0 ? 0 : a / Math.sqrt(d[i] * d[j]))));
}

function toDense(m: CsrMatrix): number[][] {
  const out = Array.from({ length: m.rows }, () => new Array<number>(m.cols).fill(0));
  for (let r = 0; r < m.rows; r++)
    for (let k = m.indptr[r]; k < m.indptr[r + 1]; k++) out[r][m.indices[k]] = (m.data as Float32Array)[k];
  return out;
}

describe('normalizedAdjacency', () => {
  for (const selfLoops of [false, true]) {
    it(`matches the float64 reference ${selfLoops ? 'with' : 'without'} self loops`, () => {
      const adj = normalizedAdjacency(R, { selfLoops });
      expect([adj.rows, adj.cols]).toEqual([7, 7]);
      expect(csrNnz(adj)).toBe(2 * 3 + (selfLoops ? 7 : 0));
      const got = toDense(adj);
      const want = reference(R, selfLoops);
      for (let i = 0; i < 7; i++) for (let j = 0; j < 7; j++) expect(got[i][j]).toBeCloseTo(want[i][j], 6);
      // user 0 (degree 2) – item 2 (degree 2): 1/sqrt(2·2) without loops
      if (!selfLoops) expect(got[0][3 + 2]).toBeCloseTo(0.5, 7);
      for (let r = 0; r < adj.rows; r++)
        for (let k = adj.indptr[r] + 1; k < adj.indptr[r + 1]; k++)
          expect(adj.indices[k]).toBeGreaterThan(adj.indices[k - 1]);
    });
  }
});

describe('degree statistics', () => {
  it('interpolates quartiles like numpy.percentile', () => {
    // numpy.percentile([1, 2, 3, 4, 10], [25, 50, 75]) = [2, 3, 4]; of [1, 2, 3, 4]: [1.75, 2.5, 3.25]
    expect(degreeStats([10, 1, 3, 2, 4])).toEqual({
      count: 5,
      min: 1,
      max: 10,
      mean: 4,
      q1: 2,
      median: 3,
      q3: 4,
      zeros: 0,
    });
    expect(degreeStats([4, 3, 2, 1])).toMatchObject({ q1: 1.75, median: 2.5, q3: 3.25 });
    expect(userDegreeStats(R)).toMatchObject({ min: 0, max: 2, zeros: 1 });
    expect(itemDegreeStats(R)).toMatchObject({ max: 2, zeros: 2 });
  });

  const trn = locateData('amazon_book', 'trn_mat.npz');
  if (!trn.path) console.warn(`skipping amazon degree test: ${trn.reason}`);
  it.skipIf(!trn.path)('gives the Amazon-book train quartiles 5/7/11 (method spec §5)', () => {
    const s = userDegreeStats(readSparseMatrix(trn.path as string).matrix);
    expect(s).toMatchObject({ count: 11000, min: 1, max: 253, q1: 5, median: 7, q3: 11, zeros: 0 });
    expect(s.mean).toBeCloseTo(120464 / 11000, 10);
  });
});
