import { OnnxDataType } from '../../onnx/model-proto.js';
import { broadcastShapes, type Dim, dimAdd, dimSub, formatShape, sameShape, shapeSizeDim } from '../dims.js';
import type { DType, OpDef, SymbolicTensor } from '../ir.js';
import { argError, shapeError } from './checks.js';

export const Transpose: OpDef = {
  name: 'Transpose',
  infer([x], attrs) {
    const perm = attrs.perm as number[];
    const sorted = [...perm].sort((p, q) => p - q);
    if (perm.length !== x.rank || sorted.some((p, i) => p !== i)) {
      throw shapeError('transpose', `perm [${perm.join(', ')}] is not a permutation of the axes`, { x });
    }
    return [{ dtype: x.dtype, shape: perm.map((p) => x.shape[p]) }];
  },
  lower(ctx, node) {
    ctx.emit('Transpose', [ctx.input(node, 0)], [ctx.output(node, 0)], {
      perm: { type: 'ints', value: node.attrs.perm as number[] },
    });
  },
  exactGrads: true,
  grad(g, _ctx, node, [gy]) {
    const perm = node.attrs.perm as number[];
    const inv = new Array<number>(perm.length);
    perm.forEach((p, i) => {
      inv[p] = i;
    });
    return [g.transpose(gy as SymbolicTensor, inv)];
  },
};

/** Reshape to a fully specified shape (the builder resolves -1 before creating the node). */
export const Reshape: OpDef = {
  name: 'Reshape',
  infer([x], attrs) {
    const shape = attrs.shape as Dim[];
    if (shapeSizeDim(shape) !== shapeSizeDim(x.shape)) {
      throw shapeError(
        'reshape',
        `cannot reshape to ${formatShape(shape)}: element counts ${shapeSizeDim(x.shape)} and ${shapeSizeDim(shape)} differ`,
        { x },
      );
    }
    return [{ dtype: x.dtype, shape }];
  },
  lower(ctx, node) {
    ctx.emit('Reshape', [ctx.input(node, 0), ctx.shape(node.attrs.shape as Dim[])], [ctx.output(node, 0)]);
  },
  exactGrads: true,
  grad(g, _ctx, node, [gy]) {
    return [g.reshape(gy as SymbolicTensor, node.inputs[0].shape)];
  },
};

export const Expand: OpDef = {
  name: 'Expand',
  infer([x], attrs) {
    const shape = attrs.shape as Dim[];
    const out = broadcastShapes('expand', x.shape, shape);
    if (!sameShape(out, shape)) {
      throw shapeError('expand', `cannot expand to ${formatShape(shape)} without growing the target`, { x });
    }
    return [{ dtype: x.dtype, shape }];
  },
  lower(ctx, node) {
    ctx.emit('Expand', [ctx.input(node, 0), ctx.shape(node.attrs.shape as Dim[])], [ctx.output(node, 0)]);
  },
  grad(_g, ctx, node, [gy]) {
    return [ctx.reduceTo(gy as SymbolicTensor, node.inputs[0].shape)];
  },
};

export const Concat: OpDef = {
  name: 'Concat',
  infer(xs, attrs) {
    const axis = attrs.axis as number;
    const first = xs[0];
    let total: Dim = 0;
    for (const x of xs) {
      if (x.dtype !== first.dtype)
        throw argError('concat', `inputs have different dtypes (${first.dtype} vs ${x.dtype})`);
      if (x.rank !== first.rank || x.shape.some((d, i) => i !== axis && d !== first.shape[i])) {
        throw shapeError('concat', `inputs must match on every axis except ${axis}`, { first, other: x });
      }
      total = dimAdd(total, x.shape[axis]);
    }
    const shape = [...first.shape];
    shape[axis] = total;
    return [{ dtype: first.dtype, shape }];
  },
  lower(ctx, node) {
    ctx.emit(
      'Concat',
      node.inputs.map((_, i) => ctx.input(node, i)),
      [ctx.output(node, 0)],
      { axis: { type: 'int', value: node.attrs.axis as number } },
    );
  },
  exactGrads: true,
  grad(g, _ctx, node, [gy]) {
    const axis = node.attrs.axis as number;
    return g.split(
      gy as SymbolicTensor,
      node.inputs.map((x) => x.shape[axis]),
      axis,
    );
  },
};

export const Split: OpDef = {
  name: 'Split',
  infer([x], attrs) {
    const axis = attrs.axis as number;
    const sizes = attrs.sizes as Dim[];
    let total: Dim = 0;
    for (const s of sizes) total = dimAdd(total, s);
    if (total !== x.shape[axis]) {
      throw shapeError(
        'split',
        `sizes [${sizes.join(', ')}] do not add up to dim ${x.shape[axis]} of axis ${axis}`,
        { x },
      );
    }
    return sizes.map((s) => {
      const shape = [...x.shape];
      shape[axis] = s;
      return { dtype: x.dtype, shape };
    });
  },
  lower(ctx, node) {
    ctx.emit(
      'Split',
      [ctx.input(node, 0), ctx.shape(node.attrs.sizes as Dim[])],
      node.outputs.map((_, i) => ctx.output(node, i)),
      { axis: { type: 'int', value: node.attrs.axis as number } },
    );
  },
  exactGrads: true,
  grad(g, ctx, node, grads) {
    const parts = node.outputs.map((y, i) => {
      const gi = grads[i];
      return gi ? ctx.materialize(gi, y.shape) : g.zeros(y.shape);
    });
    return [g.concat(parts, node.attrs.axis as number)];
  },
};

/** Resolved start/end of a slice along one axis, as dims from the beginning of the axis. */
export function sliceBounds(dim: Dim, start: number, end: number): { begin: Dim; end: Dim } {
  const BIG = 2 ** 31 - 1;
  const clampStatic = (v: number, n: number): number => Math.min(Math.max(v, 0), n);
  if (typeof dim === 'number') {
    const b = clampStatic(start < 0 ? dim + start : start, dim);
    const e = clampStatic(end < 0 ? dim + end : end >= BIG ? dim : end, dim);
    return { begin: b, end: Math.max(e, b) };
  }
  const b: Dim = start < 0 ? dimAdd(dim, start) : start;
  const e: Dim = end >= BIG ? dim : end < 0 ? dimAdd(dim, end) : end;
  return { begin: b, end: e };
}

/** Slice with constant starts/ends (step 1) along the given axes. */
export const Slice: OpDef = {
  name: 'Slice',
  infer([x], attrs) {
    const axes = attrs.axes as number[];
    const starts = attrs.starts as number[];
    const ends = attrs.ends as number[];
    const shape = [...x.shape];
    axes.forEach((a, i) => {
      const { begin, end } = sliceBounds(x.shape[a], starts[i], ends[i]);
      shape[a] = dimSub(end, begin);
    });
    return [{ dtype: x.dtype, shape }];
  },
  lower(ctx, node) {
    const clampBig = (v: number): number => Math.min(Math.max(v, -(2 ** 53)), 2 ** 53);
    ctx.emit(
      'Slice',
      [
        ctx.input(node, 0),
        ctx.int64s((node.attrs.starts as number[]).map(clampBig)),
        ctx.int64s((node.attrs.ends as number[]).map(clampBig)),
        ctx.int64s(node.attrs.axes as number[]),
      ],
      [ctx.output(node, 0)],
    );
  },
  exactGrads: true,
  grad(g, _ctx, node, [gy]) {
    const x = node.inputs[0];
    const axes = node.attrs.axes as number[];
    const before: Dim[] = x.shape.map(() => 0);
    const after: Dim[] = x.shape.map(() => 0);
    axes.forEach((a, i) => {
      const { begin, end } = sliceBounds(
        x.shape[a],
        (node.attrs.starts as number[])[i],
        (node.attrs.ends as number[])[i],
      );
      before[a] = begin;
      after[a] = dimSub(x.shape[a], end);
    });
    return [g.padZeros(gy as SymbolicTensor, before, after)];
  },
};

/** Zero padding (the gradient of a slice). */
export const PadZeros: OpDef = {
  name: 'PadZeros',
  infer([x], attrs) {
    const before = attrs.before as Dim[];
    const after = attrs.after as Dim[];
    return [{ dtype: x.dtype, shape: x.shape.map((d, i) => dimAdd(dimAdd(d, before[i]), after[i])) }];
  },
  lower(ctx, node) {
    const pads = [...(node.attrs.before as Dim[]), ...(node.attrs.after as Dim[])];
    ctx.emit('Pad', [ctx.input(node, 0), ctx.shape(pads)], [ctx.output(node, 0)], {
      mode: { type: 'string', value: 'constant' },
    });
  },
};

/** A tensor of zeros of a (possibly symbolic) shape. */
export const Zeros: OpDef = {
  name: 'Zeros',
  infer(_x, attrs) {
    return [{ dtype: attrs.dtype as DType, shape: attrs.shape as Dim[] }];
  },
  lower(ctx, node) {
    const dtype = node.attrs.dtype as DType;
    const data =
      dtype === 'float32'
        ? new Float32Array(1)
        : dtype === 'int32'
          ? new Int32Array(1)
          : dtype === 'int64'
            ? new BigInt64Array(1)
            : new Uint8Array(1);
    ctx.emit('ConstantOfShape', [ctx.shape(node.attrs.shape as Dim[])], [ctx.output(node, 0)], {
      value: { type: 'tensor', value: { name: 'value', dtype, dims: [1], data } },
    });
  },
};

/** The runtime value of a (symbolic) dim, as a scalar. */
export const DimValue: OpDef = {
  name: 'DimValue',
  infer(_x, attrs) {
    return [{ dtype: attrs.dtype as DType, shape: [] }];
  },
  lower(ctx, node) {
    const v = ctx.shape([node.attrs.dim as Dim]);
    const scalar = ctx.emit('Reshape', [v, ctx.int64s([])], 1)[0];
    const dtype = node.attrs.dtype as DType;
    if (dtype === 'int64') ctx.emit('Identity', [scalar], [ctx.output(node, 0)]);
    else
      ctx.emit('Cast', [scalar], [ctx.output(node, 0)], { to: { type: 'int', value: OnnxDataType[dtype] } });
  },
};

export const SHAPE_OPS: readonly OpDef[] = [
  Transpose,
  Reshape,
  Expand,
  Concat,
  Split,
  Slice,
  PadZeros,
  Zeros,
  DimValue,
];
