export { encodeModel, OnnxDataType } from './onnx/model-proto.js';
export type {
  AttributeValue,
  Dim,
  GraphDef,
  ModelDef,
  NodeDef,
  OnnxDType,
  TensorInit,
  ValueInfo,
} from './onnx/model-proto.js';
export { ProtoWriter } from './onnx/protobuf.js';
export {
  CompiledGraph,
  GraphCache,
  compileModel,
  float32Tensor,
  int32Tensor,
  int64Tensor,
  ort,
} from './session.js';
export type { EngineOptions, Feeds, OrtTensor } from './session.js';
