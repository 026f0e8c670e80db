export type { CheckpointMeta, IdMaps, LoadCheckpointOptions, SaveCheckpointInput } from './checkpoint.js';
export { checkStateMatches, loadCheckpoint, saveCheckpoint } from './checkpoint.js';
export type { ConfigIssue, SetByPathOptions, ValidateConfigOptions } from './config-validation.js';
export {
  applyOverrides,
  closestKey,
  editDistance,
  objectKeysAt,
  parseConfigValue,
  setByPath,
  validateConfig,
} from './config-validation.js';
export type { CollectEnvironmentOptions, EnvironmentInfo } from './environment.js';
export { collectEnvironment } from './environment.js';
export type {
  BatchIndices,
  ExtraLossContext,
  ExtraLossHook,
  GraphView,
  ModelTrainableData,
  ModelTrainableOptions,
  RecommenderModel,
} from './model-trainable.js';
export { createModelTrainable, MODEL_TRAINABLE_INPUTS, ModelTrainable } from './model-trainable.js';
export type { RunSeedsOptions, SeedsResult } from './multi-seed.js';
export { aggregateMetrics, formatMeanStd, numericLeaves, runSeeds } from './multi-seed.js';
export type { TripleSamplerOptions } from './negative-sampler.js';
export { sampleNegatives, TripleSampler } from './negative-sampler.js';
export type { PreparedPromax, PreparePromaxOptions, PromaxComponents } from './promax.js';
export { preparePromax } from './promax.js';
export type { CheckedRun, CreateRunDirectoryOptions, RunManifest } from './run-directory.js';
export { checkRunDirectory, RUN_FILES, RunDirectory } from './run-directory.js';
export type { MeanStd } from './stats.js';
export { meanStd, median } from './stats.js';
export type { EvaluationRecord, StopReason, TrainData, TrainOptions, TrainResult } from './train.js';
export { train } from './train.js';
export type { StateDict, TensorState, Trainable, TripleBatch } from './trainable.js';
export { assertStateDict, cloneState } from './trainable.js';
export type { TrainerConfig, TrainerConfigInput } from './trainer-config.js';
export { parseConfig, trainerConfigSchema } from './trainer-config.js';
