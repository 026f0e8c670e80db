import type { GraphBuilder } from '../builder.js';
import type { SymbolicTensor } from '../ir.js';
import { shapeError } from '../ops/checks.js';

/**
 * Largest |x| bound for which exp(x) is summed without any shift: e^40 · 10^13 terms is still
 * far below float32's max (3.4e38) and e^-40 is a normal float, so neither overflow nor total
 * underflow can happen, and no row-max pass (nor Gemm bias) is needed.
 */
const MAX_SHIFT_BOUND = 40;

function knownBound(x: SymbolicTensor): number | undefined {
  const b = x.hints.maxAbs;
  return b !== undefined && b <= MAX_SHIFT_BOUND ? b : undefined;
}

/** The scalar value of a scalar constant, if `t` is one. */
export function scalarConstant(t: SymbolicTensor): number | undefined {
  if (t.node.op !== 'Constant' || t.dtype !== 'float32') return undefined;
  const data = t.node.attrs.data as Float32Array;
  return data.length === 1 ? data[0] : undefined;
}

/** scale · x̂ ŷᵀ for row-normalised x [m, d], y [n, d]; tagged |value| ≤ |scale|. */
export function cosineSimilarity(
  g: GraphBuilder,
  x: SymbolicTensor,
  y: SymbolicTensor,
  scale: number,
): SymbolicTensor {
  if (x.rank !== 2 || y.rank !== 2 || x.shape[1] !== y.shape[1]) {
    throw shapeError('cosineSimilarity', 'expects x [m, d] and y [n, d]', { x, y });
  }
  // The scale goes on the small operand so no [m, n]-sized multiply is ever needed.
  const xs = scale === 1 ? g.l2Normalize(x) : g.mul(g.l2Normalize(x), scale);
  const s = g.matmul(xs, g.l2Normalize(y), { transposeB: true });
  s.hints.maxAbs = Math.abs(scale) * (1 + 1e-6);
  return s;
}

/** log Σ exp(x) along `axis`: unshifted when |x| has a small known bound, else shifted by the row max. */
export function logSumExp(
  g: GraphBuilder,
  x: SymbolicTensor,
  axis: number,
  keepdims: boolean,
): SymbolicTensor {
  if (knownBound(x) !== undefined) {
    // keepdims=true so the row sums are shared (CSE) with softmax's normalisation.
    const s = g.log(g.reduceSum(g.exp(x), [axis], true));
    return keepdims ? s : g.squeeze(s, [axis]);
  }
  const m = g.stopGradient(g.reduceMax(x, [axis], true));
  const s = g.add(g.log(g.reduceSum(g.exp(g.sub(x, m)), [axis], true)), m);
  return keepdims ? s : g.squeeze(s, [axis]);
}

/** exp(x) / Σ for bounded x (shares the exponentials with logSumExp); undefined otherwise. */
export function softmaxBounded(g: GraphBuilder, x: SymbolicTensor, axis: number): SymbolicTensor | undefined {
  if (knownBound(x) === undefined) return undefined;
  const e = g.exp(x);
  return g.mul(e, g.reciprocal(g.reduceSum(e, [axis], true)));
}

/**
 * Per-row Σ_j p_ij · s_ij over the last axis. When s is (a scaled or shifted) 2-D product A·op(B),
 * it equals rowDot(A, p·op(B)ᵀ): a thin product instead of an [m, n] elementwise pass.
 */
export function sumProduct(g: GraphBuilder, p: SymbolicTensor, s: SymbolicTensor): SymbolicTensor {
  const n = s.node;
  if (n.op === 'MatMul' && s.rank === 2 && p.rank === 2 && n.inputs.length === 2 && n.attrs.transA !== true) {
    const [a, b] = n.inputs;
    const alpha = (n.attrs.alpha as number | undefined) ?? 1;
    const r = g.rowDot(a, g.matmul(p, b, { transposeB: n.attrs.transB !== true }));
    return alpha === 1 ? r : g.mul(r, alpha);
  }
  if (n.op === 'Add' || n.op === 'Sub' || n.op === 'Mul') {
    const [u, v] = n.inputs;
    const cu = scalarConstant(u);
    const cv = scalarConstant(v);
    const c = cv ?? cu;
    if (c !== undefined) {
      const other = cv !== undefined ? u : v;
      const inner = sumProduct(g, p, other);
      if (n.op === 'Mul') return g.mul(inner, c);
      const shift = g.mul(g.reduceSum(p, [-1]), c);
      if (n.op === 'Add') return g.add(inner, shift);
      return cv !== undefined ? g.sub(inner, shift) : g.sub(shift, inner);
    }
  }
  return g.reduceSum(g.mul(p, s), [-1]);
}
