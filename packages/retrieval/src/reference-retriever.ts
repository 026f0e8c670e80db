import { type Matrix, PromaxError } from '@promax/core';
import type {
  RetrievalMetric,
  Retriever,
  RetrieverSearchOptions,
  RetrieverSearchResult,
} from './retriever.js';
import { checkCsr, checkMatrix, checkPositiveInt } from './validate.js';

/** One recorded `doSearch` call of a reference retriever. */
export interface RecordedSearch {
  queries: number;
  k: number;
  metric: RetrievalMetric;
  excluded: number;
}

/**
 * A deliberately plain float64 brute-force retriever: scores every (query, row) pair in double
 * precision, sorts by (score desc, id asc). The oracle of the conformance cases and a recording
 * mock for downstream tests (`calls` lists every search). Not for speed.
 */
export class ReferenceRetriever implements Retriever {
  readonly specificationVersion = 'v1' as const;
  readonly provider = 'reference-float64';
  readonly exact = true;
  readonly supportedMetrics: readonly RetrievalMetric[] = ['cosine', 'dot'];
  readonly calls: RecordedSearch[] = [];
  private corpus: Matrix | undefined;

  get size(): number {
    return this.corpus?.rows ?? 0;
  }

  get dimension(): number {
    return this.corpus?.cols ?? 0;
  }

  async index(corpus: Matrix): Promise<void> {
    checkMatrix(corpus, 'corpus', { minRows: 1 });
    this.corpus = { rows: corpus.rows, cols: corpus.cols, data: corpus.data.slice() };
  }

  async doSearch(options: RetrieverSearchOptions): Promise<RetrieverSearchResult> {
    const corpus = this.corpus;
    if (!corpus) {
      throw new PromaxError({
        code: 'INVALID_ARGUMENT',
        message: 'the retriever has no corpus',
        fix: 'call index(corpus) first',
      });
    }
    const { queries, k, exclude, metric } = options;
    checkPositiveInt(k, 'k');
    checkMatrix(queries, 'queries');
    if (queries.cols !== corpus.cols) {
      throw new PromaxError({
        code: 'SHAPE_MISMATCH',
        field: 'queries',
        message: `queries have ${queries.cols} columns but the corpus has ${corpus.cols}`,
      });
    }
    if (exclude) checkCsr(exclude, 'exclude', queries.rows, corpus.rows);
    const ranked = referenceTopK(queries, corpus, k, metric, (r) =>
      exclude ? Array.from(exclude.indices.subarray(exclude.indptr[r], exclude.indptr[r + 1])) : [],
    );
    const q = queries.rows;
    const indices = new Int32Array(q * k).fill(-1);
    const scores = new Float32Array(q * k).fill(Number.NEGATIVE_INFINITY);
    const counts = new Int32Array(q);
    ranked.forEach((list, r) => {
      counts[r] = list.length;
      list.forEach((hit, j) => {
        indices[r * k + j] = hit.id;
        scores[r * k + j] = hit.score;
      });
    });
    this.calls.push({ queries: q, k, metric, excluded: exclude ? exclude.indptr[q] : 0 });
    return { queries: q, k, indices, scores, counts };
  }

  async release(): Promise<void> {}
}

/** Float64 brute-force top-k lists `{ id, score }` per query, ties by lower id. */
export function referenceTopK(
  queries: Matrix,
  corpus: Matrix,
  k: number,
  metric: RetrievalMetric,
  excluded: (query: number) => number[] = () => [],
): { id: number; score: number }[][] {
  const d = corpus.cols;
  const norm = (m: Matrix, r: number): number => {
    let s = 0;
    for (let c = 0; c < d; c++) s += m.data[r * d + c] ** 2;
    return Math.sqrt(s);
  };
  const out: { id: number; score: number }[][] = [];
  for (let r = 0; r < queries.rows; r++) {
    const skip = new Set(excluded(r));
    const qn = metric === 'cosine' ? norm(queries, r) : 1;
    const all: { id: number; score: number }[] = [];
    for (let i = 0; i < corpus.rows; i++) {
      if (skip.has(i)) continue;
      let s = 0;
      for (let c = 0; c < d; c++) s += queries.data[r * d + c] * corpus.data[i * d + c];
      if (metric === 'cosine') {
        const denom = qn * norm(corpus, i);
        s = denom > 0 ? s / denom : 0;
      }
      all.push({ id: i, score: s });
    }
    all.sort((a, b) => b.score - a.score || a.id - b.id);
    out.push(all.slice(0, k));
  }
  return out;
}

export function createReferenceRetriever(): ReferenceRetriever {
  return new ReferenceRetriever();
}
