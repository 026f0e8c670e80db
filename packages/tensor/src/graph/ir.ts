import type { AttributeValue } from '../onnx/model-proto.js';
import { type Dim, formatShape, type Shape } from './dims.js';

/** Element types of symbolic tensors. */
export type DType = 'float32' | 'int32' | 'int64' | 'bool';

/** Data of a constant tensor. */
export type ConstantData = Float32Array | Int32Array | BigInt64Array | Uint8Array;

/** Attribute values of graph nodes (plain data, so that nodes can be hashed and compared). */
export type AttrValue = number | string | boolean | null | readonly Dim[] | ConstantData;
export type Attrs = Readonly<Record<string, AttrValue>>;

/** Facts about a tensor's values that let composites pick cheaper, still exact, formulations. */
export interface ValueHints {
  /** Every element satisfies |x| ≤ maxAbs (e.g. cosine similarities divided by a temperature). */
  maxAbs?: number;
}

/**
 * A tensor in a graph under construction: it knows its dtype and (possibly symbolic) shape, and
 * which node produces it. Create tensors through a {@link GraphBuilder}; never construct directly.
 */
export class SymbolicTensor {
  /** @internal */
  hints: ValueHints = {};

  /** @internal */
  constructor(
    readonly id: number,
    readonly dtype: DType,
    readonly shape: Shape,
    readonly node: GraphNode,
    readonly index: number,
    readonly graphId: number,
  ) {}

  get rank(): number {
    return this.shape.length;
  }

  /** The name of the input or parameter this tensor is, if it is one. */
  get leafName(): string | undefined {
    return this.node.op === 'Input' || this.node.op === 'Param'
      ? (this.node.attrs.name as string)
      : undefined;
  }

  toString(): string {
    const what = this.leafName
      ? `${this.node.op.toLowerCase()} '${this.leafName}'`
      : `${this.node.op} #${this.node.id}`;
    return `${this.dtype}${formatShape(this.shape)} (${what})`;
  }
}

/** One operation of a graph. Leaves (inputs, parameters, constants) are nodes without inputs. */
export class GraphNode {
  outputs: readonly SymbolicTensor[] = [];
  constructor(
    readonly id: number,
    readonly op: string,
    readonly inputs: readonly SymbolicTensor[],
    readonly attrs: Attrs,
  ) {}
}

/** Output dtype and shape computed (and validated) by an op's shape inference. */
export interface OutputSpec {
  dtype: DType;
  shape: Shape;
}

/** What an op's ONNX lowering can do. */
export interface LowerContext {
  /** ONNX value name of the node's i-th input. */
  input(node: GraphNode, i: number): string;
  /** ONNX value name the node's i-th output must be written to. */
  output(node: GraphNode, i: number): string;
  /** Emits one ONNX node; returns its output names (fresh names unless given). */
  emit(
    op: string,
    inputs: readonly string[],
    outputs?: readonly string[] | number,
    attrs?: Record<string, AttributeValue>,
  ): string[];
  /** An int64 1-D constant. */
  int64s(values: readonly number[]): string;
  /** A float32 constant of the given dims (a scalar for []). */
  float32(values: number | readonly number[], dims?: readonly number[]): string;
  /** An int64 1-D tensor holding the runtime value of a (possibly symbolic) shape. */
  shape(shape: Shape): string;
  /** The same value emitted once and reused (keyed by `key`). */
  memo(key: string, build: () => string): string;
}

/** What an op's gradient rule can use: the builder (to emit gradient ops) plus helpers. */
export interface GradContext {
  /** Whether input i of the node being differentiated needs a gradient. */
  needs(i: number): boolean;
  /** Sums a gradient down to (a shape broadcast-compatible with) `shape`. */
  reduceTo(grad: SymbolicTensor, shape: Shape): SymbolicTensor;
  /** Broadcasts a gradient up to exactly `shape`. */
  materialize(grad: SymbolicTensor, shape: Shape): SymbolicTensor;
}

/**
 * An operation kind: shape inference (which validates and throws build-time errors), ONNX
 * lowering and, when differentiable, a reverse-mode gradient rule that emits graph ops.
 */
export interface OpDef {
  readonly name: string;
  infer(inputs: readonly SymbolicTensor[], attrs: Attrs): OutputSpec[];
  lower(ctx: LowerContext, node: GraphNode): void;
  /**
   * Gradients of the node's inputs given gradients of its outputs (null = no gradient flows).
   * Output gradients may be broadcast-compatible with (smaller than) the outputs unless
   * `exactGrads` is set.
   */
  grad?(
    g: import('./builder.js').GraphBuilder,
    ctx: GradContext,
    node: GraphNode,
    grads: readonly (SymbolicTensor | null)[],
  ): (SymbolicTensor | null)[];
  /** The gradient rule needs output gradients of exactly the outputs' shapes. */
  readonly exactGrads?: boolean;
}
