import { PromaxError, type Rng } from '@promax/core';
import type { GraphBuilder, SymbolicTensor } from '@promax/tensor';
import type { SparseSdrTeacher } from '../teacher/sparse-sdr-teacher.js';
import { checkIds } from '../validate.js';
import { checkSameDim, checkTemperature, checkTensor, checkWeight } from './checks.js';

/**
 * Logit offset of padded candidate slots: exp(offset + s) underflows to exactly 0 in float32
 * for any cosine logit, so a padded slot adds nothing to the partition sum (and its target is 0).
 */
export const PAD_OFFSET = -1e4;

/**
 * The student side of sparse SDR, per user u with teacher support S_u (|S_u| = K), the dense
 * teacher's probabilities p_i on it and the tail mass τ_u = 1 − Σ_{S_u} p_i:
 *
 *   CE_u = −Σ_{i∈I} p_i s_i + log Z_u,   s = ẑ_u·ẑ_i/τq,   Z_u = Σ_{j∈I} e^{s_j}.
 *
 * The support part is exact. The rest is estimated from M negatives n_1…n_M drawn uniformly
 * (with replacement) from I \ S_u:
 *   - Σ_{j∉S_u} e^{s_j} ≈ ((N−K)/M) Σ_m e^{s_{n_m}}, an unbiased estimate: each negative's logit
 *     gets + log((N−K)/M) inside the log-sum-exp (the log-Q correction of sampled softmax with a
 *     uniform proposal);
 *   - Σ_{j∉S_u} p_j s_j ≈ (τ_u/M) Σ_m s_{n_m}: the tail mass spread evenly over the complement
 *     (exact in expectation when the teacher is flat outside its top K, which is where the tail
 *     is large), so each negative's target is τ_u/M.
 * The target term reads the raw logits (no correction), so the value is the estimate of CE_u
 * itself. log of an unbiased Ẑ is biased low by O(Var Ẑ / Z²), which shrinks as M grows.
 *
 * Exactness: when N − K ≤ M the whole complement is taken once, with offset 0 and target
 * τ_u/(N−K) each (the partition sum is then exact); with K = N there is no complement and the
 * loss equals the dense SDR exactly (see sparse-sdr-loss.test.ts). With a renormalised teacher
 * (τ_u = 0) the negatives only enter the partition sum: the dense SDR on the top-K teacher.
 */
export interface SparseSdrBatch {
  /** Users of the batch (as given). */
  users: Int32Array;
  /** Candidates per user: K + M. */
  width: number;
  /** [Bu, width] item ids (support first, then negatives); float32 so they ride the float feeds (exact below 2^24 items). */
  candidates: Float32Array;
  /** [Bu, width] targets: p on the support, the tail mass over the negatives, 0 on padding. */
  targets: Float32Array;
  /** [Bu, width] logit offsets: 0 on the support, log((N−K)/M) on sampled negatives, PAD_OFFSET on padding. */
  offsets: Float32Array;
  /** [Bu] entropy weights w_u. */
  weights: Float32Array;
  /** [Bu, width] row · N + candidate, for `sparseSdrLoss`'s `flatIds` (only with `{ flatIds: true }`). */
  flatIds?: BigInt64Array;
}

/**
 * Draws one batch's candidates: each user's teacher support plus `negatives` items sampled
 * uniformly from the items outside it (see `SparseSdrBatch` for the estimator). Deterministic
 * given `rng`'s state.
 */
export function sparseSdrBatch(
  teacher: SparseSdrTeacher,
  users: Int32Array,
  negatives: number,
  rng: Rng,
  options: { flatIds?: boolean } = {},
): SparseSdrBatch {
  const { k, items: n } = teacher.info;
  checkIds(users, teacher.info.users, 'users');
  if (!(Number.isInteger(negatives) && negatives >= 0)) {
    throw new PromaxError({
      code: 'INVALID_ARGUMENT',
      field: 'negatives',
      message: `negatives must be an integer ≥ 0, got ${negatives}`,
    });
  }
  const width = k + negatives;
  const bu = users.length;
  const candidates = new Float32Array(bu * width);
  const targets = new Float32Array(bu * width);
  const offsets = new Float32Array(bu * width).fill(PAD_OFFSET);
  const inSupport = new Uint8Array(n);
  for (let r = 0; r < bu; r++) {
    const u = users[r];
    const count = teacher.counts[u];
    const o = r * width;
    for (let j = 0; j < count; j++) {
      const id = teacher.ids[u * k + j];
      candidates[o + j] = id;
      targets[o + j] = teacher.probs[u * k + j];
      offsets[o + j] = 0;
      inSupport[id] = 1;
    }
    const rest = n - count;
    const tailMass = teacher.tail[u];
    let slot = o + k;
    if (rest <= negatives) {
      // the whole complement fits: no estimate needed
      const share = rest > 0 ? tailMass / rest : 0;
      for (let i = 0; i < n; i++) {
        if (inSupport[i]) continue;
        candidates[slot] = i;
        offsets[slot] = 0;
        targets[slot] = share;
        slot++;
      }
    } else {
      const correction = Math.log(rest / negatives);
      const share = tailMass / negatives;
      for (let m = 0; m < negatives; m++) {
        let i = rng.nextInt(n);
        while (inSupport[i]) i = rng.nextInt(n);
        candidates[slot] = i;
        offsets[slot] = correction;
        targets[slot] = share;
        slot++;
      }
    }
    for (let j = 0; j < count; j++) inSupport[teacher.ids[u * k + j]] = 0;
  }
  const batch: SparseSdrBatch = {
    users,
    width,
    candidates,
    targets,
    offsets,
    weights: teacher.weightsFor(users),
  };
  if (options.flatIds) {
    // int64 little-endian: the low word holds the (non-negative, < 2^31) value, the high word 0
    const flatIds = new BigInt64Array(bu * width);
    const words = new Int32Array(flatIds.buffer);
    for (let r = 0; r < bu; r++)
      for (let c = 0; c < width; c++) words[2 * (r * width + c)] = r * n + candidates[r * width + c];
    batch.flatIds = flatIds;
  }
  return batch;
}

export interface SparseSdrLossOptions {
  /** [Bu, d]: the model's embeddings of the batch's unique users. */
  zUsers: SymbolicTensor;
  /** [N, d]: the model's embeddings of all items (only candidate rows are read). */
  zItems: SymbolicTensor;
  /** [Bu, C] candidate ids as float32 (`SparseSdrBatch.candidates`). */
  candidates: SymbolicTensor;
  /** [Bu, C] (`SparseSdrBatch.targets`); no gradient. */
  targets: SymbolicTensor;
  /** [Bu, C] (`SparseSdrBatch.offsets`); no gradient. */
  offsets: SymbolicTensor;
  /** [Bu] (`SparseSdrBatch.weights`); no gradient. */
  weights: SymbolicTensor;
  /**
   * [Bu, C] int64 (`SparseSdrBatch.flatIds`): computes the candidates' logits from one [Bu, N]
   * product of the batch users and all items instead of gathering [Bu, C, d] item vectors — the
   * same values, cheaper in time and memory when N ≤ C·d (small catalogues, large K).
   */
  flatIds?: SymbolicTensor;
  /** Student temperature τq (default 0.2). */
  tauQ?: number;
  /** λ1 ≥ 0; with 0 the loss is a constant 0. */
  lambda1: number;
}

/**
 * SDR with a sparse teacher: λ1 · mean_u w_u · CE_u over the candidates of `sparseSdrBatch`
 * (see `SparseSdrBatch` for CE_u and its correction). Cost per batch: Bu·(K+M)·d gathered item
 * values and no [Bu, N] tensor; or, with `flatIds`, one [Bu, N] product (cheaper when N ≤ (K+M)·d).
 */
export function sparseSdrLoss(
  g: GraphBuilder,
  options: SparseSdrLossOptions,
): { loss: SymbolicTensor; weightedCrossEntropy: SymbolicTensor } {
  const op = 'sparseSdrLoss';
  const zUsers = checkTensor(g, op, 'zUsers', options.zUsers, 2);
  const zItems = checkTensor(g, op, 'zItems', options.zItems, 2);
  const candidates = checkTensor(g, op, 'candidates', options.candidates, 2);
  const targets = checkTensor(g, op, 'targets', options.targets, 2);
  const offsets = checkTensor(g, op, 'offsets', options.offsets, 2);
  const weights = checkTensor(g, op, 'weights', options.weights, 1);
  checkSameDim(op, 'zItems', zItems, 1, 'zUsers', zUsers, 1);
  checkSameDim(op, 'candidates', candidates, 0, 'zUsers', zUsers, 0);
  checkSameDim(op, 'targets', targets, 1, 'candidates', candidates, 1);
  checkSameDim(op, 'offsets', offsets, 1, 'candidates', candidates, 1);
  checkSameDim(op, 'weights', weights, 0, 'zUsers', zUsers, 0);
  const tauQ = options.tauQ ?? 0.2;
  checkTemperature(op, 'tauQ', tauQ);
  checkWeight(op, 'lambda1', options.lambda1);
  if (options.lambda1 === 0) {
    const zero = g.scalar(0);
    return { loss: zero, weightedCrossEntropy: zero };
  }
  const scaledUsers = g.mul(g.l2Normalize(zUsers), 1 / tauQ); // [Bu, d]
  let logits: SymbolicTensor; // [Bu, C]
  if (options.flatIds) {
    const all = g.matmul(scaledUsers, g.l2Normalize(zItems), { transposeB: true }); // [Bu, N]
    const flatIds = checkTensor(g, op, 'flatIds', options.flatIds, 2, 'int64');
    checkSameDim(op, 'flatIds', flatIds, 1, 'candidates', candidates, 1);
    logits = g.gather(g.reshape(all, [-1]), flatIds);
  } else {
    const items = g.l2Normalize(g.gather(zItems, g.cast(candidates, 'int32'))); // [Bu, C, d]
    logits = g.reduceSum(g.mul(g.unsqueeze(scaledUsers, 1), items), [2]);
  }
  // log Ẑ over the corrected logits; the target term over the raw ones (see SparseSdrBatch)
  const logZ = g.logSumExp(g.add(logits, g.stopGradient(offsets)), 1);
  const ce = g.sub(logZ, g.reduceSum(g.mul(g.stopGradient(targets), logits), [1]));
  const weighted = g.reduceMean(g.mul(g.stopGradient(weights), ce));
  return { loss: g.mul(weighted, options.lambda1), weightedCrossEntropy: weighted };
}

/**
 * Declares the sparse SDR inputs `<prefix>candidates|targets|offsets` [Bu, width],
 * `<prefix>weights` [Bu] and, with `flatIds`, `<prefix>flat` [Bu, width] int64; width = K +
 * negatives (`SparseSdrBatch.width`).
 */
export function sparseSdrInputs(
  g: GraphBuilder,
  width: number,
  options: { prefix?: string; usersDim?: string; flatIds?: boolean } = {},
): {
  candidates: SymbolicTensor;
  targets: SymbolicTensor;
  offsets: SymbolicTensor;
  weights: SymbolicTensor;
  flatIds?: SymbolicTensor;
} {
  const prefix = options.prefix ?? 'sdr.';
  const bu = options.usersDim ?? 'Bu';
  if (!(Number.isInteger(width) && width >= 1)) {
    throw new PromaxError({
      code: 'INVALID_ARGUMENT',
      field: 'width',
      message: `sparseSdrInputs: width must be an integer ≥ 1, got ${width}`,
    });
  }
  const c = width;
  return {
    candidates: g.input(`${prefix}candidates`, 'float32', [bu, c]),
    targets: g.input(`${prefix}targets`, 'float32', [bu, c]),
    offsets: g.input(`${prefix}offsets`, 'float32', [bu, c]),
    weights: g.input(`${prefix}weights`, 'float32', [bu]),
    ...(options.flatIds ? { flatIds: g.input(`${prefix}flat`, 'int64', [bu, c]) } : {}),
  };
}
