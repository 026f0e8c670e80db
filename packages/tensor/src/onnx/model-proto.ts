import { ProtoWriter } from './protobuf.js';

/** ONNX TensorProto.DataType values. */
export const OnnxDataType = {
  float32: 1,
  uint8: 2,
  int8: 3,
  int32: 6,
  int64: 7,
  bool: 9,
  float64: 11,
} as const;
export type OnnxDType = keyof typeof OnnxDataType;

/** A dimension: a fixed size, or a symbolic name (batch sizes that vary between runs). */
export type Dim = number | string;

export interface ValueInfo {
  name: string;
  dtype: OnnxDType;
  shape?: readonly Dim[];
}

export type AttributeValue =
  | { type: 'float'; value: number }
  | { type: 'int'; value: number }
  | { type: 'string'; value: string }
  | { type: 'floats'; value: readonly number[] }
  | { type: 'ints'; value: readonly number[] }
  | { type: 'tensor'; value: TensorInit };

export interface NodeDef {
  op: string;
  inputs: readonly string[];
  outputs: readonly string[];
  name?: string;
  domain?: string;
  attributes?: Record<string, AttributeValue>;
}

/** A constant tensor stored in the model (raw little-endian bytes). */
export interface TensorInit {
  name: string;
  dtype: OnnxDType;
  dims: readonly number[];
  data: Float32Array | Float64Array | Int32Array | BigInt64Array | Uint8Array | Int8Array;
}

export interface GraphDef {
  name: string;
  inputs: readonly ValueInfo[];
  outputs: readonly ValueInfo[];
  nodes: readonly NodeDef[];
  initializers?: readonly TensorInit[];
}

export interface ModelDef {
  graph: GraphDef;
  /** Default opset of the ai.onnx domain. */
  opset?: number;
  producerName?: string;
}

const ATTR_TYPE = { float: 1, int: 2, string: 3, tensor: 4, floats: 6, ints: 7 } as const;

function writeTensor(w: ProtoWriter, t: TensorInit): void {
  for (const d of t.dims) w.int(1, d);
  w.int(2, OnnxDataType[t.dtype]);
  w.string(8, t.name);
  const d = t.data;
  w.bytes(9, new Uint8Array(d.buffer, d.byteOffset, d.byteLength));
}

function writeValueInfo(w: ProtoWriter, v: ValueInfo): void {
  w.string(1, v.name);
  w.message(2, (tp) =>
    tp.message(1, (tt) => {
      tt.int(1, OnnxDataType[v.dtype]);
      if (v.shape) {
        tt.message(2, (sh) => {
          for (const dim of v.shape ?? []) {
            sh.message(1, (dm) => (typeof dim === 'number' ? dm.int(1, dim) : dm.string(2, dim)));
          }
        });
      }
    }),
  );
}

function writeAttribute(w: ProtoWriter, name: string, a: AttributeValue): void {
  w.string(1, name);
  switch (a.type) {
    case 'float':
      w.float(2, a.value);
      break;
    case 'int':
      w.int(3, a.value);
      break;
    case 'string':
      w.string(4, a.value);
      break;
    case 'tensor':
      w.message(5, (t) => writeTensor(t, a.value));
      break;
    case 'floats':
      w.packedFloats(7, a.value);
      break;
    case 'ints':
      w.packedInts(8, a.value);
      break;
  }
  w.int(20, ATTR_TYPE[a.type]);
}

function writeNode(w: ProtoWriter, n: NodeDef): void {
  for (const i of n.inputs) w.string(1, i);
  for (const o of n.outputs) w.string(2, o);
  if (n.name) w.string(3, n.name);
  w.string(4, n.op);
  for (const [k, v] of Object.entries(n.attributes ?? {})) w.message(5, (a) => writeAttribute(a, k, v));
  if (n.domain) w.string(7, n.domain);
}

/** Serialises a model to ONNX protobuf bytes (IR version 8). */
export function encodeModel(model: ModelDef): Uint8Array {
  const w = new ProtoWriter(1024);
  w.int(1, 8); // ir_version
  w.string(2, model.producerName ?? 'promax');
  w.message(7, (g) => {
    for (const n of model.graph.nodes) g.message(1, (nw) => writeNode(nw, n));
    g.string(2, model.graph.name);
    for (const t of model.graph.initializers ?? []) g.message(5, (tw) => writeTensor(tw, t));
    for (const i of model.graph.inputs) g.message(11, (vw) => writeValueInfo(vw, i));
    for (const o of model.graph.outputs) g.message(12, (vw) => writeValueInfo(vw, o));
  });
  w.message(8, (o) => {
    o.string(1, '');
    o.int(2, model.opset ?? 18);
  });
  return w.finish();
}
