export type { EvaluateInput, EvaluateOptions, EvaluateResult } from './evaluate.js';
export { evaluateRanking, RankingEvaluator, recommendTopK } from './evaluate.js';
export type { MetricName } from './metrics.js';
export { METRICS, MetricAccumulator, normaliseKs } from './metrics.js';
export { referenceEvaluate } from './reference.js';
export { TopKScorer } from './topk-kernel.js';
