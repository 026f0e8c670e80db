import { type CsrMatrix, type Matrix, PromaxError } from '@promax/core';
import type { RetrievalMetric, Retriever } from './retriever.js';

export interface RecallAgainstExactInput {
  /** The retriever under test (e.g. an ANN index), already indexed. */
  approximate: Retriever;
  /** An exact retriever over the same corpus, already indexed. */
  exact: Retriever;
  queries: Matrix;
  k: number;
  metric: RetrievalMetric;
  exclude?: CsrMatrix;
  /** Queries to check, spread evenly over `queries` (default 500; all when fewer). */
  sample?: number;
}

export interface RecallAgainstExact {
  /** Mean over the sampled queries of |approx top-k ∩ exact top-k| / |exact top-k|. */
  recall: number;
  k: number;
  /** Queries checked. */
  queries: number;
  /** Wall time of the approximate and the exact search of the sample. */
  approximateMs: number;
  exactMs: number;
}

/**
 * Recall@k of an approximate retriever against exact search on a sample of queries: the number
 * every run that uses an ANN index reports, so a bad index setting is seen, not guessed.
 */
export async function recallAgainstExact(input: RecallAgainstExactInput): Promise<RecallAgainstExact> {
  const { approximate, exact, queries, k, metric, exclude } = input;
  const sample = input.sample ?? 500;
  if (!(Number.isInteger(sample) && sample >= 1)) {
    throw new PromaxError({
      code: 'INVALID_ARGUMENT',
      field: 'sample',
      message: `sample must be an integer ≥ 1, got ${sample}`,
    });
  }
  const q = queries.rows;
  const n = Math.min(q, sample);
  const rows = Int32Array.from({ length: n }, (_, r) => Math.floor((r * q) / n));
  const d = queries.cols;
  const sub: Matrix = { rows: n, cols: d, data: new Float32Array(n * d) };
  for (let r = 0; r < n; r++) sub.data.set(queries.data.subarray(rows[r] * d, rows[r] * d + d), r * d);
  let subExclude: CsrMatrix | undefined;
  if (exclude) {
    const indptr = new Int32Array(n + 1);
    for (let r = 0; r < n; r++)
      indptr[r + 1] = indptr[r] + exclude.indptr[rows[r] + 1] - exclude.indptr[rows[r]];
    const indices = new Int32Array(indptr[n]);
    for (let r = 0; r < n; r++)
      indices.set(exclude.indices.subarray(exclude.indptr[rows[r]], exclude.indptr[rows[r] + 1]), indptr[r]);
    subExclude = { rows: n, cols: exclude.cols, indptr, indices };
  }
  const t0 = performance.now();
  const got = await approximate.doSearch({ queries: sub, k, metric, exclude: subExclude });
  const t1 = performance.now();
  const want = await exact.doSearch({ queries: sub, k, metric, exclude: subExclude });
  const t2 = performance.now();
  let sum = 0;
  let counted = 0;
  for (let r = 0; r < n; r++) {
    const truth = new Set<number>();
    for (let j = 0; j < want.counts[r]; j++) truth.add(want.indices[r * k + j]);
    if (truth.size === 0) continue;
    let hit = 0;
    for (let j = 0; j < got.counts[r]; j++) if (truth.has(got.indices[r * k + j])) hit++;
    sum += hit / truth.size;
    counted++;
  }
  return {
    recall: counted > 0 ? sum / counted : 1,
    k,
    queries: n,
    approximateMs: t1 - t0,
    exactMs: t2 - t1,
  };
}
