import type { Adjacency, GraphBuilder } from './builder.js';
import type { SymbolicTensor } from './ir.js';

export interface LayerPropagationOptions {
  /** Propagation layers L (E^(l) = Â E^(l−1)). */
  readonly layers: number;
  /**
   * 'sum': Σ_{l=1..L} E^(l) (ProMax's LightGCN, method.md §6); 'mean': mean over E^(0..L) (LightGCN
   * paper); 'sum0': Σ_{l=0..L} E^(l) (RLMRec's released LightGCN, `--protocol rlmrec`).
   */
  readonly combination: 'sum' | 'mean' | 'sum0';
}

/**
 * LightGCN's parameter-free propagation of stacked user+item embeddings over a normalised graph,
 * combined over layers: the one implementation LightGCN and SGL (and any LightGCN-style model)
 * encode with.
 */
export function layerPropagation(
  g: GraphBuilder,
  x0: SymbolicTensor,
  graph: Adjacency,
  { layers, combination }: LayerPropagationOptions,
): SymbolicTensor {
  let x = x0;
  const outs = combination === 'sum' ? [] : [x];
  for (let l = 0; l < layers; l++) {
    x = g.propagate(x, graph);
    outs.push(x);
  }
  const z = g.addN(outs);
  return combination === 'mean' ? g.mul(z, 1 / (layers + 1)) : z;
}
