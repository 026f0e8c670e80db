import { type CsrMatrix, csrHas, csrNnz, type Matrix, PromaxError } from '@promax/core';

/** How many (row, col) entries two matrices share, with one example. */
export interface OverlapResult {
  count: number;
  example?: [number, number];
}

/** Entries present in both matrices (sorted-row merge, O(nnz)). */
export function countOverlap(a: CsrMatrix, b: CsrMatrix): OverlapResult {
  let count = 0;
  let example: [number, number] | undefined;
  const rows = Math.min(a.rows, b.rows);
  for (let r = 0; r < rows; r++) {
    let i = a.indptr[r];
    let j = b.indptr[r];
    const ie = a.indptr[r + 1];
    const je = b.indptr[r + 1];
    while (i < ie && j < je) {
      const x = a.indices[i];
      const y = b.indices[j];
      if (x === y) {
        count++;
        example ??= [r, x];
        i++;
        j++;
      } else if (x < y) i++;
      else j++;
    }
  }
  return { count, example };
}

/** Entries of `sub` missing from `sup` (e.g. train edges an augmented matrix lacks). */
export function missingEntries(sub: CsrMatrix, sup: CsrMatrix): OverlapResult {
  let count = 0;
  let example: [number, number] | undefined;
  for (let r = 0; r < sub.rows; r++) {
    for (let k = sub.indptr[r]; k < sub.indptr[r + 1]; k++) {
      const c = sub.indices[k];
      if (r >= sup.rows || !csrHas(sup, r, c)) {
        count++;
        example ??= [r, c];
      }
    }
  }
  return { count, example };
}

/** Rows with no entries. */
export function emptyRows(m: CsrMatrix): Int32Array {
  let n = 0;
  for (let r = 0; r < m.rows; r++) if (m.indptr[r + 1] === m.indptr[r]) n++;
  const out = new Int32Array(n);
  let w = 0;
  for (let r = 0; r < m.rows; r++) if (m.indptr[r + 1] === m.indptr[r]) out[w++] = r;
  return out;
}

/** Rows with at least one entry. */
export function nonEmptyRows(m: CsrMatrix): number {
  return m.rows - emptyRows(m).length;
}

export type SplitName = 'train' | 'val' | 'test' | 'aug';

export interface SplitMatrices {
  train: CsrMatrix;
  val?: CsrMatrix;
  test: CsrMatrix;
  aug?: CsrMatrix;
}

/** All splits must share one users × items shape; throws 'SHAPE_MISMATCH' naming both files. */
export function checkSplitShapes(
  splits: SplitMatrices,
  files: Partial<Record<SplitName, string>> = {},
): void {
  const ref = splits.train;
  for (const name of ['val', 'test', 'aug'] as const) {
    const m = splits[name];
    if (!m || (m.rows === ref.rows && m.cols === ref.cols)) continue;
    throw new PromaxError({
      code: 'SHAPE_MISMATCH',
      message: `${name} is ${m.rows}×${m.cols} but train is ${ref.rows}×${ref.cols} (users × items)${files[name] ? `: ${files[name]} vs ${files.train}` : ''}`,
      file: files[name],
      fix: 'all splits must be indexed by the same users and items; re-export them with one shape',
      details: { split: name, shape: [m.rows, m.cols], trainShape: [ref.rows, ref.cols] },
    });
  }
}

/**
 * Held-out splits must not repeat training pairs, nor each other: throws 'SPLIT_OVERLAP' with
 * the count and an example pair.
 */
export function checkSplitOverlap(
  splits: SplitMatrices,
  files: Partial<Record<SplitName, string>> = {},
): void {
  const pairs: [SplitName, SplitName][] = [
    ['train', 'test'],
    ['train', 'val'],
    ['val', 'test'],
  ];
  for (const [a, b] of pairs) {
    const ma = splits[a];
    const mb = splits[b];
    if (!ma || !mb) continue;
    const { count, example } = countOverlap(ma, mb);
    if (count === 0) continue;
    throw new PromaxError({
      code: 'SPLIT_OVERLAP',
      message: `${a} and ${b} share ${count} (user, item) pair${count === 1 ? '' : 's'}, e.g. user ${example?.[0]}, item ${example?.[1]}`,
      file: files[b],
      fix: `remove the ${b} pairs from ${a}: evaluation on pairs seen in training is meaningless`,
      details: { splits: [a, b], count, example },
    });
  }
}

/** The embedding table must have one row per user (or item): throws 'SHAPE_MISMATCH'. */
export function checkEmbeddingRows(
  emb: Matrix,
  expected: number,
  which: 'user' | 'item',
  file?: string,
): void {
  if (emb.rows === expected) return;
  throw new PromaxError({
    code: 'SHAPE_MISMATCH',
    message: `${which} embeddings have ${emb.rows} rows but the dataset has ${expected} ${which}s`,
    file,
    fix: `use embeddings with one row per ${which}, in dense-id order`,
    details: { rows: emb.rows, expected, which },
  });
}

/** Stored entries per matrix, for reports. */
export function nnzOf(m: CsrMatrix | undefined): number {
  return m ? csrNnz(m) : 0;
}
