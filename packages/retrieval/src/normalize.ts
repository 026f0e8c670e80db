import type { Matrix } from '@promax/core';

/**
 * Row-wise L2 normalisation (norms accumulated in float64). Zero rows stay zero, so their
 * cosine with anything is 0 rather than NaN. Writes into `out` when given (may alias the input).
 */
export function l2NormalizeRows(m: Matrix, out: Float32Array = new Float32Array(m.rows * m.cols)): Matrix {
  const { rows, cols, data } = m;
  for (let r = 0; r < rows; r++) {
    const o = r * cols;
    let ss = 0;
    for (let c = 0; c < cols; c++) ss += data[o + c] * data[o + c];
    const inv = ss > 0 ? 1 / Math.sqrt(ss) : 0;
    for (let c = 0; c < cols; c++) out[o + c] = data[o + c] * inv;
  }
  return { rows, cols, data: out };
}

/** Copies the listed rows of `m` into a new matrix, in the given order. */
export function selectRows(m: Matrix, rows: ArrayLike<number>): Matrix {
  const d = m.cols;
  const out = new Float32Array(rows.length * d);
  for (let r = 0; r < rows.length; r++) out.set(m.data.subarray(rows[r] * d, rows[r] * d + d), r * d);
  return { rows: rows.length, cols: d, data: out };
}
