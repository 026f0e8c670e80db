import { type CsrMatrix, type Matrix, type ProgressHandler, PromaxError } from '@promax/core';
import type { EngineOptions } from '@promax/tensor';
import * as ort from 'onnxruntime-node';
import { checkIds, checkPositiveInt } from '../validate.js';
import { entropyWeight } from './entropy-weight.js';
import { checkTeacherInputs } from './teacher-inputs.js';
import { type TeacherBlock, TeacherKernel } from './teacher-kernel.js';

export interface SdrTeacherOptions {
  /** Preprocessed user profile vectors [users, k] (rows are L2-normalised here again). */
  userProfiles: Matrix;
  /** Preprocessed item profile vectors [items, k]. */
  itemProfiles: Matrix;
  /** Temperature τp of p(i|u) = softmax_i(cos(u, i)/τp) (default 0.2). */
  tauP?: number;
  /**
   * Items to exclude from each user's distribution (usually the train matrix), renormalising
   * over the rest. Omitted: no masking (the reference).
   */
  mask?: CsrMatrix;
  /**
   * Keep only the K most probable items of each row and renormalise (null/omitted: all items,
   * the reference). K ≥ N means no truncation.
   */
  topK?: number | null;
  /** Bounds of the entropy weight w_u = clip(1 − H_u/log N, lo, hi) (default [0.1, 1]). */
  weightClip?: readonly [number, number];
  /**
   * Precompute every user's row when that takes at most this many bytes (default 1 GiB);
   * otherwise rows are computed on onnxruntime for each batch.
   */
  memoryBudgetBytes?: number;
  /** Users per onnxruntime call (default 1024). */
  blockUsers?: number;
  engine?: EngineOptions;
  onProgress?: ProgressHandler;
}

export interface SdrTeacherInfo {
  users: number;
  items: number;
  /** Width of the profile vectors. */
  dim: number;
  tauP: number;
  masked: boolean;
  /** Effective top-K (null: dense rows). */
  topK: number | null;
  weightClip: readonly [number, number];
  /** 'precomputed': every row held in memory; 'per-batch': rows computed in `rowsFor`. */
  storage: 'precomputed' | 'per-batch';
  /** Bytes of one stored row: N·4 (dense float32) or K·8 (top-K float32 + int32 ids). */
  bytesPerUser: number;
  /** users · bytesPerUser: what precomputing every row takes (Amazon-book dense ≈ 410 MB). */
  estimatedBytes: number;
  memoryBudgetBytes: number;
  /** Bytes of teacher rows actually held (0 per batch; the weights are not counted). */
  storedBytes: number;
  /** Entropy weights over all users. */
  weightStats: { min: number; mean: number; max: number; clippedLow: number; clippedHigh: number };
  buildMs: number;
}

/** The profile teacher p(i|u) of SDR and its entropy weights (method.md §3–4). */
export interface SdrTeacher {
  readonly info: SdrTeacherInfo;
  /** w_u for every user (float32, length `users`). */
  readonly weights: Float32Array;
  /**
   * Teacher rows of `users` (e.g. a batch's unique users), row-major [users.length, N], written
   * into `out` when given (it must hold at least users.length·N values); returns the filled view.
   */
  rowsFor(users: Int32Array, out?: Float32Array): Promise<Float32Array>;
  /** w_u of `users`, written into `out` when given. */
  weightsFor(users: Int32Array, out?: Float32Array): Float32Array;
  /** Frees the onnxruntime session (per-batch mode) and the stored rows. */
  release(): Promise<void>;
}

const DEFAULT_BUDGET = 2 ** 30;

/**
 * Builds the SDR teacher: p(i|u) = softmax_i(cos(ẽ_u, ẽ_i)/τp) over all items (optionally
 * masked and/or truncated to the top K, renormalised), and w_u = clip(1 − H_u/log N, 0.1, 1)
 * where H_u is the entropy of the row actually used. Everything runs blocked on onnxruntime.
 * Rows are precomputed when they fit `memoryBudgetBytes`, else computed per batch.
 */
export async function buildSdrTeacher(options: SdrTeacherOptions): Promise<SdrTeacher> {
  const t0 = performance.now();
  const { userProfiles, itemProfiles, mask } = options;
  const { numUsers, numItems, dim, tauP, weightClip } = checkTeacherInputs(options);
  let topK: number | null = options.topK ?? null;
  if (topK !== null) {
    checkPositiveInt(topK, 'topK');
    if (topK >= numItems) topK = null;
  }
  const memoryBudgetBytes = options.memoryBudgetBytes ?? DEFAULT_BUDGET;
  if (!(memoryBudgetBytes >= 0)) {
    throw new PromaxError({
      code: 'INVALID_ARGUMENT',
      field: 'memoryBudgetBytes',
      message: `memoryBudgetBytes must be ≥ 0, got ${memoryBudgetBytes}`,
    });
  }
  const blockUsers = options.blockUsers ?? 1024;
  checkPositiveInt(blockUsers, 'blockUsers');

  const bytesPerUser = topK === null ? numItems * 4 : topK * 8;
  const estimatedBytes = numUsers * bytesPerUser;
  const storage = estimatedBytes <= memoryBudgetBytes ? 'precomputed' : 'per-batch';
  const emit = options.onProgress;
  emit?.({
    type: 'info',
    message: `SDR teacher: ${numUsers} users × ${numItems} items${topK !== null ? ` (top ${topK})` : ''} take ${formatBytes(estimatedBytes)}; budget ${formatBytes(memoryBudgetBytes)} → ${storage}`,
    data: {
      users: numUsers,
      items: numItems,
      topK,
      bytesPerUser,
      estimatedBytes,
      memoryBudgetBytes,
      storage,
    },
  });

  // Unit rows in float64, users pre-divided by τp, stored as float32 for onnxruntime.
  const scaledUsers = normalizeRows(userProfiles, 1 / tauP);
  const unitItems = normalizeRows(itemProfiles, 1);
  const itemsTensor = new ort.Tensor('float32', unitItems, [numItems, dim]);
  const kernel = new TeacherKernel({ masked: mask !== undefined, topK, engine: options.engine });
  const biasBuffer = mask ? new Float32Array(Math.min(blockUsers, numUsers) * numItems) : undefined;

  /** Teacher rows (or only entropies) of the given users, in one onnxruntime call. */
  const runBlock = async (ids: ArrayLike<number>, entropyOnly: boolean): Promise<TeacherBlock> => {
    const b = ids.length;
    const rows = new Float32Array(b * dim);
    for (let r = 0; r < b; r++) rows.set(scaledUsers.subarray(ids[r] * dim, ids[r] * dim + dim), r * dim);
    let bias: Float32Array | undefined;
    if (mask && biasBuffer) {
      bias = biasBuffer.subarray(0, b * numItems);
      for (let r = 0; r < b; r++) {
        const u = ids[r];
        for (let q = mask.indptr[u]; q < mask.indptr[u + 1]; q++)
          bias[r * numItems + mask.indices[q]] = -Infinity;
      }
    }
    try {
      return await kernel.run({ users: rows, b, items: itemsTensor, bias, entropyOnly });
    } finally {
      if (mask && bias) {
        for (let r = 0; r < b; r++) {
          const u = ids[r];
          for (let q = mask.indptr[u]; q < mask.indptr[u + 1]; q++) bias[r * numItems + mask.indices[q]] = 0;
        }
      }
    }
  };

  const weights = new Float32Array(numUsers);
  const stored: TeacherBlock[] = [];
  const task = 'sdr-teacher';
  emit?.({ type: 'task-start', task, total: numUsers, unit: 'users' });
  const logN = Math.log(numItems);
  let clippedLow = 0;
  let clippedHigh = 0;
  for (let start = 0; start < numUsers; start += blockUsers) {
    const end = Math.min(numUsers, start + blockUsers);
    const ids = Int32Array.from({ length: end - start }, (_, r) => start + r);
    const block = await runBlock(ids, storage === 'per-batch');
    for (let r = 0; r < ids.length; r++) {
      const raw = 1 - block.entropy[r] / logN;
      if (raw < weightClip[0]) clippedLow++;
      if (raw > weightClip[1]) clippedHigh++;
      weights[start + r] = entropyWeight(block.entropy[r], numItems, weightClip);
    }
    if (storage === 'precomputed') stored.push(block);
    emit?.({ type: 'task-progress', task, done: end, total: numUsers, unit: 'users' });
  }
  let wMin = Infinity;
  let wMax = -Infinity;
  let wSum = 0;
  for (let u = 0; u < numUsers; u++) {
    wMin = Math.min(wMin, weights[u]);
    wMax = Math.max(wMax, weights[u]);
    wSum += weights[u];
  }
  const buildMs = performance.now() - t0;
  emit?.({ type: 'task-end', task, done: numUsers, elapsedMs: buildMs });
  const info: SdrTeacherInfo = {
    users: numUsers,
    items: numItems,
    dim,
    tauP,
    masked: mask !== undefined,
    topK,
    weightClip: [weightClip[0], weightClip[1]],
    storage,
    bytesPerUser,
    estimatedBytes,
    memoryBudgetBytes,
    storedBytes: storage === 'precomputed' ? estimatedBytes : 0,
    weightStats: { min: wMin, mean: wSum / numUsers, max: wMax, clippedLow, clippedHigh },
    buildMs,
  };

  const width = topK ?? numItems;
  /** Writes one stored-or-computed row set into out (dense). */
  const scatter = (block: TeacherBlock, r: number, out: Float32Array, o: number): void => {
    if (topK === null) {
      out.set(block.p.subarray(r * numItems, (r + 1) * numItems), o);
      return;
    }
    const idx = block.indices as Int32Array;
    out.fill(0, o, o + numItems);
    for (let j = 0; j < width; j++) out[o + idx[r * width + j]] = block.p[r * width + j];
  };
  // Per-batch computations share the bias buffer: run them one at a time.
  let queue: Promise<unknown> = Promise.resolve();
  let released = false;

  return {
    info,
    weights,
    weightsFor(users: Int32Array, out?: Float32Array): Float32Array {
      checkIds(users, numUsers, 'users');
      const dst = checkOut(out, users.length, 'out');
      for (let r = 0; r < users.length; r++) dst[r] = weights[users[r]];
      return dst;
    },
    async rowsFor(users: Int32Array, out?: Float32Array): Promise<Float32Array> {
      if (released)
        throw new PromaxError({ code: 'INVALID_ARGUMENT', message: 'this SDR teacher was released' });
      checkIds(users, numUsers, 'users');
      const dst = checkOut(out, users.length * numItems, 'out');
      if (storage === 'precomputed') {
        for (let r = 0; r < users.length; r++) {
          const u = users[r];
          scatter(stored[Math.floor(u / blockUsers)], u % blockUsers, dst, r * numItems);
        }
        return dst;
      }
      const job = queue.then(async () => {
        for (let start = 0; start < users.length; start += blockUsers) {
          const ids = users.subarray(start, Math.min(users.length, start + blockUsers));
          const block = await runBlock(ids, false);
          for (let r = 0; r < ids.length; r++) scatter(block, r, dst, (start + r) * numItems);
        }
        return dst;
      });
      queue = job.catch(() => undefined);
      return job;
    },
    async release(): Promise<void> {
      released = true;
      stored.length = 0;
      await queue;
      await kernel.release();
    },
  };
}

function checkOut(out: Float32Array | undefined, size: number, field: string): Float32Array {
  if (out === undefined) return new Float32Array(size);
  if (!(out instanceof Float32Array) || out.length < size) {
    throw new PromaxError({
      code: 'SHAPE_MISMATCH',
      field,
      message: `${field} must be a Float32Array of at least ${size} values, got ${out?.length ?? typeof out}`,
    });
  }
  return out.length === size ? out : out.subarray(0, size);
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

function formatBytes(n: number): string {
  if (n >= 2 ** 30) return `${(n / 2 ** 30).toFixed(2)} GiB`;
  if (n >= 2 ** 20) return `${(n / 2 ** 20).toFixed(1)} MiB`;
  return `${n} B`;
}
