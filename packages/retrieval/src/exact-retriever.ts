import { type Matrix, PromaxError } from '@promax/core';
import { TopKScorer, transposeMatrix } from '@promax/eval';
import type { EngineOptions } from '@promax/tensor';
import { l2NormalizeRows } from './normalize.js';
import type {
  RetrievalMetric,
  Retriever,
  RetrieverSearchOptions,
  RetrieverSearchResult,
} from './retriever.js';
import { emptySearchResult, validateSearch } from './search-input.js';
import { checkMatrix, checkPositiveInt, throwIfAborted } from './validate.js';

export interface ExactRetrieverSettings {
  /** onnxruntime settings (execution providers, threads). */
  engine?: EngineOptions;
  /** Queries scored per onnxruntime call (default 2048): bounds memory at about blockQueries × corpus rows floats. */
  blockQueries?: number;
}

/**
 * Exact top-k by brute force on onnxruntime-node: one MatMul + TopK per block of queries
 * (the kernel of `@promax/eval`'s `TopKScorer`), exclusion lists applied without a dense mask.
 * Ties go to the lower corpus row.
 */
export class ExactRetriever implements Retriever {
  readonly specificationVersion = 'v1' as const;
  readonly provider = 'exact-onnx';
  readonly exact = true;
  readonly supportedMetrics: readonly RetrievalMetric[] = ['cosine', 'dot'];
  private readonly scorer: TopKScorer;
  private raw: Matrix | undefined;
  private unit: Matrix | undefined;
  /** The searched corpus (raw or unit rows) transposed once per metric, not once per search. */
  private transposed: Partial<Record<RetrievalMetric, Float32Array>> = {};

  constructor(settings: ExactRetrieverSettings = {}) {
    for (const key of Object.keys(settings)) {
      if (key !== 'engine' && key !== 'blockQueries') {
        throw new PromaxError({
          code: 'INVALID_CONFIG',
          field: key,
          message: `unknown exact retriever setting '${key}'`,
          fix: 'use engine and/or blockQueries',
        });
      }
    }
    if (settings.blockQueries !== undefined) checkPositiveInt(settings.blockQueries, 'blockQueries');
    this.scorer = new TopKScorer({ engine: settings.engine, chunkUsers: settings.blockQueries });
  }

  get size(): number {
    return this.raw?.rows ?? 0;
  }

  get dimension(): number {
    return this.raw?.cols ?? 0;
  }

  async index(corpus: Matrix): Promise<void> {
    checkMatrix(corpus, 'corpus', { minRows: 1 });
    this.raw = { rows: corpus.rows, cols: corpus.cols, data: corpus.data.slice() };
    this.unit = undefined;
    this.transposed = {};
  }

  async doSearch(options: RetrieverSearchOptions): Promise<RetrieverSearchResult> {
    const { queries, k, exclude, metric, signal } = options;
    validateSearch(options, this.raw, this.supportedMetrics);
    const raw = this.raw as Matrix;
    const q = queries.rows;
    const result = emptySearchResult(q, k);
    const { indices, scores, counts } = result;
    if (q === 0) return result;

    let corpus = raw;
    let query = queries;
    if (metric === 'cosine') {
      this.unit ??= l2NormalizeRows(raw);
      corpus = this.unit;
      query = l2NormalizeRows(queries);
    }
    this.transposed[metric] ??= transposeMatrix(corpus);
    await this.scorer.forEachTopK({
      userEmb: query,
      itemEmb: corpus,
      itemsTransposed: this.transposed[metric],
      users: Int32Array.from({ length: q }, (_, i) => i),
      k,
      exclude,
      visit: (row, items, rowScores, count) => {
        indices.set(items.subarray(0, count), row * k);
        scores.set(rowScores.subarray(0, count), row * k);
        counts[row] = count;
      },
      onChunk: () => throwIfAborted(signal, 'retrieval'),
    });
    return result;
  }

  async release(): Promise<void> {
    this.transposed = {};
    await this.scorer.release();
  }
}

/** Creates the default exact retriever (onnxruntime-node, CPU unless `engine` says otherwise). */
export function createExactRetriever(settings: ExactRetrieverSettings = {}): ExactRetriever {
  return new ExactRetriever(settings);
}
