import { type Matrix, type ProgressHandler, PromaxError } from '@promax/core';
import type { EngineOptions } from '@promax/tensor';
import { checkMatrix } from '../validate.js';
import { Float64Kernels } from './float64-kernels.js';
import {
  applyWhiteningWith,
  fitWhiteningWith,
  l2NormalizeRows,
  type Whitening,
  type WhiteningTimings,
} from './whitening.js';

/**
 * How profile vectors become the vectors whose cosines define p(i|u):
 * - 'separate': PCA whitening fitted on users and on items separately (the reference code);
 * - 'joint': one whitening fitted on the stacked users + items, applied to both (users and items
 *   then share one coordinate system);
 * - 'none': no reduction, cosine in the full embedding space (rows only L2-normalised).
 */
export type PreprocessMode = 'separate' | 'joint' | 'none';

export interface PreprocessProfilesInput {
  /** User profile embeddings, one row per user (e.g. 11,000 × 1536). */
  users: Matrix;
  /** Item profile embeddings, one row per item, same width as `users`. */
  items: Matrix;
  /** Whitened dimension (method.md: the model's embedding size, 32). Ignored by mode 'none'. */
  k?: number;
  /** Default 'separate' (the reference). */
  mode?: PreprocessMode;
  /** Eigenvalue regulariser, see {@link FitWhiteningOptions.eps} (default 0). */
  eps?: number;
  /** See {@link FitWhiteningOptions.rankTolerance}. */
  rankTolerance?: number;
  /** Rows per onnxruntime call (default 4096). */
  blockRows?: number;
  engine?: EngineOptions;
  onProgress?: ProgressHandler;
}

export interface PreprocessInfo {
  mode: PreprocessMode;
  /** Width of the input profiles (D). */
  inputDim: number;
  /** Width of the output vectors (k, or D for mode 'none'). */
  dim: number;
  users: number;
  items: number;
  /** Share of the variance kept by the k axes, per fit ('joint': the same fit for both). */
  explainedVariance: { users?: number; items?: number };
  /** Time per fit (covariance on onnxruntime, eigendecomposition in JS). */
  timings: { users?: WhiteningTimings; items?: WhiteningTimings; joint?: WhiteningTimings };
  elapsedMs: number;
}

export interface PreprocessedProfiles {
  /** Whitened, L2-normalised user vectors [users, dim]. */
  users: Matrix;
  /** Whitened, L2-normalised item vectors [items, dim]. */
  items: Matrix;
  /**
   * The fitted whitenings (everything needed to cache and re-apply them): `users` and `items`
   * for 'separate', the same object under both keys for 'joint', none for 'none'.
   */
  whitening: { users?: Whitening; items?: Whitening };
  info: PreprocessInfo;
}

/**
 * Profile preprocessing of method.md §2: PCA whitening to k dimensions (fitted separately, jointly,
 * or not at all), then L2 normalisation of every row. Deterministic. Caching the result is the
 * caller's job: `whitening` and the output matrices hold everything needed.
 */
export async function preprocessProfiles(input: PreprocessProfilesInput): Promise<PreprocessedProfiles> {
  const t0 = performance.now();
  const { users, items } = input;
  checkMatrix(users, 'users');
  checkMatrix(items, 'items');
  if (users.cols !== items.cols) {
    throw new PromaxError({
      code: 'SHAPE_MISMATCH',
      field: 'items',
      message: `user profiles are ${users.cols}-d but item profiles are ${items.cols}-d`,
      fix: 'embed users and items with the same text-embedding model',
    });
  }
  const mode = input.mode ?? 'separate';
  if (mode !== 'separate' && mode !== 'joint' && mode !== 'none') {
    throw new PromaxError({
      code: 'INVALID_ARGUMENT',
      field: 'mode',
      message: `unknown preprocessing mode '${String(mode)}'`,
      fix: "use 'separate', 'joint' or 'none'",
    });
  }
  const emit = input.onProgress;
  const task = 'profile-preprocess';
  const base = { mode, inputDim: users.cols, users: users.rows, items: items.rows };
  if (mode === 'none') {
    const out = { users: l2NormalizeRows(users), items: l2NormalizeRows(items) };
    return {
      ...out,
      whitening: {},
      info: {
        ...base,
        dim: users.cols,
        explainedVariance: {},
        timings: {},
        elapsedMs: performance.now() - t0,
      },
    };
  }
  if (input.k === undefined) {
    throw new PromaxError({
      code: 'INVALID_ARGUMENT',
      field: 'k',
      message: `mode '${mode}' needs the whitened dimension k`,
      fix: 'pass k (usually the model embedding size)',
    });
  }
  const fitOptions = {
    k: input.k,
    eps: input.eps,
    rankTolerance: input.rankTolerance,
    blockRows: input.blockRows,
  };
  const applyOptions = { blockRows: input.blockRows };
  const kernels = new Float64Kernels(input.engine);
  try {
    emit?.({ type: 'task-start', task, total: mode === 'joint' ? 1 : 2, unit: 'fits' });
    if (mode === 'joint') {
      const { whitening, timings } = await fitWhiteningWith(kernels, [users, items], fitOptions);
      const out = {
        users: await applyWhiteningWith(kernels, users, whitening, applyOptions),
        items: await applyWhiteningWith(kernels, items, whitening, applyOptions),
      };
      emit?.({ type: 'task-end', task, done: 1, elapsedMs: performance.now() - t0 });
      return {
        ...out,
        whitening: { users: whitening, items: whitening },
        info: {
          ...base,
          dim: whitening.dim,
          explainedVariance: { users: whitening.explainedVariance, items: whitening.explainedVariance },
          timings: { joint: timings },
          elapsedMs: performance.now() - t0,
        },
      };
    }
    const fu = await fitWhiteningWith(kernels, users, fitOptions);
    emit?.({ type: 'task-progress', task, done: 1, total: 2, unit: 'fits' });
    const fi = await fitWhiteningWith(kernels, items, fitOptions);
    const out = {
      users: await applyWhiteningWith(kernels, users, fu.whitening, applyOptions),
      items: await applyWhiteningWith(kernels, items, fi.whitening, applyOptions),
    };
    emit?.({ type: 'task-end', task, done: 2, elapsedMs: performance.now() - t0 });
    return {
      ...out,
      whitening: { users: fu.whitening, items: fi.whitening },
      info: {
        ...base,
        dim: input.k,
        explainedVariance: { users: fu.whitening.explainedVariance, items: fi.whitening.explainedVariance },
        timings: { users: fu.timings, items: fi.timings },
        elapsedMs: performance.now() - t0,
      },
    };
  } finally {
    await kernels.release();
  }
}
