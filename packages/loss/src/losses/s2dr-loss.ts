import type { GraphBuilder, SymbolicTensor } from '@promax/tensor';
import { checkSameDim, checkTemperature, checkTensor, checkWeight } from './checks.js';

export interface S2drLossOptions {
  /** [Bu, d]: original-graph embeddings of the batch's unique users U_B. */
  zU: SymbolicTensor;
  /** [Bu, d]: augmented-graph (R′) embeddings of the same users, same parameters. */
  zUAug: SymbolicTensor;
  /** [Bi, d]: original-graph embeddings of the batch's unique positive items I_B. */
  zI: SymbolicTensor;
  /** [Bi, d]: augmented-graph embeddings of the same items. */
  zIAug: SymbolicTensor;
  /** [B, d]: original-graph user embedding of each triple (repeats allowed). */
  zUBatch: SymbolicTensor;
  /** [B, d]: original-graph positive-item embedding of each triple. */
  zIBatch: SymbolicTensor;
  /** [B, d]: augmented-graph user embedding of each triple. */
  zUAugBatch: SymbolicTensor;
  /** [B, d]: augmented-graph positive-item embedding of each triple. */
  zIAugBatch: SymbolicTensor;
  /** Temperature τs (the settings schema holds the default: 0.2; 0.5 on Steam). */
  tauS: number;
  /** λ2 ≥ 0. With 0 nothing is built and every term is a constant 0. */
  lambda2: number;
  /**
   * ε inside −log(softmax_diag + ε) of L_u and L_i: 0 is method.md §4's plain form; the released
   * code uses 1e-5 there (`+ 10e-6`) and none in L_ui. The settings schema holds the default (1e-5).
   */
  infoNceEpsilon: number;
}

export interface S2drLoss {
  /** λ2 · (L_u + L_i + L_ui). */
  loss: SymbolicTensor;
  /** L_u = InfoNCE(z_u[U_B], z′_u[U_B]), before λ2. */
  user: SymbolicTensor;
  /** L_i = InfoNCE(z_i[I_B], z′_i[I_B]), before λ2. */
  item: SymbolicTensor;
  /** L_ui = ½[CE(ẑ_u ẑ′_iᵀ/τs, diag) + CE(ẑ′_u ẑ_iᵀ/τs, diag)] over the B triples, before λ2. */
  cross: SymbolicTensor;
}

/**
 * S2DR of method.md §4: cosine InfoNCE with in-batch negatives between the original and the
 * augmented view, InfoNCE(X, Y) = mean_k −log(exp(x̂_k·ŷ_k/τs) / Σ_m exp(x̂_k·ŷ_m/τs)):
 * L = λ2 · (InfoNCE(z_u, z′_u) + InfoNCE(z_i, z′_i) + ½[InfoNCE(z_u[u], z′_i[i⁺]) + InfoNCE(z′_u[u], z_i[i⁺])]).
 * The B×B cross terms use every triple (repeated users/items included) with the diagonal as labels.
 */
export function s2drLoss(g: GraphBuilder, options: S2drLossOptions): S2drLoss {
  const op = 's2drLoss';
  const t = (name: keyof S2drLossOptions): SymbolicTensor =>
    checkTensor(g, op, name, options[name] as SymbolicTensor, 2);
  const zU = t('zU');
  const zUAug = t('zUAug');
  const zI = t('zI');
  const zIAug = t('zIAug');
  const zUBatch = t('zUBatch');
  const zIBatch = t('zIBatch');
  const zUAugBatch = t('zUAugBatch');
  const zIAugBatch = t('zIAugBatch');
  const pairs: [string, SymbolicTensor, string, SymbolicTensor][] = [
    ['zUAug', zUAug, 'zU', zU],
    ['zIAug', zIAug, 'zI', zI],
    ['zIBatch', zIBatch, 'zUBatch', zUBatch],
    ['zUAugBatch', zUAugBatch, 'zUBatch', zUBatch],
    ['zIAugBatch', zIAugBatch, 'zUBatch', zUBatch],
  ];
  for (const [an, a, bn, b] of pairs) {
    checkSameDim(op, an, a, 0, bn, b, 0);
    checkSameDim(op, an, a, 1, bn, b, 1);
  }
  checkSameDim(op, 'zI', zI, 1, 'zU', zU, 1);
  checkSameDim(op, 'zUBatch', zUBatch, 1, 'zU', zU, 1);
  const tauS = options.tauS;
  checkTemperature(op, 'tauS', tauS);
  checkWeight(op, 'lambda2', options.lambda2);
  const eps = options.infoNceEpsilon;
  checkWeight(op, 'infoNceEpsilon', eps);
  if (options.lambda2 === 0) {
    const zero = g.scalar(0);
    return { loss: zero, user: zero, item: zero, cross: zero };
  }
  const user = infoNce(g, zU, zUAug, tauS, eps);
  const item = infoNce(g, zI, zIAug, tauS, eps);
  const cross = g.mul(g.add(g.infoNce(zUBatch, zIAugBatch, tauS), g.infoNce(zUAugBatch, zIBatch, tauS)), 0.5);
  return { loss: g.mul(g.addN([user, item, cross]), options.lambda2), user, item, cross };
}

/** Cosine InfoNCE, optionally with ε inside the log as the released code's L_u / L_i. */
function infoNce(
  g: GraphBuilder,
  x: SymbolicTensor,
  y: SymbolicTensor,
  tau: number,
  eps: number,
): SymbolicTensor {
  if (eps === 0) return g.infoNce(x, y, tau);
  const s = g.cosineSimilarity(x, y, 1 / tau);
  const positive = g.rowDot(g.mul(g.l2Normalize(x), 1 / tau), g.l2Normalize(y));
  const logProb = g.sub(positive, g.logSumExp(s, 1));
  return g.reduceMean(g.neg(g.log(g.add(g.exp(logProb), eps))));
}
