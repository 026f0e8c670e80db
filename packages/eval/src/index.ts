export { METRICS, MetricAccumulator, normaliseKs } from './metrics.js';
export type { MetricName } from './metrics.js';
export { TopKScorer } from './topk-kernel.js';
export { RankingEvaluator, evaluateRanking, recommendTopK } from './evaluate.js';
export type { EvaluateInput, EvaluateOptions, EvaluateResult } from './evaluate.js';
export { referenceEvaluate } from './reference.js';
