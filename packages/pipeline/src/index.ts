export type { CheckpointMeta, IdMaps, LoadCheckpointOptions, SaveCheckpointInput } from './checkpoint.js';
export { checkStateMatches, loadCheckpoint, saveCheckpoint } from './checkpoint.js';
export type { SetByPathOptions } from './config-validation.js';
export { applyOverrides, getByPath, parseConfigValue, setByPath } from './config-validation.js';
export type { CollectEnvironmentOptions, EnvironmentInfo } from './environment.js';
export { collectEnvironment } from './environment.js';
export type {
  ExperimentOptions,
  ExperimentResult,
  ExperimentResults,
  MethodChoice,
  MethodRecord,
  ModelChoice,
  ResolvedExperiment,
  ResolvedPlugin,
} from './experiment.js';
export { dataChecksums, datasetInputs, resolveExperiment, runExperiment } from './experiment.js';
export type {
  BatchIndices,
  GraphView,
  ModelTrainableData,
  ModelTrainableOptions,
  PreparedMethod,
  RecommenderMethod,
  RecommenderModel,
  TrainableMethod,
} from './model-trainable.js';
export { createModelTrainable, MODEL_TRAINABLE_INPUTS, ModelTrainable } from './model-trainable.js';
export type { RunSeedsOptions, SeedsResult } from './multi-seed.js';
export { aggregateMetrics, formatMeanStd, numericLeaves, runSeeds } from './multi-seed.js';
export type { TripleSamplerOptions } from './negative-sampler.js';
export { sampleBatchNegatives, sampleNegatives, TripleSampler } from './negative-sampler.js';
export type { ResolvedPluginSettings, SettingsOwner } from './plugin-settings.js';
export { deepMerge, presetFor, resolvePluginSettings } from './plugin-settings.js';
export type {
  AnyMethodDefinition,
  AnyModelDefinition,
  FindPluginsOptions,
  LoadedPlugin,
  PluginKind,
  PluginPackage,
} from './plugins.js';
export {
  findPluginPackages,
  importPlugin,
  loadPlugin,
  loadPlugins,
  pluginNameInfo,
  pluginPackageNames,
} from './plugins.js';
export type { ExperimentProtocol, ProtocolDefaults } from './protocol.js';
export { EXPERIMENT_PROTOCOLS, protocolDefaults } from './protocol.js';
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
export type {
  SearchDimension,
  SearchSpace,
  SearchSpaceInput,
  Trial,
  TrialOutcome,
  TrialRecord,
  TrialSettings,
  TrialStore,
  TuneOptions,
  TuneResult,
} from './tune.js';
export {
  defaultSearchSpace,
  parseSearchSpace,
  rungBudgets,
  sampleTrials,
  searchSpaceSchema,
  settingsKey,
  tunableRange,
  tune,
} from './tune.js';
