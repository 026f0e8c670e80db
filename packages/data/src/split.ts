import { type CsrMatrix, csrNnz, PromaxError, Rng } from '@promax/core';

export interface SplitOptions {
  /** Fractions of interactions per part, summing to 1 (default [0.6, 0.2, 0.2]: train/val/test). */
  ratios?: readonly number[];
  /** Seed of the shuffle (default 2025). */
  seed?: number;
  /**
   * Guarantee every user with any interaction keeps one in the first part (default true), as
   * RLMRec's splits do. One random interaction per user is pinned to part 0 and the rest fill
   * the parts so the overall sizes still match the ratios (when the pinned ones fit in part 0).
   */
  keepOneTrainPerUser?: boolean;
}

/** Splits `n` into parts proportional to `ratios` (largest remainder, deterministic ties). */
export function partSizes(n: number, ratios: readonly number[]): number[] {
  const exact = ratios.map((r) => r * n);
  const sizes = exact.map(Math.floor);
  let left = n - sizes.reduce((a, b) => a + b, 0);
  const byRemainder = exact
    .map((x, i) => [x - Math.floor(x), i] as const)
    .sort((a, b) => b[0] - a[0] || a[1] - b[1]);
  for (let j = 0; left > 0; j = (j + 1) % sizes.length, left--) sizes[byRemainder[j][1]]++;
  return sizes;
}

/**
 * Seeded random per-interaction split of an interaction matrix into parts (e.g. 60/20/20
 * train/val/test). Each part keeps the input's shape, sorted rows and values.
 */
export function splitInteractions(m: CsrMatrix, options: SplitOptions = {}): CsrMatrix[] {
  const ratios = options.ratios ?? [0.6, 0.2, 0.2];
  const sum = ratios.reduce((a, b) => a + b, 0);
  if (ratios.length < 2 || ratios.length > 255 || ratios.some((r) => !(r >= 0)) || Math.abs(sum - 1) > 1e-9) {
    throw new PromaxError({
      code: 'INVALID_ARGUMENT',
      message: `split ratios [${ratios.join(', ')}] must be 2 or more non-negative fractions summing to 1`,
      field: 'ratios',
      fix: 'pass e.g. [0.6, 0.2, 0.2]',
    });
  }
  const nnz = csrNnz(m);
  const rowOf = new Int32Array(nnz);
  for (let r = 0; r < m.rows; r++) rowOf.fill(r, m.indptr[r], m.indptr[r + 1]);
  const order = new Int32Array(nnz);
  for (let k = 0; k < nnz; k++) order[k] = k;
  new Rng(options.seed ?? 2025).shuffle(order);

  const UNSET = 255;
  const part = new Uint8Array(nnz).fill(UNSET);
  const quota = partSizes(nnz, ratios);
  if (options.keepOneTrainPerUser ?? true) {
    const seen = new Uint8Array(m.rows);
    let pinned = 0;
    for (let t = 0; t < nnz; t++) {
      const k = order[t];
      if (!seen[rowOf[k]]) {
        seen[rowOf[k]] = 1;
        part[k] = 0;
        pinned++;
      }
    }
    quota[0] = Math.max(0, quota[0] - pinned);
  }
  let pi = 0;
  for (let t = 0; t < nnz; t++) {
    const k = order[t];
    if (part[k] !== UNSET) continue;
    while (pi < ratios.length - 1 && quota[pi] <= 0) pi++;
    part[k] = pi;
    quota[pi]--;
  }
  return ratios.map((_, j) => selectEntries(m, part, j));
}

/** The sub-matrix of entries whose `part` equals `j`. */
function selectEntries(m: CsrMatrix, part: Uint8Array, j: number): CsrMatrix {
  const indptr = new Int32Array(m.rows + 1);
  let n = 0;
  for (let r = 0; r < m.rows; r++) {
    for (let k = m.indptr[r]; k < m.indptr[r + 1]; k++) if (part[k] === j) n++;
    indptr[r + 1] = n;
  }
  const indices = new Int32Array(n);
  const data = m.data ? new Float32Array(n) : undefined;
  let w = 0;
  for (let k = 0; k < part.length; k++) {
    if (part[k] !== j) continue;
    indices[w] = m.indices[k];
    if (data && m.data) data[w] = m.data[k];
    w++;
  }
  return { rows: m.rows, cols: m.cols, indptr, indices, data };
}
