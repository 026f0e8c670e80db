import type { GraphBuilder } from '../builder.js';
import type { SymbolicTensor } from '../ir.js';
import { argError, shapeError } from '../ops/checks.js';

/**
 * x / max(‖x‖₂, eps) along `axis` (PyTorch F.normalize semantics), computed as
 * x / √max(Σx², eps²): the same values, but a zero row (e.g. a node whose every edge an edge
 * dropout removed) gets the finite gradient 1/eps of the clamped branch instead of the 0/0 that
 * √'s derivative at 0 would give after the clamp.
 */
export function l2Normalize(g: GraphBuilder, x: SymbolicTensor, axis: number, eps: number): SymbolicTensor {
  return g.div(x, g.sqrt(g.maximum(g.reduceSum(g.mul(x, x), [axis], true), eps * eps)));
}

/** Σ a⊙b over the last axis. */
export function rowDot(g: GraphBuilder, a: SymbolicTensor, b: SymbolicTensor): SymbolicTensor {
  const m = g.mul(a, b);
  return g.reduceSum(m, [m.rank - 1]);
}

/** Σ x² over every element. */
export function sumSquares(g: GraphBuilder, x: SymbolicTensor): SymbolicTensor {
  return g.reduceSum(g.mul(x, x));
}

/**
 * Soft-target cross-entropy per row along the last axis: −Σ_j p_j log softmax(s)_j
 * = (Σ_j p_j)·logsumexp(s) − Σ_j p_j s_j. With epsilon > 0: −Σ p log(softmax(s) + ε) literally.
 */
export function softCrossEntropy(
  g: GraphBuilder,
  logits: SymbolicTensor,
  targets: SymbolicTensor,
  epsilon: number,
): SymbolicTensor {
  if (logits.rank !== targets.rank || logits.shape.some((d, i) => d !== targets.shape[i])) {
    throw shapeError('softCrossEntropy', 'logits and targets must have the same shape', { logits, targets });
  }
  const axis = logits.rank - 1;
  if (epsilon > 0) {
    // q is formed anyway here, so the fused Softmax kernel beats exp(x)/Σ.
    const q = g.apply('Softmax', [logits], { axis })[0];
    return g.neg(g.reduceSum(g.mul(targets, g.log(g.add(q, epsilon))), [axis]));
  }
  const lse = g.logSumExp(logits, axis);
  return g.sub(g.mul(g.reduceSum(targets, [axis]), lse), g.sumProduct(targets, logits));
}

/** InfoNCE with in-batch negatives: mean_k [logsumexp_m(x̂_k·ŷ_m/τ) − x̂_k·ŷ_k/τ]. */
export function infoNce(
  g: GraphBuilder,
  x: SymbolicTensor,
  y: SymbolicTensor,
  temperature: number,
): SymbolicTensor {
  if (!(temperature > 0)) throw argError('infoNce', `temperature must be > 0, got ${temperature}`);
  if (x.rank !== 2 || x.shape[0] !== y.shape[0] || x.shape[1] !== y.shape[1]) {
    throw shapeError('infoNce', 'x and y must both be [B, d] with matching rows', { x, y });
  }
  const s = g.cosineSimilarity(x, y, 1 / temperature);
  const xs = g.mul(g.l2Normalize(x), 1 / temperature);
  const positive = g.rowDot(xs, g.l2Normalize(y));
  return g.reduceMean(g.sub(g.logSumExp(s, 1), positive));
}

/** Bayesian personalised ranking: mean softplus(neg − pos). */
export function bprLoss(g: GraphBuilder, pos: SymbolicTensor, neg: SymbolicTensor): SymbolicTensor {
  return g.reduceMean(g.softplus(g.sub(neg, pos)));
}

/** Inverted dropout: x ⊙ mask / (1 − rate), mask of 0/1 (float or bool) fed as an input. */
export function dropout(
  g: GraphBuilder,
  x: SymbolicTensor,
  mask: SymbolicTensor,
  rate: number,
): SymbolicTensor {
  if (!(rate >= 0 && rate < 1)) throw argError('dropout', `rate must be in [0, 1), got ${rate}`);
  if (rate === 0) return x;
  return g.mul(x, g.mul(g.cast(mask, 'float32'), 1 / (1 - rate)));
}
