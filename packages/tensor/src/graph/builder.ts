import { PromaxError } from '@promax/core';
import {
  bprLoss,
  dropout,
  infoNce,
  l2Normalize,
  rowDot,
  softCrossEntropy,
  sumSquares,
} from './composites/losses.js';
import { cosineSimilarity, logSumExp, softmaxBounded, sumProduct } from './composites/similarity.js';
import {
  checkShape,
  type Dim,
  dimDivExact,
  dimSymbols,
  formatShape,
  isSymbolName,
  normAxis,
  type Shape,
  shapeSizeDim,
} from './dims.js';
import {
  type Attrs,
  type AttrValue,
  type ConstantData,
  type DType,
  GraphNode,
  type OpDef,
  SymbolicTensor,
} from './ir.js';
import { argError } from './ops/checks.js';
import { CORE_OPS } from './ops/registry.js';

let nextId = 1;

/** A scalar literal or a tensor: binary ops accept plain numbers for either side. */
export type TensorLike = SymbolicTensor | number;

/** A sparse matrix fed at run time as edge arrays (see {@link GraphBuilder.adjacency}). */
export interface Adjacency {
  readonly name: string;
  /** Number of destination nodes (rows of A). */
  readonly rows: Dim;
  /** Number of source nodes (columns of A). */
  readonly cols: Dim;
  /** Number of edges (symbolic: `<name>.E`). */
  readonly edges: Dim;
  readonly form: 'factored' | 'weighted';
  readonly symmetric: boolean;
  /** Source node of each edge: input `<name>.src`. */
  readonly src: SymbolicTensor;
  /** Destination node of each edge: input `<name>.dst`. */
  readonly dst: SymbolicTensor;
  /** 'factored': row scales (input `<name>.left`, one per destination node). */
  readonly left?: SymbolicTensor;
  /** 'factored': column scales (input `<name>.right`, one per source node). */
  readonly right?: SymbolicTensor;
  /** 'weighted': per-edge weights (input `<name>.weight`). */
  readonly weight?: SymbolicTensor;
}

export interface AdjacencyOptions {
  /** Destination nodes (rows of A). */
  rows: Dim;
  /** Source nodes (columns of A); defaults to `rows`. */
  cols?: Dim;
  /**
   * 'factored' (default): A[d, s] = left[d] · right[s] for each edge, e.g. D^-½ A D^-½; no per-edge
   * multiply is needed. 'weighted': an explicit weight per edge.
   */
  form?: 'factored' | 'weighted';
  /**
   * The edge list is its own transpose (every edge s→d has a twin d→s with the same weight), so
   * the backward pass reuses the same arrays. True for undirected graphs such as LightGCN's.
   */
  symmetric?: boolean;
  /** Index dtype of src/dst (default 'int64'; int32 is cast inside the graph). */
  indexType?: 'int32' | 'int64';
}

export interface MatMulOptions {
  transposeA?: boolean;
  transposeB?: boolean;
}

/**
 * Builds a graph of symbolic tensors. Every op validates dtypes and shapes when it is called
 * and throws a `PromaxError` (code SHAPE_MISMATCH / INVALID_ARGUMENT) naming the op and shapes.
 * Identical ops on identical inputs are built once (common subexpressions are shared).
 *
 * ```ts
 * const g = new GraphBuilder();
 * const E = g.param('emb', [1000, 32]);
 * const ids = g.input('ids', 'int32', ['B']);
 * const loss = g.reduceMean(g.sumSquares(g.gather(E, ids)));
 * ```
 */
export class GraphBuilder {
  /** Identifies the graph (shared by forks); tensors of other graphs are rejected. */
  readonly graphId: number;
  private readonly parent?: GraphBuilder;
  private readonly cse = new Map<string, GraphNode>();
  private readonly leaves: Map<string, SymbolicTensor>;
  private readonly symbols: Map<string, { input: string; axis: number }>;
  private readonly ops: ReadonlyMap<string, OpDef>;

  /**
   * @param options.ops extra op kinds (custom fused ops) besides the core ones.
   */
  constructor(
    options: { ops?: readonly OpDef[] } = {},
    parent?: GraphBuilder,
    registry?: ReadonlyMap<string, OpDef>,
  ) {
    this.parent = parent;
    this.graphId = parent ? parent.graphId : nextId++;
    this.leaves = parent ? parent.leaves : new Map();
    this.symbols = parent ? parent.symbols : new Map();
    this.ops =
      parent?.ops ??
      registry ??
      (options.ops ? new Map([...CORE_OPS, ...options.ops.map((o) => [o.name, o] as const)]) : CORE_OPS);
  }

  /** @internal A builder that adds nodes without changing this one (used for gradients). */
  fork(): GraphBuilder {
    return new GraphBuilder({}, this);
  }

  /** @internal A new, empty graph with the same op kinds (used by graph rewrites). */
  emptyLike(): GraphBuilder {
    return new GraphBuilder({}, undefined, this.ops);
  }

  // ---------------------------------------------------------------- leaves

  /**
   * A value fed at run time. Symbolic dims (strings, e.g. 'B') may differ between runs; every
   * input that uses the same name must agree within a run.
   */
  input(name: string, dtype: DType, shape: Shape): SymbolicTensor {
    const s = checkShape(shape, `input '${name}'`);
    for (const d of s) {
      if (typeof d === 'string' && !isSymbolName(d)) {
        throw argError(`input '${name}'`, `dims of inputs must be sizes or plain names, got '${d}'`);
      }
    }
    const t = this.leaf('Input', name, dtype, s);
    s.forEach((d, axis) => {
      if (typeof d === 'string' && !this.symbols.has(d)) this.symbols.set(d, { input: name, axis });
    });
    return t;
  }

  /** A trainable float32 tensor, fed from a `ParameterStore` under the same name. */
  param(name: string, shape: readonly number[]): SymbolicTensor {
    const s = checkShape(shape, `param '${name}'`);
    if (s.some((d) => typeof d !== 'number')) {
      throw argError(`param '${name}'`, 'parameter shapes must be fixed sizes');
    }
    return this.leaf('Param', name, 'float32', s);
  }

  private leaf(op: 'Input' | 'Param', name: string, dtype: DType, shape: Shape): SymbolicTensor {
    if (typeof name !== 'string' || name.length === 0 || name.startsWith('grad:') || name === 'loss') {
      throw argError(
        op.toLowerCase(),
        `'${String(name)}' is not a usable name`,
        "use a non-empty name not starting with 'grad:'",
      );
    }
    if (this.leaves.has(name)) {
      throw new PromaxError({
        code: 'INVALID_ARGUMENT',
        message: `${op.toLowerCase()} '${name}': the graph already has an input or parameter with that name`,
        field: name,
        fix: 'use a different name, or reuse the tensor returned the first time',
      });
    }
    const t = this.node(op, [], { name, dtype, shape })[0];
    this.leaves.set(name, t);
    return t;
  }

  /** Declared inputs, in declaration order. */
  inputs(): SymbolicTensor[] {
    return [...this.leaves.values()].filter((t) => t.node.op === 'Input');
  }

  /** Declared parameters, in declaration order. */
  params(): SymbolicTensor[] {
    return [...this.leaves.values()].filter((t) => t.node.op === 'Param');
  }

  /** The input or parameter of that name. */
  leafNamed(name: string): SymbolicTensor | undefined {
    return this.leaves.get(name);
  }

  /** @internal Where the runtime value of a symbolic dim can be read: an input and axis. */
  symbolSource(symbol: string): { input: string; axis: number } | undefined {
    return this.symbols.get(symbol);
  }

  /** A constant tensor stored in the model. A number gives a scalar. */
  constant(
    value: number | ConstantData,
    options: { dtype?: DType; shape?: readonly number[] } = {},
  ): SymbolicTensor {
    let data: ConstantData;
    let dtype: DType;
    if (typeof value === 'number') {
      dtype = options.dtype ?? 'float32';
      data =
        dtype === 'float32'
          ? Float32Array.of(value)
          : dtype === 'int32'
            ? Int32Array.of(value)
            : dtype === 'int64'
              ? BigInt64Array.of(BigInt(value))
              : Uint8Array.of(value ? 1 : 0);
    } else {
      data = value;
      dtype =
        value instanceof Float32Array
          ? 'float32'
          : value instanceof Int32Array
            ? 'int32'
            : value instanceof BigInt64Array
              ? 'int64'
              : 'bool';
    }
    const shape = options.shape ?? (typeof value === 'number' ? [] : [data.length]);
    const size = shape.reduce((a, b) => a * b, 1);
    if (size !== data.length) {
      throw argError(
        'constant',
        `shape ${formatShape(shape)} holds ${size} values but ${data.length} were given`,
      );
    }
    return this.node('Constant', [], { dtype, shape, data })[0];
  }

  /** A scalar constant. */
  scalar(value: number, dtype: DType = 'float32'): SymbolicTensor {
    return this.constant(value, { dtype });
  }

  /** A tensor of zeros (shape may be symbolic). */
  zeros(shape: Shape, dtype: DType = 'float32'): SymbolicTensor {
    return this.node('Zeros', [], { shape: checkShape(shape, 'zeros'), dtype })[0];
  }

  /** The runtime value of a dim as a scalar (a constant when the dim is fixed). */
  dimValue(dim: Dim, dtype: DType = 'float32'): SymbolicTensor {
    if (typeof dim === 'number') return this.scalar(dim, dtype);
    for (const s of dimSymbols(dim)) {
      if (!this.symbols.has(s)) throw argError('dimValue', `symbol '${s}' is not a dim of any input`);
    }
    return this.node('DimValue', [], { dim, dtype })[0];
  }

  // ---------------------------------------------------------------- core

  /**
   * Applies an op by name (the typed methods below are the usual way in). Validates shapes,
   * shares identical subexpressions, and returns the outputs.
   */
  apply(op: string, inputs: readonly SymbolicTensor[], attrs: Attrs = {}): SymbolicTensor[] {
    if (op === 'Input' || op === 'Param' || op === 'Constant') {
      throw argError('apply', `${op} leaves are created with g.input / g.param / g.constant`);
    }
    for (const t of inputs) {
      if (!(t instanceof SymbolicTensor)) {
        throw argError(
          op,
          `expected a symbolic tensor, got ${typeof t}`,
          'build inputs with g.input/g.param/g.constant',
        );
      }
      if (t.graphId !== this.graphId) {
        throw argError(
          op,
          `${t} belongs to another graph`,
          'build every tensor of a model with the same GraphBuilder',
        );
      }
    }
    return this.node(op, inputs, attrs);
  }

  private node(op: string, inputs: readonly SymbolicTensor[], attrs: Attrs): SymbolicTensor[] {
    const def = this.ops.get(op);
    if (!def) throw argError('apply', `unknown op '${op}'`);
    const key = op === 'Input' || op === 'Param' ? undefined : cseKey(op, inputs, attrs);
    if (key !== undefined) {
      const hit = this.lookup(key);
      if (hit) return [...hit.outputs];
    }
    const specs = def.infer(inputs, attrs);
    const node = new GraphNode(nextId++, op, inputs, attrs);
    node.outputs = specs.map((s, i) => new SymbolicTensor(nextId++, s.dtype, s.shape, node, i, this.graphId));
    if (key !== undefined) this.cse.set(key, node);
    return [...node.outputs];
  }

  private lookup(key: string): GraphNode | undefined {
    return this.cse.get(key) ?? this.parent?.lookup(key);
  }

  /** @internal The op definition of a node kind. */
  opDef(op: string): OpDef {
    const def = this.ops.get(op);
    if (!def) throw argError('opDef', `unknown op '${op}'`);
    return def;
  }

  private one(op: string, inputs: SymbolicTensor[], attrs: Attrs = {}): SymbolicTensor {
    return this.apply(op, inputs, attrs)[0];
  }

  private lift(v: TensorLike, like: TensorLike): SymbolicTensor {
    if (typeof v !== 'number') return v;
    return this.scalar(
      v,
      typeof like === 'number' ? 'float32' : like.dtype === 'bool' ? 'float32' : like.dtype,
    );
  }

  private binary(op: string, a: TensorLike, b: TensorLike): SymbolicTensor {
    return this.one(op, [this.lift(a, b), this.lift(b, a)]);
  }

  private axes(op: string, x: SymbolicTensor, axes?: number | readonly number[]): number[] {
    if (axes === undefined) return x.shape.map((_, i) => i);
    const list = typeof axes === 'number' ? [axes] : axes;
    return [...new Set(list.map((a) => normAxis(op, a, x.rank)))].sort((p, q) => p - q);
  }

  // ---------------------------------------------------------------- elementwise

  add(a: TensorLike, b: TensorLike): SymbolicTensor {
    return this.binary('Add', a, b);
  }
  sub(a: TensorLike, b: TensorLike): SymbolicTensor {
    return this.binary('Sub', a, b);
  }
  mul(a: TensorLike, b: TensorLike): SymbolicTensor {
    return this.binary('Mul', a, b);
  }
  div(a: TensorLike, b: TensorLike): SymbolicTensor {
    return this.binary('Div', a, b);
  }
  /** Elementwise maximum (the gradient goes to `a` on ties). */
  maximum(a: TensorLike, b: TensorLike): SymbolicTensor {
    return this.binary('Max', a, b);
  }
  /** Elementwise minimum (the gradient goes to `a` on ties). */
  minimum(a: TensorLike, b: TensorLike): SymbolicTensor {
    return this.binary('Min', a, b);
  }
  /** Sum of several tensors (with broadcasting). */
  addN(xs: readonly SymbolicTensor[]): SymbolicTensor {
    if (xs.length === 0) throw argError('addN', 'needs at least one tensor');
    return xs.length === 1 ? xs[0] : this.one('AddN', [...xs]);
  }
  neg(x: SymbolicTensor): SymbolicTensor {
    return this.one('Neg', [x]);
  }
  exp(x: SymbolicTensor): SymbolicTensor {
    return this.one('Exp', [x]);
  }
  log(x: SymbolicTensor): SymbolicTensor {
    return this.one('Log', [x]);
  }
  sqrt(x: SymbolicTensor): SymbolicTensor {
    return this.one('Sqrt', [x]);
  }
  reciprocal(x: SymbolicTensor): SymbolicTensor {
    return this.one('Reciprocal', [x]);
  }
  abs(x: SymbolicTensor): SymbolicTensor {
    return this.one('Abs', [x]);
  }
  sign(x: SymbolicTensor): SymbolicTensor {
    return this.one('Sign', [x]);
  }
  sigmoid(x: SymbolicTensor): SymbolicTensor {
    return this.one('Sigmoid', [x]);
  }
  tanh(x: SymbolicTensor): SymbolicTensor {
    return this.one('Tanh', [x]);
  }
  /** log(1 + eˣ), computed stably. */
  softplus(x: SymbolicTensor): SymbolicTensor {
    return this.one('Softplus', [x]);
  }
  relu(x: SymbolicTensor): SymbolicTensor {
    return this.one('Relu', [x]);
  }
  leakyRelu(x: SymbolicTensor, alpha = 0.01): SymbolicTensor {
    return this.one('LeakyRelu', [x], { alpha });
  }
  /** xᵖ for a constant exponent. */
  pow(x: SymbolicTensor, p: number): SymbolicTensor {
    if (p === 1) return x;
    return this.one('PowScalar', [x], { p });
  }
  square(x: SymbolicTensor): SymbolicTensor {
    return this.mul(x, x);
  }
  /** Clamps to [min, max]; pass null for an open side. Gradient 0 outside the range. */
  clip(x: SymbolicTensor, min: number | null, max: number | null): SymbolicTensor {
    return this.one('Clip', [x], { min, max });
  }
  where(cond: SymbolicTensor, a: TensorLike, b: TensorLike): SymbolicTensor {
    const ta = this.lift(a, b);
    return this.one('Where', [cond, ta, this.lift(b, ta)]);
  }
  greater(a: TensorLike, b: TensorLike): SymbolicTensor {
    return this.binary('Greater', a, b);
  }
  less(a: TensorLike, b: TensorLike): SymbolicTensor {
    return this.binary('Less', a, b);
  }
  greaterEqual(a: TensorLike, b: TensorLike): SymbolicTensor {
    return this.binary('GreaterEqual', a, b);
  }
  lessEqual(a: TensorLike, b: TensorLike): SymbolicTensor {
    return this.binary('LessEqual', a, b);
  }
  equal(a: TensorLike, b: TensorLike): SymbolicTensor {
    return this.binary('Equal', a, b);
  }
  logicalAnd(a: SymbolicTensor, b: SymbolicTensor): SymbolicTensor {
    return this.one('And', [a, b]);
  }
  logicalOr(a: SymbolicTensor, b: SymbolicTensor): SymbolicTensor {
    return this.one('Or', [a, b]);
  }
  logicalNot(x: SymbolicTensor): SymbolicTensor {
    return this.one('Not', [x]);
  }
  cast(x: SymbolicTensor, to: DType): SymbolicTensor {
    return x.dtype === to ? x : this.one('Cast', [x], { to });
  }
  identity(x: SymbolicTensor): SymbolicTensor {
    return this.one('Identity', [x]);
  }
  /** Forward identity; no gradient flows through (a constant w.r.t. training). */
  stopGradient(x: SymbolicTensor): SymbolicTensor {
    return this.one('StopGradient', [x]);
  }

  // ---------------------------------------------------------------- reductions

  /** Sum over `axes` (default all). */
  reduceSum(x: SymbolicTensor, axes?: number | readonly number[], keepdims = false): SymbolicTensor {
    return this.one('ReduceSum', [x], { axes: this.axes('reduceSum', x, axes), keepdims });
  }
  reduceMean(x: SymbolicTensor, axes?: number | readonly number[], keepdims = false): SymbolicTensor {
    return this.one('ReduceMean', [x], { axes: this.axes('reduceMean', x, axes), keepdims });
  }
  reduceMax(x: SymbolicTensor, axes?: number | readonly number[], keepdims = false): SymbolicTensor {
    return this.one('ReduceMax', [x], { axes: this.axes('reduceMax', x, axes), keepdims });
  }
  reduceMin(x: SymbolicTensor, axes?: number | readonly number[], keepdims = false): SymbolicTensor {
    return this.one('ReduceMin', [x], { axes: this.axes('reduceMin', x, axes), keepdims });
  }
  /**
   * Softmax along `axis`. When `x` is known to be bounded (cosine logits from
   * {@link cosineSimilarity}), it is built as exp(x) / Σ (no shift needed), which shares its exponentials
   * with {@link logSumExp} and lets the compiler fold the normalisation into matrix products.
   */
  softmax(x: SymbolicTensor, axis = -1): SymbolicTensor {
    const a = normAxis('softmax', axis, x.rank);
    const bounded = softmaxBounded(this, x, a);
    return bounded ?? this.one('Softmax', [x], { axis: a });
  }
  logSoftmax(x: SymbolicTensor, axis = -1): SymbolicTensor {
    return this.one('LogSoftmax', [x], { axis: normAxis('logSoftmax', axis, x.rank) });
  }
  /** log Σ exp(x) along `axis`, stable (shifted by the row max unless |x| has a small known bound). */
  logSumExp(x: SymbolicTensor, axis = -1, keepdims = false): SymbolicTensor {
    return logSumExp(this, x, normAxis('logSumExp', axis, x.rank), keepdims);
  }

  // ---------------------------------------------------------------- linear algebra

  /** op(a)·op(b) over the last two axes (leading axes broadcast); 2-D products become one Gemm. */
  matmul(a: SymbolicTensor, b: SymbolicTensor, options: MatMulOptions = {}): SymbolicTensor {
    return this.one('MatMul', [a, b], {
      transA: options.transposeA === true,
      transB: options.transposeB === true,
    });
  }

  // ---------------------------------------------------------------- shapes

  /** Permutes axes (default: reverses them). */
  transpose(x: SymbolicTensor, perm?: readonly number[]): SymbolicTensor {
    const p = perm
      ? perm.map((a) => normAxis('transpose', a, x.rank))
      : x.shape.map((_, i) => x.rank - 1 - i);
    if (p.every((a, i) => a === i)) return x;
    return this.one('Transpose', [x], { perm: p });
  }

  /** Reshape; one dim may be -1 (inferred). Symbolic dims are allowed ('B', or -1 giving e.g. '32*B'). */
  reshape(x: SymbolicTensor, shape: Shape): SymbolicTensor {
    const holes = shape.filter((d) => d === -1).length;
    if (holes > 1) throw argError('reshape', 'at most one dim may be -1');
    let target: Dim[];
    if (holes === 1) {
      const known = shapeSizeDim(shape.filter((d) => d !== -1));
      const inferred = dimDivExact(shapeSizeDim(x.shape), known);
      if (inferred === undefined) {
        throw new PromaxError({
          code: 'SHAPE_MISMATCH',
          message: `reshape: cannot infer -1 in ${formatShape(shape)} from ${x}`,
          fix: 'give every dim explicitly',
        });
      }
      target = shape.map((d) => (d === -1 ? inferred : d));
    } else target = [...shape];
    target = [...checkShape(target, 'reshape')];
    if (target.length === x.rank && target.every((d, i) => d === x.shape[i])) return x;
    return this.one('Reshape', [x], { shape: target });
  }

  /** Broadcasts to `shape`. */
  expand(x: SymbolicTensor, shape: Shape): SymbolicTensor {
    const s = checkShape(shape, 'expand');
    if (s.length === x.rank && s.every((d, i) => d === x.shape[i])) return x;
    return this.one('Expand', [x], { shape: s });
  }

  /** Inserts size-1 axes at the given output positions. */
  unsqueeze(x: SymbolicTensor, axes: number | readonly number[]): SymbolicTensor {
    const list = typeof axes === 'number' ? [axes] : axes;
    const rank = x.rank + list.length;
    const pos = list.map((a) => normAxis('unsqueeze', a, rank)).sort((p, q) => p - q);
    const out: Dim[] = [];
    let k = 0;
    for (let i = 0; i < rank; i++) out.push(pos.includes(i) ? 1 : x.shape[k++]);
    return this.reshape(x, out);
  }

  /** Removes size-1 axes (all of them by default). */
  squeeze(x: SymbolicTensor, axes?: number | readonly number[]): SymbolicTensor {
    const list =
      axes === undefined ? x.shape.flatMap((d, i) => (d === 1 ? [i] : [])) : this.axes('squeeze', x, axes);
    for (const a of list) {
      if (x.shape[a] !== 1) throw argError('squeeze', `axis ${a} of ${x} has size ${x.shape[a]}, not 1`);
    }
    return this.reshape(
      x,
      x.shape.filter((_, i) => !list.includes(i)),
    );
  }

  concat(xs: readonly SymbolicTensor[], axis = 0): SymbolicTensor {
    if (xs.length === 0) throw argError('concat', 'needs at least one tensor');
    if (xs.length === 1) return xs[0];
    return this.one('Concat', [...xs], { axis: normAxis('concat', axis, xs[0].rank) });
  }

  /** Splits along `axis` into pieces of the given (possibly symbolic) sizes. */
  split(x: SymbolicTensor, sizes: readonly Dim[], axis = 0): SymbolicTensor[] {
    return this.apply('Split', [x], {
      sizes: checkShape(sizes, 'split'),
      axis: normAxis('split', axis, x.rank),
    });
  }

  /**
   * x[starts:ends] along `axes` (default the first axes), step 1. Negative values count from the
   * end; use `Infinity` (or any huge number) for "to the end".
   */
  slice(
    x: SymbolicTensor,
    starts: readonly number[],
    ends: readonly number[],
    axes?: readonly number[],
  ): SymbolicTensor {
    const ax = (axes ?? starts.map((_, i) => i)).map((a) => normAxis('slice', a, x.rank));
    if (starts.length !== ax.length || ends.length !== ax.length) {
      throw argError('slice', 'starts, ends and axes must have the same length');
    }
    const BIG = 2 ** 31 - 1;
    return this.one('Slice', [x], {
      starts: [...starts],
      ends: ends.map((e) => Math.min(e, BIG)),
      axes: ax,
    });
  }

  /** @internal Zero padding before/after each axis (the gradient of slice). */
  padZeros(x: SymbolicTensor, before: readonly Dim[], after: readonly Dim[]): SymbolicTensor {
    if (before.every((d) => d === 0) && after.every((d) => d === 0)) return x;
    return this.one('PadZeros', [x], { before: [...before], after: [...after] });
  }

  // ---------------------------------------------------------------- indexing and sparse

  /** Rows (slices along `axis`) of `x` picked by integer indices of any shape. */
  gather(x: SymbolicTensor, indices: SymbolicTensor, axis = 0): SymbolicTensor {
    const a = normAxis('gather', axis, x.rank);
    if (a === 0) return this.one('Gather', [x, indices]);
    const perm = [a, ...x.shape.map((_, i) => i).filter((i) => i !== a)];
    const moved = this.one('Gather', [this.transpose(x, perm), indices]);
    // Put the gathered axes back where `axis` was.
    const k = indices.rank;
    const rest = x.rank - 1;
    const outPerm: number[] = [];
    for (let i = 0; i < a; i++) outPerm.push(k + i);
    for (let i = 0; i < k; i++) outPerm.push(i);
    for (let i = a; i < rest; i++) outPerm.push(k + i);
    return this.transpose(moved, outPerm);
  }

  /** target with `updates` added to rows `indices` (duplicates accumulate). */
  scatterAdd(target: SymbolicTensor, indices: SymbolicTensor, updates: SymbolicTensor): SymbolicTensor {
    return this.one('ScatterAdd', [target, indices, updates]);
  }

  /** out[s] = Σ_{e: ids[e] = s} data[e]: rows summed per segment id (any order). */
  segmentSum(data: SymbolicTensor, segmentIds: SymbolicTensor, numSegments: Dim): SymbolicTensor {
    const rest = data.shape.slice(segmentIds.rank);
    return this.scatterAdd(this.zeros([numSegments, ...rest]), segmentIds, data);
  }

  /**
   * Declares a sparse matrix A fed at run time as edge arrays, so that one compiled graph can run
   * over different graphs (A and A′). Inputs: `<name>.src`, `<name>.dst` ([`<name>.E`]) and
   * `<name>.left`/`<name>.right` (factored) or `<name>.weight` (weighted). Build the feeds with
   * `adjacencyFeeds` / `normalizedAdjacency`.
   */
  adjacency(name: string, options: AdjacencyOptions): Adjacency {
    const rows = checkShape([options.rows], `adjacency '${name}'`)[0];
    const cols = checkShape([options.cols ?? options.rows], `adjacency '${name}'`)[0];
    const form = options.form ?? 'factored';
    const symmetric = options.symmetric === true;
    if (symmetric && rows !== cols)
      throw argError(`adjacency '${name}'`, 'a symmetric matrix must be square');
    const idx = options.indexType ?? 'int64';
    const edges = `${name}.E`;
    const src = this.input(`${name}.src`, idx, [edges]);
    const dst = this.input(`${name}.dst`, idx, [edges]);
    if (form === 'factored') {
      return {
        name,
        rows,
        cols,
        edges,
        form,
        symmetric,
        src,
        dst,
        left: this.input(`${name}.left`, 'float32', [rows]),
        right: this.input(`${name}.right`, 'float32', [cols]),
      };
    }
    return {
      name,
      rows,
      cols,
      edges,
      form,
      symmetric,
      src,
      dst,
      weight: this.input(`${name}.weight`, 'float32', [edges]),
    };
  }

  /** Y = A·X for a declared adjacency (LightGCN's propagation). Its gradient is Aᵀ·Ȳ. */
  propagate(x: SymbolicTensor, adj: Adjacency): SymbolicTensor {
    const scales =
      adj.form === 'factored'
        ? [adj.left as SymbolicTensor, adj.right as SymbolicTensor]
        : [adj.weight as SymbolicTensor];
    return this.propagateRaw(x, adj.src, adj.dst, scales, {
      form: adj.form,
      symmetric: adj.symmetric,
      rows: adj.rows,
      cols: adj.cols,
    });
  }

  /** @internal */
  propagateRaw(
    x: SymbolicTensor,
    src: SymbolicTensor,
    dst: SymbolicTensor,
    scales: readonly SymbolicTensor[],
    attrs: { form: 'factored' | 'weighted'; symmetric: boolean; rows: Dim; cols: Dim },
  ): SymbolicTensor {
    return this.one('Propagate', [x, src, dst, ...scales], attrs);
  }

  // ---------------------------------------------------------------- composites

  /** x / max(‖x‖₂, eps) along `axis` (PyTorch F.normalize). */
  l2Normalize(x: SymbolicTensor, axis = -1, eps = 1e-12): SymbolicTensor {
    return l2Normalize(this, x, normAxis('l2Normalize', axis, x.rank), eps);
  }
  /** Σ a⊙b over the last axis (per-row dot products). */
  rowDot(a: SymbolicTensor, b: SymbolicTensor): SymbolicTensor {
    return rowDot(this, a, b);
  }
  /** Σ x² over all elements (for L2 penalties). */
  sumSquares(x: SymbolicTensor): SymbolicTensor {
    return sumSquares(this, x);
  }
  /**
   * The matrix of cosine similarities between rows of x [m, d] and rows of y [n, d], times
   * `scale` (e.g. 1/τ): scale · x̂ ŷᵀ, [m, n]. The result is tagged as bounded by |scale|.
   */
  cosineSimilarity(x: SymbolicTensor, y: SymbolicTensor, scale = 1): SymbolicTensor {
    return cosineSimilarity(this, x, y, scale);
  }
  /**
   * Per-row Σ_j p_ij · S_ij. When S is a matrix product A·Bᵀ it is computed as rowDot(A, p·B)
   * without forming p⊙S.
   */
  sumProduct(p: SymbolicTensor, s: SymbolicTensor): SymbolicTensor {
    return sumProduct(this, p, s);
  }
  /**
   * Cross-entropy with soft targets, per row: −Σ_j p_ij log softmax(logits)_ij along the last axis.
   * With `epsilon` > 0 it is −Σ p log(softmax + ε) literally (slower: the softmax is formed).
   */
  softCrossEntropy(
    logits: SymbolicTensor,
    targets: SymbolicTensor,
    options: { epsilon?: number } = {},
  ): SymbolicTensor {
    return softCrossEntropy(this, logits, targets, options.epsilon ?? 0);
  }
  /**
   * InfoNCE with in-batch negatives: mean_k −log softmax_m(x̂_k·ŷ_m/τ)[k] for rows of x, y [B, d].
   */
  infoNce(x: SymbolicTensor, y: SymbolicTensor, temperature: number): SymbolicTensor {
    return infoNce(this, x, y, temperature);
  }
  /** BPR: mean softplus(neg − pos) over score vectors. */
  bprLoss(pos: SymbolicTensor, neg: SymbolicTensor): SymbolicTensor {
    return bprLoss(this, pos, neg);
  }
  /** Inverted dropout with an explicit 0/1 mask input (draw it from a seeded Rng). */
  dropout(x: SymbolicTensor, mask: SymbolicTensor, rate: number): SymbolicTensor {
    return dropout(this, x, mask, rate);
  }
}

function attrKey(v: AttrValue): string {
  if (v === null || typeof v !== 'object') return JSON.stringify(v);
  if (Array.isArray(v)) return JSON.stringify(v);
  const data = v as ConstantData;
  if (data.length <= 16) {
    return `${data.constructor.name}(${Array.from(data as ArrayLike<number | bigint>, String).join(',')})`;
  }
  return `${data.constructor.name}#${nextId++}`;
}

function cseKey(op: string, inputs: readonly SymbolicTensor[], attrs: Attrs): string {
  const a = Object.keys(attrs)
    .sort()
    .map((k) => `${k}=${attrKey(attrs[k])}`)
    .join(';');
  return `${op}(${inputs.map((t) => t.id).join(',')}){${a}}`;
}
