import { type Matrix, PromaxError } from '@promax/core';
import type { RetrievalMetric, RetrieverSearchOptions, RetrieverSearchResult } from './retriever.js';
import { checkCsr, checkMatrix, checkPositiveInt, throwIfAborted } from './validate.js';

/**
 * The checks every `Retriever.index` makes, for implementations outside this package: a finite
 * row-major matrix with at least one row. Throws the PromaxErrors the conformance suite expects.
 */
export function validateCorpus(corpus: Matrix): void {
  checkMatrix(corpus, 'corpus', { minRows: 1 });
}

/**
 * The checks every `Retriever.doSearch` makes before searching (corpus present, metric, k,
 * finite queries of the corpus width, exclusion shape, abort), for implementations outside this
 * package. `corpus` is what was indexed (undefined before `index`).
 */
export function validateSearch(
  options: RetrieverSearchOptions,
  corpus: { rows: number; cols: number } | undefined,
  supported: readonly RetrievalMetric[],
): void {
  const { queries, k, exclude, metric, signal } = options;
  if (!corpus) {
    throw new PromaxError({
      code: 'INVALID_ARGUMENT',
      message: 'the retriever has no corpus',
      fix: 'call index(corpus) before doSearch',
    });
  }
  if (!supported.includes(metric)) {
    throw new PromaxError({
      code: 'INVALID_ARGUMENT',
      field: 'metric',
      message: `unknown metric '${String(metric)}'`,
      fix: `pass metric: ${supported.map((m) => `'${m}'`).join(' or ')}`,
    });
  }
  checkPositiveInt(k, 'k');
  checkMatrix(queries, 'queries');
  if (queries.cols !== corpus.cols) {
    throw new PromaxError({
      code: 'SHAPE_MISMATCH',
      field: 'queries',
      message: `queries have ${queries.cols} columns but the corpus has ${corpus.cols}`,
      fix: 'embed queries and corpus in the same space',
    });
  }
  if (exclude) checkCsr(exclude, 'exclude', queries.rows, corpus.rows, 'queries × corpus rows');
  throwIfAborted(signal, 'retrieval');
}

/** The result arrays of a search for `queries` rows, before any neighbour is written (ids −1, scores −∞). */
export function emptySearchResult(queries: number, k: number): RetrieverSearchResult {
  return {
    queries,
    k,
    indices: new Int32Array(queries * k).fill(-1),
    scores: new Float32Array(queries * k).fill(Number.NEGATIVE_INFINITY),
    counts: new Int32Array(queries),
  };
}
