import { type CsrMatrix, type Matrix, PromaxError } from '@promax/core';

/**
 * AlphaRec's input rows [numUsers + numItems, D]: row u < numUsers is the mean of the item
 * profiles of u's TRAIN items (accumulated in float64; a user without train items gets zeros, as
 * the port's clamped count gives), row numUsers + i is item i's profile. Computed once per run:
 * the model reads it as a constant.
 */
export function alphaRecInput(train: CsrMatrix, items: Matrix): Float32Array {
  if (train.cols !== items.rows) {
    throw new PromaxError({
      code: 'SHAPE_MISMATCH',
      field: 'itemProfiles',
      message: `alpharec: the train matrix has ${train.cols} items but the item profiles have ${items.rows} rows`,
      fix: 'provide one item profile per item, in the dataset id order',
    });
  }
  const D = items.cols;
  const U = train.rows;
  const out = new Float32Array((U + items.rows) * D);
  const acc = new Float64Array(D);
  for (let u = 0; u < U; u++) {
    const s = train.indptr[u];
    const e = train.indptr[u + 1];
    if (s === e) continue;
    acc.fill(0);
    for (let q = s; q < e; q++) {
      const base = train.indices[q] * D;
      for (let c = 0; c < D; c++) acc[c] += items.data[base + c];
    }
    const inv = 1 / (e - s);
    for (let c = 0; c < D; c++) out[u * D + c] = acc[c] * inv;
  }
  out.set(items.data.subarray(0, items.rows * D), U * D);
  return out;
}
