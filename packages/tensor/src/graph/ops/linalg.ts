import { broadcastShapes, type Dim, sameShape } from '../dims.js';
import type { OpDef, SymbolicTensor } from '../ir.js';
import { requireDType, requireRank, shapeError } from './checks.js';

/** Shape of op(x) for a matmul operand (the last two axes swapped when transposed). */
function opShape(x: SymbolicTensor, trans: boolean): Dim[] {
  const s = [...x.shape];
  if (trans) {
    const r = s.length;
    [s[r - 2], s[r - 1]] = [s[r - 1], s[r - 2]];
  }
  return s;
}

/**
 * C = alpha · op(A) · op(B) (+ bias), op = optional transpose of the last two axes; leading axes
 * are batch axes and broadcast. 2-D products lower to a single Gemm (transposes, alpha and bias
 * folded in); batched ones to MatMul.
 */
export const MatMul: OpDef = {
  name: 'MatMul',
  infer(inputs, attrs) {
    const [a, b, bias] = inputs;
    requireDType('matmul', 'a', a, 'float32');
    requireDType('matmul', 'b', b, 'float32');
    requireRank('matmul', 'a', a, 2, Number.POSITIVE_INFINITY);
    requireRank('matmul', 'b', b, 2, Number.POSITIVE_INFINITY);
    const sa = opShape(a, attrs.transA === true);
    const sb = opShape(b, attrs.transB === true);
    const m = sa[sa.length - 2];
    const k = sa[sa.length - 1];
    const k2 = sb[sb.length - 2];
    const n = sb[sb.length - 1];
    if (k !== k2) {
      throw shapeError(
        'matmul',
        `inner dimensions differ (${k} vs ${k2}; transposeA=${attrs.transA === true}, transposeB=${attrs.transB === true})`,
        { a, b },
        'transpose one operand (transposeA / transposeB) or fix the shapes',
      );
    }
    const batch = broadcastShapes('matmul (batch axes)', sa.slice(0, -2), sb.slice(0, -2));
    const shape = [...batch, m, n];
    if (bias) {
      requireDType('matmul', 'bias', bias, 'float32');
      const bs = broadcastShapes('matmul (bias)', shape, bias.shape);
      if (!sameShape(bs, shape))
        throw shapeError('matmul', 'bias must broadcast to the product', { a, b, bias });
    }
    return [{ dtype: 'float32', shape }];
  },
  lower(ctx, node) {
    const [a, b, bias] = node.inputs;
    const transA = node.attrs.transA === true;
    const transB = node.attrs.transB === true;
    const alpha = (node.attrs.alpha as number | undefined) ?? 1;
    const out = ctx.output(node, 0);
    if (a.rank === 2 && b.rank === 2) {
      const ins = [ctx.input(node, 0), ctx.input(node, 1)];
      if (bias) ins.push(ctx.input(node, 2));
      ctx.emit('Gemm', ins, [out], {
        transA: { type: 'int', value: transA ? 1 : 0 },
        transB: { type: 'int', value: transB ? 1 : 0 },
        alpha: { type: 'float', value: alpha },
        beta: { type: 'float', value: 1 },
      });
      return;
    }
    const t = (name: string, x: SymbolicTensor): string => {
      const perm = x.shape.map((_, i) => i);
      const r = perm.length;
      [perm[r - 2], perm[r - 1]] = [perm[r - 1], perm[r - 2]];
      return ctx.emit('Transpose', [name], 1, { perm: { type: 'ints', value: perm } })[0];
    };
    let ia = ctx.input(node, 0);
    let ib = ctx.input(node, 1);
    if (transA) ia = t(ia, a);
    if (transB) ib = t(ib, b);
    let y = alpha === 1 && !bias ? out : ctx.emit('MatMul', [ia, ib], 1)[0];
    if (y === out) {
      ctx.emit('MatMul', [ia, ib], [out]);
      return;
    }
    if (alpha !== 1) y = ctx.emit('Mul', [y, ctx.float32(alpha)], bias ? 1 : [out])[0];
    if (bias) ctx.emit('Add', [y, ctx.input(node, 2)], [out]);
  },
  exactGrads: true,
  grad(g, ctx, node, [gy]) {
    const gc = gy as SymbolicTensor;
    const [a, b, bias] = node.inputs;
    const transA = node.attrs.transA === true;
    const transB = node.attrs.transB === true;
    const alpha = (node.attrs.alpha as number | undefined) ?? 1;
    const scaled = (x: SymbolicTensor): SymbolicTensor => (alpha === 1 ? x : g.mul(x, alpha));
    let ga: SymbolicTensor | null = null;
    let gb: SymbolicTensor | null = null;
    if (ctx.needs(0)) {
      // C = op(A)·op(B): dop(A) = G·op(B)ᵀ; for transA, dA = op(B)·Gᵀ.
      ga = transA
        ? g.matmul(b, gc, { transposeA: transB, transposeB: true })
        : g.matmul(gc, b, { transposeB: !transB });
      ga = ctx.reduceTo(scaled(ga), a.shape);
    }
    if (ctx.needs(1)) {
      // dop(B) = op(A)ᵀ·G; for transB, dB = Gᵀ·op(A).
      gb = transB
        ? g.matmul(gc, a, { transposeA: true, transposeB: transA })
        : g.matmul(a, gc, { transposeA: !transA });
      gb = ctx.reduceTo(scaled(gb), b.shape);
    }
    const gbias = bias && ctx.needs(2) ? ctx.reduceTo(gc, bias.shape) : null;
    return bias ? [ga, gb, gbias] : [ga, gb];
  },
};

export const LINALG_OPS: readonly OpDef[] = [MatMul];
