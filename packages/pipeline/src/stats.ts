// The statistics live in @promax/eval (one module for every report and the tuner); re-exported
// here so callers of @promax/pipeline keep working.
export type { MeanStd } from '@promax/eval';
export { aggregateMetrics, meanStd, median } from '@promax/eval';
