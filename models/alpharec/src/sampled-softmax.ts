import type { GraphBuilder, SymbolicTensor } from '@promax/tensor';

/**
 * AlphaRec's sampled-softmax InfoNCE on L2-normalised vectors (baselines.md §5), a MEAN over the
 * batch: mean_b −log( e^{cos(u_b,p_b)/τ} / (e^{cos(u_b,p_b)/τ} + Σ_k e^{cos(u_b,n_bk)/τ}) ),
 * computed as logsumexp over the K + 1 logits minus the positive one.
 *
 * @param users [B, d] user vectors of the triples (not normalised)
 * @param pos [B, d] positive item vectors (not normalised)
 * @param items [N, d] every item's vector (not normalised): the negatives are gathered from it
 * @param negatives [B, K] int64 item ids
 */
export function sampledSoftmaxLoss(
  g: GraphBuilder,
  users: SymbolicTensor,
  pos: SymbolicTensor,
  items: SymbolicTensor,
  negatives: SymbolicTensor,
  tau: number,
): SymbolicTensor {
  // F.normalize (ε 1e-12) per row; items are normalised once, before the [B, K] gather.
  const u = g.mul(g.l2Normalize(users), 1 / tau);
  const positive = g.rowDot(u, g.l2Normalize(pos));
  const n = g.gather(g.l2Normalize(items), negatives);
  const negative = g.reduceSum(g.mul(g.unsqueeze(u, 1), n), [2]);
  const logits = g.concat([g.unsqueeze(positive, 1), negative], 1);
  logits.hints.maxAbs = (1 / tau) * (1 + 1e-6);
  return g.reduceMean(g.sub(g.logSumExp(logits, 1), positive));
}
