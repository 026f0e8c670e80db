import { PromaxError } from '@promax/core';
import type { GraphBuilder, SymbolicTensor } from '@promax/tensor';
import { checkSameDim, checkTemperature, checkTensor, checkWeight } from './checks.js';

/**
 * How −Σ p log q is formed:
 * - 'exact' (default): −Σ_i p_i log(q_i + ε) literally, as method.md §4 and the reference code
 *   (q is materialised over all items);
 * - 'logSoftmax': −Σ_i p_i log q_i = (Σp)·logsumexp(s) − Σ p·s, i.e. ε = 0. It never forms q or
 *   log q as [Bu, N] tensors (the Σ p·s term becomes a thin product), so it is cheaper; it
 *   differs from 'exact' only where q_i is comparable to ε.
 */
export type SdrForm = 'exact' | 'logSoftmax';

export interface SdrLossOptions {
  /** [Bu, d]: the model's (original-graph) embeddings of the batch's unique users U_B. */
  zUsers: SymbolicTensor;
  /** [N, d]: the model's embeddings of ALL items. */
  zItems: SymbolicTensor;
  /** [Bu, N]: teacher rows p(i|u) (usually an input fed from `SdrTeacher.rowsFor`); no gradient. */
  teacher: SymbolicTensor;
  /** [Bu]: entropy weights w_u (an input fed from `SdrTeacher.weightsFor`); no gradient. */
  weights: SymbolicTensor;
  /** Student temperature τq (the settings schema holds the default, 0.2). */
  tauQ: number;
  /** λ1 ≥ 0. With 0 nothing is built and the loss is a constant 0. */
  lambda1: number;
  /** 'exact' (the spec's −Σ p log(q + ε)) or 'logSoftmax' (the settings schema's default is 'exact'). */
  form: SdrForm;
  /** ε inside log(q + ε) of the 'exact' form (default 1e-8, as the spec). */
  epsilon?: number;
}

export interface SdrLoss {
  /** λ1 · mean_u w_u · CE_u (a float32 scalar). */
  loss: SymbolicTensor;
  /** mean_u w_u · CE_u, before λ1 (for logging). */
  weightedCrossEntropy: SymbolicTensor;
}

/**
 * SDR of method.md §4: q(i|u) = softmax_i(ẑ_u·ẑ_i/τq) over all items (ẑ = z/max(‖z‖, 1e-12)),
 * CE_u = −Σ_i p(i|u) log(q(i|u) + 1e-8), L = λ1 · mean_{u∈U_B} w_u · CE_u. The teacher and the
 * weights are wrapped in stopGradient, so the gradient is that of forward KL(p‖q) w.r.t. z only.
 * Works on any model's embeddings: pass `zUsers = g.gather(zAllUsers, batchUserIds)`.
 */
export function sdrLoss(g: GraphBuilder, options: SdrLossOptions): SdrLoss {
  const op = 'sdrLoss';
  const zUsers = checkTensor(g, op, 'zUsers', options.zUsers, 2);
  const zItems = checkTensor(g, op, 'zItems', options.zItems, 2);
  const teacher = checkTensor(g, op, 'teacher', options.teacher, 2);
  const weights = checkTensor(g, op, 'weights', options.weights, 1);
  checkSameDim(op, 'zItems', zItems, 1, 'zUsers', zUsers, 1);
  checkSameDim(op, 'teacher', teacher, 0, 'zUsers', zUsers, 0);
  checkSameDim(op, 'teacher', teacher, 1, 'zItems', zItems, 0);
  checkSameDim(op, 'weights', weights, 0, 'zUsers', zUsers, 0);
  const tauQ = options.tauQ;
  checkTemperature(op, 'tauQ', tauQ);
  checkWeight(op, 'lambda1', options.lambda1);
  const form = options.form;
  if (form !== 'exact' && form !== 'logSoftmax') {
    throw new PromaxError({
      code: 'INVALID_ARGUMENT',
      field: 'form',
      message: `${op}: unknown form '${String(form)}'`,
      fix: "use 'exact' or 'logSoftmax'",
    });
  }
  const epsilon = options.epsilon ?? 1e-8;
  checkWeight(op, 'epsilon', epsilon);
  if (options.lambda1 === 0) {
    const zero = g.scalar(0);
    return { loss: zero, weightedCrossEntropy: zero };
  }
  const logits = g.cosineSimilarity(zUsers, zItems, 1 / tauQ);
  const p = g.stopGradient(teacher);
  const ce = g.softCrossEntropy(logits, p, { epsilon: form === 'exact' ? epsilon : 0 });
  const weighted = g.reduceMean(g.mul(g.stopGradient(weights), ce));
  return { loss: g.mul(weighted, options.lambda1), weightedCrossEntropy: weighted };
}

export interface SdrInputs {
  /** int32 [Bu]: the batch's unique user ids (feed them sorted, as torch.unique does). */
  users: SymbolicTensor;
  /** float32 [Bu, N]: feed `SdrTeacher.rowsFor(users)`. */
  teacher: SymbolicTensor;
  /** float32 [Bu]: feed `SdrTeacher.weightsFor(users)`. */
  weights: SymbolicTensor;
}

/**
 * Declares the three SDR inputs with matching dims: `<prefix>users` int32 [Bu],
 * `<prefix>teacher` float32 [Bu, N] and `<prefix>weights` float32 [Bu] (prefix default 'sdr.').
 */
export function sdrInputs(
  g: GraphBuilder,
  numItems: number,
  options: { prefix?: string; usersDim?: string } = {},
): SdrInputs {
  if (!(Number.isInteger(numItems) && numItems >= 1)) {
    throw new PromaxError({
      code: 'INVALID_ARGUMENT',
      field: 'numItems',
      message: `sdrInputs: numItems must be an integer ≥ 1, got ${numItems}`,
    });
  }
  const prefix = options.prefix ?? 'sdr.';
  const bu = options.usersDim ?? 'Bu';
  return {
    users: g.input(`${prefix}users`, 'int32', [bu]),
    teacher: g.input(`${prefix}teacher`, 'float32', [bu, numItems]),
    weights: g.input(`${prefix}weights`, 'float32', [bu]),
  };
}
