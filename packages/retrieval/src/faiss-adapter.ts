import { type Matrix, PromaxError } from '@promax/core';
import { l2NormalizeRows } from './normalize.js';
import type {
  RetrievalMetric,
  Retriever,
  RetrieverSearchOptions,
  RetrieverSearchResult,
} from './retriever.js';
import { emptySearchResult, validateSearch } from './search-input.js';
import { checkMatrix, checkPositiveInt, throwIfAborted } from './validate.js';

/** The slice of faiss-node's flat index this adapter uses. */
export interface FaissFlatIndex {
  add(x: number[]): void;
  search(x: number[], k: number): { distances: number[]; labels: number[] };
  ntotal(): number;
}

/** The slice of the `faiss-node` module this adapter uses. */
export interface FaissModule {
  IndexFlatIP: new (dimension: number) => FaissFlatIndex;
}

export interface FaissRetrieverSettings {
  /**
   * The faiss-node module. Default: `await import('faiss-node')`, which must be installed by the
   * application (`pnpm add faiss-node`); it is deliberately not a dependency of this package.
   */
  module?: FaissModule;
  /** Queries per faiss search call (default 1024). */
  blockQueries?: number;
}

const INSTALL_FIX =
  'install the optional native package with `pnpm add faiss-node` (or use createExactRetriever)';

/**
 * A `Retriever` over a faiss flat inner-product index (cosine = inner product of L2-normalised
 * rows). Scores are exact, but faiss does not promise lower-id-first among equal scores, so
 * `exact` is false. Exclusions are applied by over-fetching k + (largest exclusion list in the
 * block) and skipping excluded ids.
 */
export class FaissRetriever implements Retriever {
  readonly specificationVersion = 'v1' as const;
  readonly provider = 'faiss-flat';
  readonly exact = false;
  readonly supportedMetrics: readonly RetrievalMetric[] = ['cosine', 'dot'];
  private readonly blockQueries: number;
  private raw: Matrix | undefined;
  private indexes: Partial<Record<RetrievalMetric, FaissFlatIndex>> = {};

  constructor(
    private readonly faiss: FaissModule,
    settings: { blockQueries?: number } = {},
  ) {
    if (settings.blockQueries !== undefined) checkPositiveInt(settings.blockQueries, 'blockQueries');
    this.blockQueries = settings.blockQueries ?? 1024;
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
    this.indexes = {};
  }

  private flatIndex(metric: RetrievalMetric, raw: Matrix): FaissFlatIndex {
    let idx = this.indexes[metric];
    if (!idx) {
      idx = new this.faiss.IndexFlatIP(raw.cols);
      idx.add(Array.from(metric === 'cosine' ? l2NormalizeRows(raw).data : raw.data));
      this.indexes[metric] = idx;
    }
    return idx;
  }

  async doSearch(options: RetrieverSearchOptions): Promise<RetrieverSearchResult> {
    const { queries, k, exclude, metric, signal } = options;
    validateSearch(options, this.raw, this.supportedMetrics);
    const raw = this.raw as Matrix;
    const q = queries.rows;
    const n = raw.rows;
    const d = raw.cols;
    const result = emptySearchResult(q, k);
    const { indices, scores, counts } = result;
    if (q === 0) return result;
    const index = this.flatIndex(metric, raw);
    const query = metric === 'cosine' ? l2NormalizeRows(queries) : queries;
    const excluded = new Uint8Array(n);
    for (let start = 0; start < q; start += this.blockQueries) {
      throwIfAborted(signal, 'retrieval');
      const end = Math.min(q, start + this.blockQueries);
      let extra = 0;
      if (exclude)
        for (let r = start; r < end; r++) extra = Math.max(extra, exclude.indptr[r + 1] - exclude.indptr[r]);
      const fetch = Math.min(n, k + extra);
      const found = index.search(Array.from(query.data.subarray(start * d, end * d)), fetch);
      for (let r = start; r < end; r++) {
        if (exclude)
          for (let p = exclude.indptr[r]; p < exclude.indptr[r + 1]; p++) excluded[exclude.indices[p]] = 1;
        let count = 0;
        const base = (r - start) * fetch;
        for (let j = 0; j < fetch && count < k; j++) {
          const id = found.labels[base + j];
          if (id < 0 || excluded[id]) continue;
          indices[r * k + count] = id;
          scores[r * k + count] = found.distances[base + j];
          count++;
        }
        counts[r] = count;
        if (exclude)
          for (let p = exclude.indptr[r]; p < exclude.indptr[r + 1]; p++) excluded[exclude.indices[p]] = 0;
      }
    }
    return result;
  }

  async release(): Promise<void> {
    this.indexes = {};
  }
}

/**
 * Creates a faiss-backed retriever. faiss-node is loaded on demand; when it cannot be loaded this
 * rejects with a PromaxError ('UNSUPPORTED_FORMAT') saying how to install it.
 */
export async function createFaissRetriever(settings: FaissRetrieverSettings = {}): Promise<FaissRetriever> {
  const faiss = settings.module ?? (await loadFaissNode());
  return new FaissRetriever(faiss, { blockQueries: settings.blockQueries });
}

async function loadFaissNode(): Promise<FaissModule> {
  // A variable specifier keeps TypeScript and bundlers from requiring the optional package.
  const specifier = 'faiss-node';
  let mod: Record<string, unknown>;
  try {
    mod = (await import(specifier)) as Record<string, unknown>;
  } catch (cause) {
    throw new PromaxError({
      code: 'UNSUPPORTED_FORMAT',
      field: 'faiss-node',
      message: `the faiss retriever needs the optional package faiss-node, which could not be loaded (${(cause as Error)?.message ?? String(cause)})`,
      fix: INSTALL_FIX,
      cause,
    });
  }
  const api =
    (typeof mod.IndexFlatIP === 'function' ? mod : (mod.default as Record<string, unknown> | undefined)) ??
    {};
  if (typeof api.IndexFlatIP !== 'function') {
    throw new PromaxError({
      code: 'UNSUPPORTED_FORMAT',
      field: 'faiss-node',
      message: 'the loaded faiss-node module has no IndexFlatIP export',
      fix: INSTALL_FIX,
    });
  }
  return api as unknown as FaissModule;
}
