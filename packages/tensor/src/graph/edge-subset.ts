import type { Adjacency, GraphBuilder } from './builder.js';

/**
 * The matrix holding only some of the stored entries of `base`, each at its value in `base`: Â ⊙ M
 * for a 0/1 edge-dropout mask M (RLMRec's `SpAdjEdgeDrop`: kept entries are not rescaled and not
 * renormalised). Inputs `<name>.src`, `<name>.dst` ([`<name>.E`]) and, for a weighted base,
 * `<name>.weight`; a factored base lends its row and column scales, so a kept entry costs what it
 * costs in `base` and a dropped one nothing. The kept set need not hold the twin d→s of a kept
 * s→d, so the result is not declared symmetric: its gradient runs over the swapped edge arrays.
 * Feed it with `edgeSubsetFeeds`.
 */
export function edgeSubset(g: GraphBuilder, name: string, base: Adjacency): Adjacency {
  const edges = `${name}.E`;
  const src = g.input(`${name}.src`, base.src.dtype, [edges]);
  const dst = g.input(`${name}.dst`, base.dst.dtype, [edges]);
  const shared = { name, rows: base.rows, cols: base.cols, edges, symmetric: false, src, dst };
  if (base.form === 'factored') return { ...shared, form: 'factored', left: base.left, right: base.right };
  return { ...shared, form: 'weighted', weight: g.input(`${name}.weight`, 'float32', [edges]) };
}
