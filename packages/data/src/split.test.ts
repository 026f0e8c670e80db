import { type CsrMatrix, csrNnz, PromaxError } from '@promax/core';
import { describe, expect, it } from 'vitest';
import { partSizes, splitInteractions } from './split.js';
import { countOverlap, emptyRows } from './validate.js';

/** A random-looking but fixed matrix: user u has (u % 9) + 1 items. */
function matrix(rows: number, cols: number): CsrMatrix {
  const indptr = new Int32Array(rows + 1);
  const idx: number[] = [];
  for (let u = 0; u < rows; u++) {
    const n = (u % 9) + 1;
    const set = new Set<number>();
    for (let j = 0; set.size < n; j++) set.add((u * 31 + j * 17) % cols);
    idx.push(...[...set].sort((a, b) => a - b));
    indptr[u + 1] = idx.length;
  }
  return { rows, cols, indptr, indices: Int32Array.from(idx) };
}

describe('splitInteractions', () => {
  const m = matrix(500, 300);
  const nnz = csrNnz(m);

  it('partSizes splits exactly by largest remainder', () => {
    expect(partSizes(10, [0.6, 0.2, 0.2])).toEqual([6, 2, 2]);
    expect(partSizes(7, [0.6, 0.2, 0.2])).toEqual([4, 2, 1]);
    expect(partSizes(2483, [0.6, 0.2, 0.2]).reduce((a, b) => a + b)).toBe(2483);
  });

  it('makes disjoint parts that cover the input with the requested sizes', () => {
    const [train, val, test] = splitInteractions(m, { ratios: [0.6, 0.2, 0.2], seed: 7 });
    expect([csrNnz(train), csrNnz(val), csrNnz(test)]).toEqual(partSizes(nnz, [0.6, 0.2, 0.2]));
    expect(
      countOverlap(train, val).count + countOverlap(train, test).count + countOverlap(val, test).count,
    ).toBe(0);
    // union is the input: every entry of m is in exactly one part
    expect(countOverlap(m, train).count + countOverlap(m, val).count + countOverlap(m, test).count).toBe(nnz);
    expect(emptyRows(train).length).toBe(0); // keepOneTrainPerUser
    for (const p of [train, val, test]) {
      for (let r = 0; r < p.rows; r++)
        for (let k = p.indptr[r] + 1; k < p.indptr[r + 1]; k++)
          expect(p.indices[k]).toBeGreaterThan(p.indices[k - 1]);
    }
  });

  it('is deterministic per seed, differs across seeds, and without pinning may leave users out', () => {
    const a = splitInteractions(m, { seed: 1 });
    const b = splitInteractions(m, { seed: 1 });
    const c = splitInteractions(m, { seed: 2 });
    expect(a).toEqual(b);
    expect(countOverlap(a[0], c[0]).count).toBeLessThan(csrNnz(a[0]));
    const free = splitInteractions(m, { seed: 1, keepOneTrainPerUser: false });
    expect(emptyRows(free[0]).length).toBeGreaterThan(0);
    expect(csrNnz(free[0])).toBe(partSizes(nnz, [0.6, 0.2, 0.2])[0]);
  });

  it('keeps values and validates ratios', () => {
    const valued = { ...m, data: Float32Array.from({ length: nnz }, (_, k) => k) };
    const [x, y] = splitInteractions(valued, { ratios: [0.5, 0.5] });
    expect(csrNnz(x) + csrNnz(y)).toBe(nnz);
    expect(x.data).toBeInstanceOf(Float32Array);
    try {
      splitInteractions(m, { ratios: [0.5, 0.6] });
      throw new Error('expected an error');
    } catch (e) {
      expect(PromaxError.isInstance(e) && e.code).toBe('INVALID_ARGUMENT');
      expect((e as Error).message).toMatch(/must be 2 or more non-negative fractions summing to 1/);
    }
  });
});
