import { type Dim, dimMul } from '../dims.js';
import type { GraphNode, OpDef, SymbolicTensor } from '../ir.js';
import { requireDType } from './checks.js';

/** Output shape of a reduction over sorted, normalised axes. */
export function reducedShape(shape: readonly Dim[], axes: readonly number[], keepdims: boolean): Dim[] {
  const out: Dim[] = [];
  shape.forEach((d, i) => {
    if (!axes.includes(i)) out.push(d);
    else if (keepdims) out.push(1);
  });
  return out;
}

function reduce(name: string, onnx: string, grad: NonNullable<OpDef['grad']>): OpDef {
  return {
    name,
    infer([x], attrs) {
      requireDType(name, 'input', x, 'float32');
      return [
        { dtype: 'float32', shape: reducedShape(x.shape, attrs.axes as number[], attrs.keepdims === true) },
      ];
    },
    lower(ctx, node) {
      const axes = node.attrs.axes as number[];
      ctx.emit(onnx, [ctx.input(node, 0), ctx.int64s(axes)], [ctx.output(node, 0)], {
        keepdims: { type: 'int', value: node.attrs.keepdims === true ? 1 : 0 },
      });
    },
    grad,
  };
}

/** The output gradient reshaped to keepdims form, so that it broadcasts against the input. */
function keptGrad(
  g: import('../builder.js').GraphBuilder,
  ctx: Parameters<NonNullable<OpDef['grad']>>[1],
  node: GraphNode,
  gy: SymbolicTensor,
): SymbolicTensor {
  const y = node.outputs[0];
  const exact = ctx.materialize(gy, y.shape);
  if (node.attrs.keepdims === true) return exact;
  return g.reshape(exact, reducedShape(node.inputs[0].shape, node.attrs.axes as number[], true));
}

function reducedCount(node: GraphNode): Dim {
  let n: Dim = 1;
  for (const a of node.attrs.axes as number[]) n = dimMul(n, node.inputs[0].shape[a]);
  return n;
}

export const ReduceSum = reduce('ReduceSum', 'ReduceSum', (g, ctx, node, [gy]) => [
  keptGrad(g, ctx, node, gy as SymbolicTensor),
]);

export const ReduceMean = reduce('ReduceMean', 'ReduceMean', (g, ctx, node, [gy]) => [
  g.div(keptGrad(g, ctx, node, gy as SymbolicTensor), g.dimValue(reducedCount(node))),
]);

function extremumGrad(
  g: import('../builder.js').GraphBuilder,
  ctx: Parameters<NonNullable<OpDef['grad']>>[1],
  node: GraphNode,
  gy: SymbolicTensor,
): SymbolicTensor {
  const x = node.inputs[0];
  const axes = node.attrs.axes as number[];
  const yKept =
    node.attrs.keepdims === true
      ? node.outputs[0]
      : g.reshape(node.outputs[0], reducedShape(x.shape, axes, true));
  // Ties share the gradient equally (as PyTorch's amax/amin do).
  const mask = g.cast(g.equal(x, yKept), 'float32');
  const count = g.reduceSum(mask, axes, true);
  return g.mul(g.div(mask, count), keptGrad(g, ctx, node, gy));
}

export const ReduceMax = reduce('ReduceMax', 'ReduceMax', (g, ctx, node, [gy]) => [
  extremumGrad(g, ctx, node, gy as SymbolicTensor),
]);
export const ReduceMin = reduce('ReduceMin', 'ReduceMin', (g, ctx, node, [gy]) => [
  extremumGrad(g, ctx, node, gy as SymbolicTensor),
]);

export const Softmax: OpDef = {
  name: 'Softmax',
  infer([x]) {
    requireDType('softmax', 'input', x, 'float32');
    return [{ dtype: 'float32', shape: x.shape }];
  },
  lower(ctx, node) {
    ctx.emit('Softmax', [ctx.input(node, 0)], [ctx.output(node, 0)], {
      axis: { type: 'int', value: node.attrs.axis as number },
    });
  },
  grad(g, _ctx, node, [gy]) {
    const y = node.outputs[0];
    const axis = node.attrs.axis as number;
    const gyy = g.mul(gy as SymbolicTensor, y);
    return [g.sub(gyy, g.mul(y, g.reduceSum(gyy, [axis], true)))];
  },
};

export const LogSoftmax: OpDef = {
  name: 'LogSoftmax',
  infer([x]) {
    requireDType('logSoftmax', 'input', x, 'float32');
    return [{ dtype: 'float32', shape: x.shape }];
  },
  lower(ctx, node) {
    ctx.emit('LogSoftmax', [ctx.input(node, 0)], [ctx.output(node, 0)], {
      axis: { type: 'int', value: node.attrs.axis as number },
    });
  },
  exactGrads: true,
  grad(g, _ctx, node, [gy]) {
    const gt = gy as SymbolicTensor;
    const axis = node.attrs.axis as number;
    return [g.sub(gt, g.mul(g.exp(node.outputs[0]), g.reduceSum(gt, [axis], true)))];
  },
};

export const REDUCE_OPS: readonly OpDef[] = [
  ReduceSum,
  ReduceMean,
  ReduceMax,
  ReduceMin,
  Softmax,
  LogSoftmax,
];
