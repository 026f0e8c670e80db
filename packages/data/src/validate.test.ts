import type { CsrMatrix } from '@promax/core';
import { PromaxError } from '@promax/core';
import { describe, expect, it } from 'vitest';
import {
  checkEmbeddingRows,
  checkSplitOverlap,
  checkSplitShapes,
  countOverlap,
  emptyRows,
  missingEntries,
} from './validate.js';

const csr = (rows: number[][], cols: number): CsrMatrix => {
  const indptr = new Int32Array(rows.length + 1);
  rows.forEach((r, u) => {
    indptr[u + 1] = indptr[u] + r.length;
  });
  return { rows: rows.length, cols, indptr, indices: Int32Array.from(rows.flat()) };
};

function failure(fn: () => unknown): PromaxError {
  try {
    fn();
  } catch (e) {
    if (PromaxError.isInstance(e)) return e;
    throw e;
  }
  throw new Error('expected a PromaxError');
}

describe('split validation', () => {
  const train = csr([[0, 2], [1], []], 4);
  it('counts overlaps and missing entries with an example', () => {
    expect(countOverlap(train, csr([[2, 3], [1], [0]], 4))).toEqual({ count: 2, example: [0, 2] });
    expect(countOverlap(train, csr([[1], [0], [2]], 4))).toEqual({ count: 0, example: undefined });
    expect(missingEntries(train, csr([[0], [1, 2], []], 4))).toEqual({ count: 1, example: [0, 2] });
    expect(Array.from(emptyRows(train))).toEqual([2]);
  });

  it('checks val/test overlap too, naming both splits and the file', () => {
    const e = failure(() =>
      checkSplitOverlap(
        { train, val: csr([[1], [], [3]], 4), test: csr([[3], [], [3]], 4) },
        { test: 'tst.npz' },
      ),
    );
    expect(e.code).toBe('SPLIT_OVERLAP');
    expect(e.message).toMatch(
      /val and test share 1 \(user, item\) pair, e\.g\. user 2, item 3 \(file tst\.npz\)/,
    );
    expect(e.details).toEqual({ splits: ['val', 'test'], count: 1, example: [2, 3] });
  });

  it('checks shapes and embedding rows', () => {
    expect(failure(() => checkSplitShapes({ train, test: csr([[0]], 4) })).message).toMatch(
      /test is 1×4 but train is 3×4/,
    );
    expect(() => checkSplitShapes({ train, test: csr([[], [], [3]], 4) })).not.toThrow();
    const e = failure(() =>
      checkEmbeddingRows({ rows: 2, cols: 8, data: new Float32Array(16) }, 3, 'user', 'u.npy'),
    );
    expect([e.code, e.details]).toEqual(['SHAPE_MISMATCH', { rows: 2, expected: 3, which: 'user' }]);
    expect(e.message).toMatch(/user embeddings have 2 rows but the dataset has 3 users.*u\.npy/);
  });
});
