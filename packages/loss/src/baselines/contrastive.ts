import type { GraphBuilder, SymbolicTensor } from '@promax/tensor';

/** x / √(1e-8 + Σx²) per row: RLMRec's `cal_infonce_loss` normalisation (not F.normalize). */
export function rlmrecNormalize(g: GraphBuilder, x: SymbolicTensor): SymbolicTensor {
  return g.div(x, g.sqrt(g.add(g.reduceSum(g.mul(x, x), [1], true), 1e-8)));
}

/** log(2²⁴): a bound on log(count) for any count a float32 holds exactly. */
const LOG_COUNT_BOUND = Math.log(2 ** 24);

/**
 * Duplicate rows folded out of an InfoNCE: `rows` [R] multiplies each row's term (how many batch rows
 * it stands for); `logColumns` [N] adds log c to each column's logit (one column standing for c
 * identical ones: c·exp(l) = exp(l + log c)). The value and gradients are those of the unfolded sum.
 */
export interface InfoNceWeights {
  readonly rows?: SymbolicTensor;
  readonly logColumns?: SymbolicTensor;
}

/**
 * RLMRec's InfoNCE (baselines.md §1), a SUM over rows of x:
 * Σ_b [ −cos(x_b, y_b)/τ + log Σ_j exp(cos(x_b, all_j)/τ) ], x, y [B, d], all [N, d].
 * The denominator includes the positive itself. With `weights`, a batch with repeated rows is
 * computed on its distinct rows (see {@link InfoNceWeights}).
 */
export function rlmrecInfoNce(
  g: GraphBuilder,
  x: SymbolicTensor,
  y: SymbolicTensor,
  all: SymbolicTensor,
  tau: number,
  weights: InfoNceWeights = {},
): SymbolicTensor {
  const xn = g.mul(rlmrecNormalize(g, x), 1 / tau);
  const positive = g.rowDot(xn, rlmrecNormalize(g, y));
  const product = g.matmul(xn, rlmrecNormalize(g, all), { transposeB: true });
  const logits = weights.logColumns ? g.add(product, g.reshape(weights.logColumns, [1, -1])) : product;
  logits.hints.maxAbs = (1 / tau) * (1 + 1e-6) + (weights.logColumns ? LOG_COUNT_BOUND : 0);
  const terms = g.sub(g.logSumExp(logits, 1), positive);
  return g.reduceSum(weights.rows ? g.mul(terms, weights.rows) : terms);
}

/**
 * RLMRec's `ssl_con_loss` (F.normalize, ε 1e-8 twice), a MEAN over rows:
 * mean_k −log( exp(cos(x_k, y_k)/τ) / (Σ_j exp(cos(x_k, y_j)/τ) + 1e-8) + 1e-8 ).
 */
export function sslConLoss(
  g: GraphBuilder,
  x: SymbolicTensor,
  y: SymbolicTensor,
  tau: number,
): SymbolicTensor {
  const xn = g.mul(g.l2Normalize(x), 1 / tau);
  const yn = g.l2Normalize(y);
  const positive = g.rowDot(xn, yn);
  const den = g.add(g.reduceSum(g.exp(g.matmul(xn, yn, { transposeB: true })), [1]), 1e-8);
  return g.reduceMean(g.neg(g.log(g.add(g.div(g.exp(positive), den), 1e-8))));
}

/**
 * ProEx's spreading term (baselines.md §3.2), τ fixed at 0.2 by the released code:
 * mean_a −log( exp(cos(x_a, x_a)/τ) / Σ_c exp(cos(x_a, x_c)/τ) + 1e-5 ), x [R, d].
 */
export function uniformityLoss(g: GraphBuilder, x: SymbolicTensor, tau: number): SymbolicTensor {
  const xn = g.l2Normalize(x);
  const xs = g.mul(xn, 1 / tau);
  const positive = g.rowDot(xs, xn);
  const logits = g.matmul(xs, xn, { transposeB: true });
  logits.hints.maxAbs = (1 / tau) * (1 + 1e-6);
  const logProb = g.sub(positive, g.logSumExp(logits, 1));
  return g.reduceMean(g.neg(g.log(g.add(g.exp(logProb), 1e-5))));
}
