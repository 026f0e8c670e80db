import type { Matrix } from '@promax/core';
import { type RecallAgainstExact, recallAgainstExact } from './recall.js';
import type {
  RetrievalMetric,
  Retriever,
  RetrieverSearchOptions,
  RetrieverSearchResult,
} from './retriever.js';

export interface RecallProbeOptions {
  /** The exact retriever to compare with (indexed alongside; released with the probe). */
  exact: Retriever;
  /** Queries checked per search (default 500). */
  sample?: number;
  /** Called after each probed search. */
  onReport?: (report: RecallProbeReport) => void;
}

export interface RecallProbeReport extends RecallAgainstExact {
  provider: string;
  metric: RetrievalMetric;
  /** Rows of the corpus searched. */
  corpus: number;
}

/** A retriever that also measures its recall against exact search on every search. */
export interface ProbedRetriever extends Retriever {
  /** One report per `doSearch`, in order. */
  readonly reports: readonly RecallProbeReport[];
}

/**
 * Wraps an approximate retriever so that every search also reports recall@k against exact
 * search on a sample of its queries (`recallAgainstExact`): callers that only see a `Retriever`
 * (candidate retrieval for A′, profile retrieval) then report ANN quality without changes.
 */
export function withRecallProbe(inner: Retriever, options: RecallProbeOptions): ProbedRetriever {
  const reports: RecallProbeReport[] = [];
  const { exact } = options;
  return {
    specificationVersion: 'v1',
    get provider() {
      return inner.provider;
    },
    get exact() {
      return inner.exact;
    },
    get supportedMetrics() {
      return inner.supportedMetrics;
    },
    get size() {
      return inner.size;
    },
    get dimension() {
      return inner.dimension;
    },
    reports,
    async index(corpus: Matrix): Promise<void> {
      await inner.index(corpus);
      await exact.index(corpus);
    },
    async doSearch(o: RetrieverSearchOptions): Promise<RetrieverSearchResult> {
      const result = await inner.doSearch(o);
      const r = await recallAgainstExact({
        approximate: inner,
        exact,
        queries: o.queries,
        k: o.k,
        metric: o.metric,
        exclude: o.exclude,
        sample: options.sample,
      });
      const report = { ...r, provider: inner.provider, metric: o.metric, corpus: inner.size };
      reports.push(report);
      options.onReport?.(report);
      return result;
    },
    async release(): Promise<void> {
      await inner.release();
      await exact.release();
    },
  };
}
