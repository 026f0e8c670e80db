export { addedCounts, popularityAugmentation, randomAugmentation, shuffleRows } from './ablation-arms.js';
export type {
  AugmentConfig,
  AugmentedGraph,
  AugmentManifest,
  AugmentQualityReport,
  BucketReport,
  BuildAugmentedGraphInput,
  RerankDescription,
  ResolvedAugmentConfig,
} from './augmented-graph.js';
export { buildAugmentedGraph, resolveAugmentConfig } from './augmented-graph.js';
export type { CandidateLists, CandidateSettings } from './candidates.js';
export { retrieveCandidates } from './candidates.js';
export type { ExactRetrieverSettings } from './exact-retriever.js';
export { createExactRetriever, ExactRetriever } from './exact-retriever.js';
export type { FaissFlatIndex, FaissModule, FaissRetrieverSettings } from './faiss-adapter.js';
export { createFaissRetriever, FaissRetriever } from './faiss-adapter.js';
export type { LlmRerankResult, RerankTexts } from './llm-reranker.js';
export { recordingReranker, rerankInputs, runLlmRerank } from './llm-reranker.js';
export { l2NormalizeRows } from './normalize.js';
export type { ProfileRetrievalInput, ProfileRetrievalReport } from './profile-retrieval.js';
export { evaluateProfileRetrieval } from './profile-retrieval.js';
export { expectedRandomMetrics } from './random-baseline.js';
export type { RecallAgainstExact, RecallAgainstExactInput } from './recall.js';
export { recallAgainstExact } from './recall.js';
export type { ProbedRetriever, RecallProbeOptions, RecallProbeReport } from './recall-probe.js';
export { withRecallProbe } from './recall-probe.js';
export type { Reranker, RerankIssue, RerankRequest } from './rerank.js';
export { validateRerankAnswer } from './rerank.js';
export type {
  RetrievalMetric,
  Retriever,
  RetrieverSearchOptions,
  RetrieverSearchResult,
} from './retriever.js';
export { validateCorpus, validateSearch } from './search-input.js';
export type { PercentileMethod, SparsityPlan, SparsityRule } from './sparsity-rule.js';
export { percentile, planSparsityShift, resolveSparsityRule } from './sparsity-rule.js';
