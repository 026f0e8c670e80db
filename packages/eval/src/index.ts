export type { EvaluateInput, EvaluateOptions, EvaluateResult } from './evaluate.js';
export { evaluateRanking, RankingEvaluator, recommendTopK } from './evaluate.js';
export type { MetricName } from './metrics.js';
export { METRICS, MetricAccumulator, normaliseKs } from './metrics.js';
export { referenceEvaluate } from './reference.js';
export type {
  Interval,
  MeanStd,
  PairedComparison,
  PairedTTest,
  SeededValue,
  SeedPairedTest,
  WilcoxonTest,
} from './stats.js';
export {
  aggregateMetrics,
  comparePaired,
  formatPaired,
  formatPValue,
  meanStd,
  median,
  normalSf,
  pairedBySeed,
  pairedTTest,
  studentTCdf,
  studentTQuantile,
  tInterval,
  wilcoxonSignedRank,
} from './stats.js';
export { TopKScorer, transposeMatrix } from './topk-kernel.js';
