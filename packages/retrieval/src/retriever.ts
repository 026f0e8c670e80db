import type { CsrMatrix, Matrix } from '@promax/core';

/** How a query and a corpus row are compared. */
export type RetrievalMetric = 'cosine' | 'dot';

export interface RetrieverSearchOptions {
  /** Query vectors, one per row (q × d, row-major float32). */
  queries: Matrix;
  /** Results per query (≥ 1). When fewer corpus rows remain, the tail is padded. */
  k: number;
  /**
   * Per-query exclusion lists (q × corpus rows): the columns of row r are never returned for
   * query r (e.g. a user's train items). Rows need not be sorted.
   */
  exclude?: CsrMatrix;
  /**
   * 'dot' ranks by ⟨query, row⟩; 'cosine' by the dot product of L2-normalised vectors. A zero
   * vector (query or corpus row) has cosine 0 with everything, so a zero query ranks the corpus
   * in index order.
   */
  metric: RetrievalMetric;
  /** Aborts between query blocks with a PromaxError 'ABORTED'. */
  signal?: AbortSignal;
}

export interface RetrieverSearchResult {
  /** Number of queries q. */
  readonly queries: number;
  /** The k requested. */
  readonly k: number;
  /** q × k corpus row ids, best first; ties by lower id (exact retrievers); −1 pads the tail. */
  readonly indices: Int32Array;
  /** q × k similarity scores matching `indices`; −Infinity on padded slots. */
  readonly scores: Float32Array;
  /** Valid results per query (k unless the corpus minus exclusions has fewer rows). */
  readonly counts: Int32Array;
}

/**
 * Version 1 of the retriever spec. Implementations are created by factories
 * (`createExactRetriever`, `createFaissRetriever`) and prove themselves with the shared
 * conformance cases in `@promax/retrieval/test`.
 */
export interface Retriever {
  readonly specificationVersion: 'v1';
  /** Implementation id, e.g. 'exact-onnx' or 'faiss-flat'. */
  readonly provider: string;
  /** Whether results equal brute-force ranking (ties by lower id). */
  readonly exact: boolean;
  readonly supportedMetrics: readonly RetrievalMetric[];
  /** Rows indexed so far (0 before `index`). */
  readonly size: number;
  /** Dimension of the indexed corpus (0 before `index`). */
  readonly dimension: number;
  /** Replaces the indexed corpus. The matrix is read during the call; later changes to it are not seen. */
  index(corpus: Matrix): Promise<void>;
  doSearch(options: RetrieverSearchOptions): Promise<RetrieverSearchResult>;
  /** Frees native resources; the retriever may be indexed again afterwards. */
  release(): Promise<void>;
}
