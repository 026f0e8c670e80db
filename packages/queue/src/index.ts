export { checkRedis, parseRedisUrl, redact } from './connection.js';
export type {
  EnqueueRunsOptions,
  EnqueueRunsResult,
  QueueRun,
  QueueWorker,
  RunWorkerOptions,
} from './run-queue.js';
export { enqueueRuns, jobIdOf, runWorker } from './run-queue.js';
