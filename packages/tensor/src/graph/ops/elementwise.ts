import type { AttributeValue } from '../../onnx/model-proto.js';
import { broadcastShapes } from '../dims.js';
import type { DType, OpDef, SymbolicTensor } from '../ir.js';
import { argError, requireDType } from './checks.js';

type Grad = NonNullable<OpDef['grad']>;

function unary(
  name: string,
  grad?: Grad,
  attrs?: (a: Record<string, unknown>) => Record<string, AttributeValue>,
): OpDef {
  return {
    name,
    infer([x]) {
      requireDType(name, 'input', x, 'float32');
      return [{ dtype: x.dtype, shape: x.shape }];
    },
    lower(ctx, node) {
      ctx.emit(
        name,
        [ctx.input(node, 0)],
        [ctx.output(node, 0)],
        attrs?.(node.attrs as Record<string, unknown>),
      );
    },
    grad,
  };
}

export const Neg = unary('Neg', (g, ctx, _n, [gy]) => [
  ctx.reduceTo(g.neg(gy as SymbolicTensor), _n.inputs[0].shape),
]);
export const Exp = unary('Exp', (g, _c, n, [gy]) => [g.mul(gy as SymbolicTensor, n.outputs[0])]);
export const Log = unary('Log', (g, _c, n, [gy]) => [g.div(gy as SymbolicTensor, n.inputs[0])]);
export const Sqrt = unary('Sqrt', (g, _c, n, [gy]) => [g.div(gy as SymbolicTensor, g.mul(n.outputs[0], 2))]);
export const Reciprocal = unary('Reciprocal', (g, _c, n, [gy]) => {
  const y = n.outputs[0];
  return [g.neg(g.mul(gy as SymbolicTensor, g.mul(y, y)))];
});
export const Abs = unary('Abs', (g, _c, n, [gy]) => [g.mul(gy as SymbolicTensor, g.sign(n.inputs[0]))]);
/** Zero gradient almost everywhere (as in PyTorch): no gradient flows. */
export const Sign = unary('Sign', () => [null]);
export const Sigmoid = unary('Sigmoid', (g, _c, n, [gy]) => {
  const y = n.outputs[0];
  return [g.mul(gy as SymbolicTensor, g.mul(y, g.sub(1, y)))];
});
export const Tanh = unary('Tanh', (g, _c, n, [gy]) => {
  const y = n.outputs[0];
  return [g.mul(gy as SymbolicTensor, g.sub(1, g.mul(y, y)))];
});
export const Softplus = unary('Softplus', (g, _c, n, [gy]) => [
  g.mul(gy as SymbolicTensor, g.sigmoid(n.inputs[0])),
]);
// The masks of (leaky) ReLU's gradient read the op's OUTPUT (y > 0 exactly when x > 0, for a
// slope ≥ 0): the pre-activation then has no other reader, so onnxruntime can fuse a producing
// Gemm with the activation (FusedGemm) and free the pre-activation right away.
export const Relu = unary('Relu', (g, _c, n, [gy]) => [
  g.where(g.greater(n.outputs[0], 0), gy as SymbolicTensor, 0),
]);
export const LeakyRelu = unary(
  'LeakyRelu',
  (g, _c, n, [gy]) => {
    const alpha = n.attrs.alpha as number;
    const gt = gy as SymbolicTensor;
    const sign = alpha >= 0 ? n.outputs[0] : n.inputs[0];
    return [g.where(g.greater(sign, 0), gt, g.mul(gt, alpha))];
  },
  (a) => ({ alpha: { type: 'float', value: a.alpha as number } }),
);

/** x^p for a constant exponent p. */
export const PowScalar: OpDef = {
  name: 'PowScalar',
  infer([x]) {
    requireDType('pow', 'input', x, 'float32');
    return [{ dtype: 'float32', shape: x.shape }];
  },
  lower(ctx, node) {
    ctx.emit('Pow', [ctx.input(node, 0), ctx.float32(node.attrs.p as number)], [ctx.output(node, 0)]);
  },
  grad(g, _c, n, [gy]) {
    const p = n.attrs.p as number;
    const x = n.inputs[0];
    const d = p === 2 ? g.mul(x, 2) : g.mul(g.pow(x, p - 1), p);
    return [g.mul(gy as SymbolicTensor, d)];
  },
};

export const Identity: OpDef = {
  name: 'Identity',
  infer([x]) {
    return [{ dtype: x.dtype, shape: x.shape }];
  },
  lower(ctx, node) {
    ctx.emit('Identity', [ctx.input(node, 0)], [ctx.output(node, 0)]);
  },
  grad: (_g, _c, _n, [gy]) => [gy],
};

/** Identity in the forward pass; blocks gradients. */
export const StopGradient: OpDef = {
  name: 'StopGradient',
  infer([x]) {
    return [{ dtype: x.dtype, shape: x.shape }];
  },
  lower(ctx, node) {
    ctx.emit('Identity', [ctx.input(node, 0)], [ctx.output(node, 0)]);
  },
  grad: () => [null],
};

const ONNX_TO: Record<DType, number> = { float32: 1, int32: 6, int64: 7, bool: 9 };

export const Cast: OpDef = {
  name: 'Cast',
  infer([x], attrs) {
    return [{ dtype: attrs.to as DType, shape: x.shape }];
  },
  lower(ctx, node) {
    ctx.emit('Cast', [ctx.input(node, 0)], [ctx.output(node, 0)], {
      to: { type: 'int', value: ONNX_TO[node.attrs.to as DType] },
    });
  },
  grad(_g, _c, n, [gy]) {
    return [n.inputs[0].dtype === 'float32' && n.attrs.to === 'float32' ? gy : null];
  },
};

function binary(name: string, grad?: Grad, onnx = name): OpDef {
  return {
    name,
    infer([a, b]) {
      requireDType(name, 'left operand', a, 'float32', 'int32', 'int64');
      if (a.dtype !== b.dtype) {
        throw argError(name, `operands have different dtypes (${a.dtype} vs ${b.dtype})`, 'cast one of them');
      }
      return [{ dtype: a.dtype, shape: broadcastShapes(name, a.shape, b.shape) }];
    },
    lower(ctx, node) {
      ctx.emit(onnx, [ctx.input(node, 0), ctx.input(node, 1)], [ctx.output(node, 0)]);
    },
    grad,
  };
}

export const Add = binary('Add', (_g, ctx, n, [gy]) => {
  const gt = gy as SymbolicTensor;
  return [
    ctx.needs(0) ? ctx.reduceTo(gt, n.inputs[0].shape) : null,
    ctx.needs(1) ? ctx.reduceTo(gt, n.inputs[1].shape) : null,
  ];
});
export const Sub = binary('Sub', (g, ctx, n, [gy]) => {
  const gt = gy as SymbolicTensor;
  return [
    ctx.needs(0) ? ctx.reduceTo(gt, n.inputs[0].shape) : null,
    ctx.needs(1) ? ctx.reduceTo(g.neg(gt), n.inputs[1].shape) : null,
  ];
});
export const Mul = binary('Mul', (g, ctx, n, [gy]) => {
  const gt = gy as SymbolicTensor;
  const [a, b] = n.inputs;
  return [
    ctx.needs(0) ? ctx.reduceTo(g.mul(gt, b), a.shape) : null,
    ctx.needs(1) ? ctx.reduceTo(g.mul(gt, a), b.shape) : null,
  ];
});
export const Div = binary('Div', (g, ctx, n, [gy]) => {
  const gt = gy as SymbolicTensor;
  const [a, b] = n.inputs;
  return [
    ctx.needs(0) ? ctx.reduceTo(g.div(gt, b), a.shape) : null,
    ctx.needs(1) ? ctx.reduceTo(g.neg(g.div(g.mul(gt, n.outputs[0]), b)), b.shape) : null,
  ];
});
export const Max = binary('Max', (g, ctx, n, [gy]) => {
  const gt = gy as SymbolicTensor;
  const [a, b] = n.inputs;
  const takeA = g.greaterEqual(a, b);
  return [
    ctx.needs(0) ? ctx.reduceTo(g.where(takeA, gt, 0), a.shape) : null,
    ctx.needs(1) ? ctx.reduceTo(g.where(takeA, 0, gt), b.shape) : null,
  ];
});
export const Min = binary('Min', (g, ctx, n, [gy]) => {
  const gt = gy as SymbolicTensor;
  const [a, b] = n.inputs;
  const takeA = g.lessEqual(a, b);
  return [
    ctx.needs(0) ? ctx.reduceTo(g.where(takeA, gt, 0), a.shape) : null,
    ctx.needs(1) ? ctx.reduceTo(g.where(takeA, 0, gt), b.shape) : null,
  ];
});

function compare(name: string, onnx: string): OpDef {
  return {
    name,
    infer([a, b]) {
      if (a.dtype !== b.dtype)
        throw argError(name, `operands have different dtypes (${a.dtype} vs ${b.dtype})`);
      return [{ dtype: 'bool', shape: broadcastShapes(name, a.shape, b.shape) }];
    },
    lower(ctx, node) {
      ctx.emit(onnx, [ctx.input(node, 0), ctx.input(node, 1)], [ctx.output(node, 0)]);
    },
  };
}

export const Greater = compare('Greater', 'Greater');
export const Less = compare('Less', 'Less');
export const GreaterEqual = compare('GreaterEqual', 'GreaterOrEqual');
export const LessEqual = compare('LessEqual', 'LessOrEqual');
export const Equal = compare('Equal', 'Equal');
export const And = compare('And', 'And');
export const Or = compare('Or', 'Or');
export const Not: OpDef = {
  name: 'Not',
  infer([x]) {
    requireDType('Not', 'input', x, 'bool');
    return [{ dtype: 'bool', shape: x.shape }];
  },
  lower(ctx, node) {
    ctx.emit('Not', [ctx.input(node, 0)], [ctx.output(node, 0)]);
  },
};

export const Where: OpDef = {
  name: 'Where',
  infer([c, a, b]) {
    requireDType('where', 'condition', c, 'bool');
    if (a.dtype !== b.dtype)
      throw argError('where', `branches have different dtypes (${a.dtype} vs ${b.dtype})`);
    return [
      {
        dtype: a.dtype,
        shape: broadcastShapes('where', c.shape, broadcastShapes('where', a.shape, b.shape)),
      },
    ];
  },
  lower(ctx, node) {
    ctx.emit(
      'Where',
      [0, 1, 2].map((i) => ctx.input(node, i)),
      [ctx.output(node, 0)],
    );
  },
  grad(g, ctx, n, [gy]) {
    const gt = gy as SymbolicTensor;
    const [c, a, b] = n.inputs;
    return [
      null,
      ctx.needs(1) ? ctx.reduceTo(g.where(c, gt, 0), a.shape) : null,
      ctx.needs(2) ? ctx.reduceTo(g.where(c, 0, gt), b.shape) : null,
    ];
  },
};

export const Clip: OpDef = {
  name: 'Clip',
  infer([x]) {
    requireDType('clip', 'input', x, 'float32');
    return [{ dtype: 'float32', shape: x.shape }];
  },
  lower(ctx, node) {
    const lo = node.attrs.min as number | null;
    const hi = node.attrs.max as number | null;
    ctx.emit(
      'Clip',
      [ctx.input(node, 0), lo === null ? '' : ctx.float32(lo), hi === null ? '' : ctx.float32(hi)],
      [ctx.output(node, 0)],
    );
  },
  grad(g, _c, n, [gy]) {
    const x = n.inputs[0];
    const lo = n.attrs.min as number | null;
    const hi = n.attrs.max as number | null;
    let mask: SymbolicTensor | null = null;
    if (lo !== null) mask = g.greaterEqual(x, lo);
    if (hi !== null) {
      const m = g.lessEqual(x, hi);
      mask = mask ? g.logicalAnd(mask, m) : m;
    }
    return [mask ? g.where(mask, gy as SymbolicTensor, 0) : gy];
  },
};

/** Sum of any number of tensors with broadcasting (ONNX Sum); used for gradient accumulation. */
export const AddN: OpDef = {
  name: 'AddN',
  infer(xs) {
    let shape = xs[0].shape;
    for (const x of xs) {
      requireDType('addN', 'input', x, 'float32');
      shape = broadcastShapes('addN', shape, x.shape);
    }
    return [{ dtype: 'float32', shape }];
  },
  lower(ctx, node) {
    ctx.emit(
      'Sum',
      node.inputs.map((_, i) => ctx.input(node, i)),
      [ctx.output(node, 0)],
    );
  },
  grad(_g, ctx, n, [gy]) {
    return n.inputs.map((x, i) => (ctx.needs(i) ? ctx.reduceTo(gy as SymbolicTensor, x.shape) : null));
  },
};

export const ELEMENTWISE_OPS: readonly OpDef[] = [
  Neg,
  Exp,
  Log,
  Sqrt,
  Reciprocal,
  Abs,
  Sign,
  Sigmoid,
  Tanh,
  Softplus,
  Relu,
  LeakyRelu,
  PowScalar,
  Identity,
  StopGradient,
  Cast,
  Add,
  Sub,
  Mul,
  Div,
  Max,
  Min,
  Greater,
  Less,
  GreaterEqual,
  LessEqual,
  Equal,
  And,
  Or,
  Not,
  Where,
  Clip,
  AddN,
];
