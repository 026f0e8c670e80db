// Test helpers for code that reads run directories: `@promax/report/test`.
export type { FakeRunOptions } from './fake-runs.test-util.js';
export { writeFakeRun, xmlProblems } from './fake-runs.test-util.js';
