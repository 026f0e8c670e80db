import type { CsrMatrix, Rng } from '@promax/core';

/**
 * Keeps each stored entry of `m` independently with probability 1 − rate (one draw per entry, in
 * row order). The result is a canonical binary CSR of the same shape.
 */
export function dropEdges(m: CsrMatrix, rate: number, rng: Rng): CsrMatrix {
  const nnz = m.indptr[m.rows];
  const indptr = new Int32Array(m.rows + 1);
  const kept = new Int32Array(nnz);
  let w = 0;
  for (let r = 0; r < m.rows; r++) {
    for (let k = m.indptr[r]; k < m.indptr[r + 1]; k++) {
      if (rng.nextFloat() >= rate) kept[w++] = m.indices[k];
    }
    indptr[r + 1] = w;
  }
  return { rows: m.rows, cols: m.cols, indptr, indices: kept.slice(0, w) };
}
