// Public surface of @promax/tensor: graph building (GraphBuilder), differentiation and compilation
// (compileTraining / compileInference), parameters and optimisers, sparse-graph helpers, and the
// raw ONNX encoder and sessions. Test helpers live in '@promax/tensor/test'.
export { gradients } from './autodiff/gradients.js';
export type { FeedData, FeedMap, FeedValue } from './compile/feeds.js';
export type { LoweredInput, LoweredModel } from './compile/lower.js';
export { lowerGraph } from './compile/lower.js';
export { optimizeGraph } from './compile/optimize.js';
export type { CompileOptions, InferenceSpec, TrainingResult, TrainingSpec } from './compile/program.js';
export {
  compileInference,
  compileTraining,
  defaultGraphCache,
  InferenceProgram,
  LARGE_CONSTANT_BYTES,
  TrainingProgram,
} from './compile/program.js';
export type { Adjacency, AdjacencyOptions, MatMulOptions, TensorLike } from './graph/builder.js';
export { GraphBuilder } from './graph/builder.js';
export type { Dim, Shape } from './graph/dims.js';
export { formatShape } from './graph/dims.js';
export { edgeSubset } from './graph/edge-subset.js';
export type {
  Attrs,
  AttrValue,
  ConstantData,
  DType,
  GradContext,
  GraphNode,
  LowerContext,
  OpDef,
  OutputSpec,
  ValueHints,
} from './graph/ir.js';
export { SymbolicTensor } from './graph/ir.js';
export type { LayerPropagationOptions } from './graph/propagation.js';
export { layerPropagation } from './graph/propagation.js';
export type { AdjacencyData, BipartiteAdjacencyOptions } from './graph-data/adjacency.js';
export { adjacencyFeeds, normalizedBipartiteAdjacency } from './graph-data/adjacency.js';
export type { EdgeSubsetBuffers } from './graph-data/edge-subset.js';
export { edgeSubsetBuffers, edgeSubsetFeeds } from './graph-data/edge-subset.js';
export type {
  AttributeValue,
  Dim as OnnxDim,
  GraphDef,
  ModelDef,
  NodeDef,
  OnnxDType,
  TensorInit,
  ValueInfo,
} from './onnx/model-proto.js';
export { encodeModel, OnnxDataType } from './onnx/model-proto.js';
export type { EngineOptions, Feeds, OrtTensor } from './session.js';
export {
  CompiledGraph,
  compileModel,
  compileModelBytes,
  float32Tensor,
  GraphCache,
  int32Tensor,
  int64Tensor,
} from './session.js';
export type { Initializer } from './train/init.js';
export { constantInit, fans, normalInit, uniformInit, xavierNormal, xavierUniform } from './train/init.js';
export type { AdamOptions, Gradients, Optimizer, SgdOptions } from './train/optimizers.js';
export { Adam, adamKernel, Sgd } from './train/optimizers.js';
export { ParameterStore } from './train/parameter-store.js';
