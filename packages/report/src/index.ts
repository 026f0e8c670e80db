// Reports of finished runs: run directories in, Markdown + SVG out (no printing; the CLI renders).
export type { BuildReportOptions, BuildReportResult, Gain, RunGroup } from './build-report.js';
export {
  baseGroupOf,
  buildReport,
  gainCell,
  gainOf,
  groupRuns,
  REPORT_METRICS,
  readProfileRetrieval,
} from './build-report.js';
export { markdownTable } from './markdown.js';
export type { ReferenceCurve, ReferenceDataset, ReferenceFamily, ReferenceRun } from './reference.js';
export {
  FAMILY_LABEL,
  findReferenceRun,
  loadReferenceCurve,
  loadReferenceSummary,
  locateReferenceLogs,
  REFERENCE_FAMILIES,
  referenceDataset,
} from './reference.js';
export type { RunComponents, RunInfo } from './run-dir.js';
export {
  datasetLoader,
  findRunDirs,
  methodLabel,
  readRun,
  readRunConfig,
  resolveDatasetSource,
  runLabel,
} from './run-dir.js';
export type { SparsityGroup } from './sparsity.js';
export { degreeQuartileGroups, evaluatedUsers, metricsByGroup } from './sparsity.js';
export type { BarChartOptions, BarSeries, LineChartOptions, LineSeries } from './svg.js';
export { barChart, lineChart, PALETTE } from './svg.js';
