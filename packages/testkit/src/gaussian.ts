import type { Matrix, Rng } from '@promax/core';

/** A rows × cols float32 matrix of standard normal draws from `rng` (row-major, in draw order). */
export function gaussianMatrix(rng: Rng, rows: number, cols: number): Matrix {
  return { rows, cols, data: Float32Array.from({ length: rows * cols }, () => rng.nextNormal()) };
}
