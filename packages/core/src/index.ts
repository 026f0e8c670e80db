export { resolveApiKey } from './api-key.js';
export type { CooInput, CsrBuildReport, CsrFromCooOptions, CsrMatrix } from './csr.js';
export {
  assertCsr,
  csrColDegrees,
  csrFromCoo,
  csrHas,
  csrNnz,
  csrRow,
  csrRowDegrees,
  csrToCoo,
  csrTranspose,
} from './csr.js';
export type { FixAudience, PromaxErrorCode, PromaxErrorOptions } from './errors.js';
export { ensure, PromaxError } from './errors.js';
export type { FsAction } from './fs-errors.js';
export { errnoCode, fsError, withFsErrors } from './fs-errors.js';
export type {
  MethodBatch,
  MethodDataset,
  MethodFeed,
  MethodGraphView,
  MethodInputKind,
  MethodInputSpec,
  MethodInputs,
  MethodInputType,
  MethodLossContext,
  MethodModelInfo,
  MethodPrepareOptions,
  MethodRunReport,
  MethodScoreContext,
  NeighbourSearch,
  PreparedMethodV1,
  RecommenderMethodDefinition,
  RecommenderMethodSpecificationVersion,
  RecommenderMethodV1,
  TunableKind,
} from './method-spec.js';
export { assertRecommenderMethodV1, missingInputError } from './method-spec.js';
export type {
  AuxiliaryLossOptions,
  BatchTensors,
  EncodeOptions,
  EncodeResult,
  GraphNormalization,
  ModelCapabilities,
  ModelConstantSpec,
  ModelConstantsOptions,
  ModelDims,
  ParameterInitializer,
  ParameterRole,
  ParameterSpec,
  RecommenderModelDefinition,
  RecommenderModelSpecificationVersion,
  RecommenderModelV1,
  StochasticEdgeMaskSpec,
  StochasticGraphSpec,
  StochasticInputSpec,
  StochasticSchedule,
  StochasticTensorSpec,
  StochasticValues,
} from './model-spec.js';
export {
  assertModelConstants,
  assertParameterSpecs,
  assertRecommenderModelV1,
  parseModelSettings,
  requireGraph,
} from './model-spec.js';
export type { AnyTypedArray, DType, Matrix, NdArray, TypedArrayFor } from './ndarray.js';
export { shapeSize } from './ndarray.js';
export type { ProgressEvent, ProgressHandler } from './progress.js';
export { noProgress } from './progress.js';
export { createRng, Rng } from './rng.js';
export type { ConfigIssue, ParseSettingsOptions } from './settings.js';
export { closestKey, closestMatch, editDistance, objectKeysAt, parseSettings } from './settings.js';
