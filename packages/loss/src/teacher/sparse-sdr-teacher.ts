import {
  type CsrMatrix,
  type Matrix,
  type NeighbourSearch,
  type ProgressHandler,
  PromaxError,
  Rng,
} from '@promax/core';
import type { EngineOptions } from '@promax/tensor';
import * as ort from 'onnxruntime-node';
import { checkIds, checkPositiveInt } from '../validate.js';
import { entropyWeight } from './entropy-weight.js';
import { checkTeacherInputs } from './teacher-inputs.js';
import { TeacherKernel } from './teacher-kernel.js';

/**
 * What the sparse teacher needs to find each user's top-K items: core's `NeighbourSearch`, which
 * any `@promax/retrieval` Retriever (exact, LanceDB ANN, …) fits structurally.
 */
export type TopKSource = NeighbourSearch;

export interface SparseSdrTeacherOptions {
  /** Preprocessed user profile vectors [users, d]. */
  userProfiles: Matrix;
  /** Preprocessed item profile vectors [items, d]. */
  itemProfiles: Matrix;
  /** Items kept per user (K ≥ 1). Larger than the item count: clamped, with an `info` note. */
  k: number;
  /** Temperature τp of p(i|u) ∝ exp(cos(u, i)/τp) over the user's top K (default 0.2). */
  tauP?: number;
  /** Items never in a user's support (usually the train matrix); omitted: none. */
  mask?: CsrMatrix;
  /** Bounds of the entropy weight w_u = clip(1 − H_u/log N, lo, hi) (default [0.1, 1]). */
  weightClip?: readonly [number, number];
  /**
   * false (default): keep the dense teacher's top-K probabilities as they are (normalised over
   * every item) and the rest of the row as one tail mass per user, which the student loss spreads
   * over sampled negatives; w_u from the full row's entropy. This approximates the dense teacher
   * with no top-K (the reference). true: renormalise the K kept probabilities and take w_u from
   * that row — exactly the dense teacher with `topK: K`, no tail.
   */
  renormalize?: boolean;
  /**
   * Retriever path, `renormalize: false`: items drawn uniformly per block of users to estimate
   * each user's partition sum and entropy outside the retrieved top-K (default 1024). With no more
   * items than this, every item is taken once and the estimate is exact. The onnxruntime path
   * computes both exactly.
   */
  tailSamples?: number;
  /** Seed of the tail samples (default 1). */
  seed?: number;
  /**
   * Finds the top-K items by profile cosine (e.g. a LanceDB ANN index); it is indexed with the
   * item profiles here and not released. Default: an exact blocked top-K on onnxruntime.
   */
  retriever?: TopKSource;
  /** Users per search / onnxruntime call (default 1024). */
  blockUsers?: number;
  engine?: EngineOptions;
  onProgress?: ProgressHandler;
}

export interface SparseSdrTeacherInfo {
  users: number;
  items: number;
  /** K actually used (the requested K clamped to the item count). */
  k: number;
  requestedK: number;
  tauP: number;
  masked: boolean;
  /** 'onnx-exact-topk' or the retriever's provider. */
  source: string;
  /** Whether the K kept probabilities were renormalised (the dense `topK` teacher) or carry a tail. */
  renormalized: boolean;
  /** How the tail mass and the entropy weights were computed. */
  tail: 'none' | 'exact' | 'sampled';
  /** Mean over users of the probability mass outside the top K (0 when renormalised). */
  meanTailMass: number;
  weightClip: readonly [number, number];
  /** Bytes held: users · K · (4 B id + 4 B probability). */
  sparseBytes: number;
  /** What the dense teacher would hold: users · items · 4 B. */
  denseBytes: number;
  /** Users whose support is shorter than K (exclusions left fewer items). */
  shortRows: number;
  weightStats: { min: number; mean: number; max: number };
  buildMs: number;
}

/**
 * SDR's teacher kept sparse (memory |U|·(K + 1) instead of |U|·|I|): each user's K most
 * profile-similar items with their dense-teacher probabilities p(i|u) = softmax over ALL items of
 * cos/τp, the remaining mass as `tail[u]`, and w_u from the full row's entropy. The student spreads
 * the tail evenly over sampled negatives (`sparseSdrBatch`), so the target keeps the dense
 * teacher's scale: a renormalised top K would put all the mass on K items, a far sharper target
 * than the dense row (measured: it overrides BPR). With `renormalize: true` it is instead exactly
 * the dense teacher with `topK: K`. Feed it to the student with `sparseSdrBatch` + `sparseSdrLoss`.
 */
export interface SparseSdrTeacher {
  readonly info: SparseSdrTeacherInfo;
  /** [users, K] item ids, best first; −1 pads short rows. */
  readonly ids: Int32Array;
  /** [users, K] probabilities matching `ids` (0 on padding); each row sums to 1 − tail[u]. */
  readonly probs: Float32Array;
  /** [users] mass of the row outside the kept items (all 0 when renormalised). */
  readonly tail: Float32Array;
  /** Support size of each user (K unless exclusions left fewer items). */
  readonly counts: Int32Array;
  /** w_u for every user. */
  readonly weights: Float32Array;
  weightsFor(users: Int32Array, out?: Float32Array): Float32Array;
}

/** Builds the sparse SDR teacher from a retriever (or an exact onnxruntime top-K). */
export async function buildSparseSdrTeacher(options: SparseSdrTeacherOptions): Promise<SparseSdrTeacher> {
  const t0 = performance.now();
  const { mask } = options;
  const { numUsers, numItems, tauP, weightClip } = checkTeacherInputs(options);
  checkPositiveInt(options.k, 'k');
  const blockUsers = options.blockUsers ?? 1024;
  checkPositiveInt(blockUsers, 'blockUsers');
  const emit = options.onProgress;
  const k = Math.min(options.k, numItems);
  if (k < options.k) {
    emit?.({
      type: 'info',
      message: `sparse SDR teacher: K = ${options.k} is larger than the ${numItems} items; clamped to ${k}`,
      data: { requestedK: options.k, k, items: numItems },
    });
  }

  const renormalize = options.renormalize ?? false;
  const tailSamples = options.tailSamples ?? 1024;
  checkPositiveInt(tailSamples, 'tailSamples');
  const ids = new Int32Array(numUsers * k).fill(-1);
  const probs = new Float32Array(numUsers * k);
  const counts = new Int32Array(numUsers);
  const weights = new Float32Array(numUsers);
  const tail = new Float32Array(numUsers);
  // entropies of the full rows (not renormalised), filled by the source; else from the kept rows
  const entropy = renormalize ? undefined : new Float64Array(numUsers);
  const store: Store = { ids, probs, counts, tail, entropy };
  const task = 'sdr-sparse-teacher';
  emit?.({ type: 'task-start', task, total: numUsers, unit: 'users' });
  const source = options.retriever
    ? await fromRetriever(
        options.retriever,
        { ...options, k, tauP, blockUsers, renormalize, tailSamples },
        store,
        (done) => emit?.({ type: 'task-progress', task, done, total: numUsers, unit: 'users' }),
      )
    : await fromKernel({ ...options, k, tauP, blockUsers, renormalize, tailSamples }, store, (done) =>
        emit?.({ type: 'task-progress', task, done, total: numUsers, unit: 'users' }),
      );
  let shortRows = 0;
  let wMin = Infinity;
  let wMax = -Infinity;
  let wSum = 0;
  let tailSum = 0;
  for (let u = 0; u < numUsers; u++) {
    if (counts[u] === 0) {
      throw new PromaxError({
        code: 'INVALID_DATA',
        field: 'mask',
        message: `user ${u} has every item masked, so its teacher distribution is empty`,
        fix: 'disable maskTrain, or drop users who interacted with every item',
        details: { user: u },
      });
    }
    if (counts[u] < k) shortRows++;
    let h = 0;
    if (entropy) h = entropy[u];
    else {
      for (let j = 0; j < counts[u]; j++) {
        const p = probs[u * k + j];
        if (p > 0) h -= p * Math.log(Math.max(p, 1e-12));
      }
    }
    tailSum += tail[u];
    const w = entropyWeight(h, numItems, weightClip);
    weights[u] = w;
    wMin = Math.min(wMin, w);
    wMax = Math.max(wMax, w);
    wSum += w;
  }
  const buildMs = performance.now() - t0;
  emit?.({ type: 'task-end', task, done: numUsers, elapsedMs: buildMs });
  const info: SparseSdrTeacherInfo = {
    users: numUsers,
    items: numItems,
    k,
    requestedK: options.k,
    tauP,
    masked: mask !== undefined,
    source,
    renormalized: renormalize,
    tail: renormalize ? 'none' : options.retriever && numItems > tailSamples ? 'sampled' : 'exact',
    meanTailMass: tailSum / numUsers,
    weightClip: [weightClip[0], weightClip[1]],
    sparseBytes: numUsers * k * 8 + (renormalize ? 0 : numUsers * 4),
    denseBytes: numUsers * numItems * 4,
    shortRows,
    weightStats: { min: wMin, mean: wSum / numUsers, max: wMax },
    buildMs,
  };
  return {
    info,
    ids,
    probs,
    tail,
    counts,
    weights,
    weightsFor(users: Int32Array, out?: Float32Array): Float32Array {
      checkIds(users, numUsers, 'users');
      const dst = out ?? new Float32Array(users.length);
      for (let r = 0; r < users.length; r++) dst[r] = weights[users[r]];
      return dst;
    },
  };
}

interface Store {
  ids: Int32Array;
  probs: Float32Array;
  counts: Int32Array;
  tail: Float32Array;
  /** Full-row entropies, when not renormalised. */
  entropy?: Float64Array;
}
type Resolved = SparseSdrTeacherOptions & {
  k: number;
  tauP: number;
  blockUsers: number;
  renormalize: boolean;
  tailSamples: number;
};

/**
 * Top-K by the retriever's cosine, in float64. Renormalised: softmax(cos/τp) over the found rows.
 * Otherwise the partition sum and entropy outside the found rows are estimated from `tailSamples`
 * items drawn uniformly (with replacement) per block of users — each drawn item outside the
 * user's support and mask stands for N/M items — or summed exactly when N ≤ `tailSamples`.
 */
async function fromRetriever(
  retriever: TopKSource,
  o: Resolved,
  store: Store,
  progress: (done: number) => void,
): Promise<string> {
  const { userProfiles, itemProfiles, mask, k, tauP, blockUsers, renormalize, tailSamples } = o;
  const d = userProfiles.cols;
  const numItems = itemProfiles.rows;
  await retriever.index(itemProfiles);
  const exps = new Float64Array(k);
  const exact = numItems <= tailSamples;
  const m = exact ? numItems : tailSamples;
  const sample = Int32Array.from({ length: m }, (_, i) => i);
  const scale = exact ? 1 : numItems / m;
  const rng = new Rng(o.seed ?? 1);
  const unitUsers = renormalize ? undefined : normalizeRows(userProfiles, 1 / tauP);
  const unitItems = renormalize ? undefined : normalizeRows(itemProfiles, 1);
  const skip = new Uint8Array(numItems);
  for (let start = 0; start < userProfiles.rows; start += blockUsers) {
    const end = Math.min(userProfiles.rows, start + blockUsers);
    const queries: Matrix = {
      rows: end - start,
      cols: d,
      data: userProfiles.data.subarray(start * d, end * d),
    };
    let exclude: CsrMatrix | undefined;
    if (mask) {
      const base = mask.indptr[start];
      exclude = {
        rows: end - start,
        cols: mask.cols,
        indptr: Int32Array.from(mask.indptr.subarray(start, end + 1), (v) => v - base),
        indices: mask.indices.subarray(base, mask.indptr[end]),
      };
    }
    const res = await retriever.doSearch({ queries, k, metric: 'cosine', exclude });
    if (!exact) for (let j = 0; j < m; j++) sample[j] = rng.nextInt(numItems);
    for (let r = 0; r < end - start; r++) {
      const u = start + r;
      const n = res.counts[r];
      let max = -Infinity;
      for (let j = 0; j < n; j++) max = Math.max(max, res.scores[r * k + j] / tauP);
      let sum = 0;
      let sumT = 0;
      for (let j = 0; j < n; j++) {
        const t = res.scores[r * k + j] / tauP;
        exps[j] = Math.exp(t - max);
        sum += exps[j];
        sumT += exps[j] * t;
      }
      let z = sum;
      if (unitUsers && unitItems) {
        // the rest of the row: items outside the support and the mask
        for (let j = 0; j < n; j++) skip[res.indices[r * k + j]] = 1;
        if (mask) for (let q = mask.indptr[u]; q < mask.indptr[u + 1]; q++) skip[mask.indices[q]] = 1;
        let rest = 0;
        let restT = 0;
        for (let j = 0; j < m; j++) {
          const i = sample[j];
          if (skip[i]) continue;
          let t = 0;
          for (let c = 0; c < d; c++) t += unitUsers[u * d + c] * unitItems[i * d + c];
          const e = Math.exp(t - max);
          rest += e;
          restT += e * t;
        }
        rest *= scale;
        restT *= scale;
        for (let j = 0; j < n; j++) skip[res.indices[r * k + j]] = 0;
        if (mask) for (let q = mask.indptr[u]; q < mask.indptr[u + 1]; q++) skip[mask.indices[q]] = 0;
        z = sum + rest;
        store.tail[u] = rest / z;
        // H = log Z_true − Σ p t, Z_true = e^max · z
        (store.entropy as Float64Array)[u] = max + Math.log(z) - (sumT + restT) / z;
      }
      for (let j = 0; j < n; j++) {
        store.ids[u * k + j] = res.indices[r * k + j];
        store.probs[u * k + j] = exps[j] / z;
      }
      store.counts[u] = n;
    }
    progress(end);
  }
  return retriever.provider;
}

/** Exact top-K on onnxruntime: the dense teacher's kernel in top-K mode, one block of users at a time. */
async function fromKernel(o: Resolved, store: Store, progress: (done: number) => void): Promise<string> {
  const { userProfiles, itemProfiles, mask, k, tauP, blockUsers, renormalize } = o;
  const numItems = itemProfiles.rows;
  const d = userProfiles.cols;
  const scaledUsers = normalizeRows(userProfiles, 1 / tauP);
  const itemsTensor = new ort.Tensor('float32', normalizeRows(itemProfiles, 1), [numItems, d]);
  const kernel = new TeacherKernel({ masked: mask !== undefined, topK: k, renormalize, engine: o.engine });
  const bias = mask ? new Float32Array(Math.min(blockUsers, userProfiles.rows) * numItems) : undefined;
  try {
    for (let start = 0; start < userProfiles.rows; start += blockUsers) {
      const end = Math.min(userProfiles.rows, start + blockUsers);
      const b = end - start;
      if (mask && bias) {
        for (let r = 0; r < b; r++)
          for (let q = mask.indptr[start + r]; q < mask.indptr[start + r + 1]; q++)
            bias[r * numItems + mask.indices[q]] = -Infinity;
      }
      const block = await kernel.run({
        users: scaledUsers.subarray(start * d, end * d),
        b,
        items: itemsTensor,
        bias: bias?.subarray(0, b * numItems),
      });
      if (mask && bias) bias.fill(0, 0, b * numItems);
      const idx = block.indices as Int32Array;
      for (let r = 0; r < b; r++) {
        const u = start + r;
        let n = 0;
        let kept = 0;
        for (let j = 0; j < k; j++) {
          const p = block.p[r * k + j];
          // masked items come back with probability 0 when fewer than K remain
          if (!(p > 0)) continue;
          store.ids[u * k + n] = idx[r * k + j];
          store.probs[u * k + n] = p;
          kept += p;
          n++;
        }
        store.counts[u] = n;
        if (store.entropy) {
          store.entropy[u] = block.entropy[r];
          store.tail[u] = Math.max(0, 1 - kept);
        }
      }
      progress(end);
    }
  } finally {
    await kernel.release();
  }
  return 'onnx-exact-topk';
}

/** Rows divided by max(‖row‖, 1e-12) then multiplied by `scale`, in float64, as float32. */
function normalizeRows(m: Matrix, scale: number): Float32Array {
  const { rows, cols, data } = m;
  const out = new Float32Array(data.length);
  for (let r = 0; r < rows; r++) {
    const o = r * cols;
    let ss = 0;
    for (let c = 0; c < cols; c++) ss += data[o + c] * data[o + c];
    const f = scale / Math.max(Math.sqrt(ss), 1e-12);
    for (let c = 0; c < cols; c++) out[o + c] = data[o + c] * f;
  }
  return out;
}
