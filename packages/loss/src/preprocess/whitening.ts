import { type Matrix, PromaxError } from '@promax/core';
import type { EngineOptions } from '@promax/tensor';
import { symmetricTopEigen } from '../linalg/symmetric-eigen.js';
import { checkMatrix, checkNonNegativeNumber, checkPositiveInt } from '../validate.js';
import { Float64Kernels } from './float64-kernels.js';

/** A fitted PCA whitening (method.md §2): x ↦ diag(scales) · components · (x − mean). */
export interface Whitening {
  /** Profile dimension D. */
  readonly inputDim: number;
  /** Output dimension k. */
  readonly dim: number;
  /** Rows the fit saw (all matrices together for a joint fit). */
  readonly rows: number;
  /** μ, length D. */
  readonly mean: Float64Array;
  /**
   * The top-k principal axes, row-major k×D (row j is the unit eigenvector of the j-th largest
   * covariance eigenvalue; sign fixed so that its largest-magnitude entry is positive).
   */
  readonly components: Float64Array;
  /** S[:k]: the k largest eigenvalues of the sample covariance (denominator n − 1, as `np.cov`). */
  readonly eigenvalues: Float64Array;
  /** 1/√(S_j + eps): the whitening scale of each axis. */
  readonly scales: Float64Array;
  /** The eps used (0: plain whitening, the reference). */
  readonly eps: number;
  /** Σ S[:k] / trace(C): the share of the variance the k axes keep. */
  readonly explainedVariance: number;
}

export interface FitWhiteningOptions {
  /** Output dimension k, 1 ≤ k ≤ D (method.md: the model's embedding size, 32). */
  k: number;
  /**
   * Added to every eigenvalue before the inverse square root (default 0, the reference). With
   * eps > 0 a rank below k is allowed: the extra axes get scale 1/√eps.
   */
  eps?: number;
  /**
   * With eps = 0, an eigenvalue S_k ≤ rankTolerance · S_1 means the profiles span fewer than k
   * directions, and the fit fails (default 1e-9; float64 rounding noise is ~1e-14).
   */
  rankTolerance?: number;
  /** Rows per onnxruntime call (default 4096); bounds the float64 working copy. */
  blockRows?: number;
  /** Where the float64 products run (default: onnxruntime CPU). */
  engine?: EngineOptions;
}

export interface WhiteningTimings {
  /** Mean, finiteness check and covariance (onnxruntime). */
  covarianceMs: number;
  /** Top-k symmetric eigendecomposition (float64, JS). */
  eigenMs: number;
}

/**
 * Fits PCA whitening on the rows of `x` (one matrix, or several stacked, e.g. users and items for a
 * joint fit): μ = mean, C = cov(X − μ) = U S Uᵀ, keeps U[:, :k] and S[:k]. The covariance is
 * accumulated in float64 on onnxruntime, the eigenpairs come from a deterministic float64
 * tridiagonal solver, so the same input always gives the same bytes.
 *
 * Throws NON_FINITE for NaN/Inf rows, INVALID_DATA for fewer than two rows, zero variance, or
 * (with eps = 0) rank below k.
 */
export async function fitWhitening(
  x: Matrix | readonly Matrix[],
  options: FitWhiteningOptions,
): Promise<Whitening> {
  const kernels = new Float64Kernels(options.engine);
  try {
    return (await fitWhiteningWith(kernels, x, options)).whitening;
  } finally {
    await kernels.release();
  }
}

/** @internal fitWhitening with shared kernels, also returning timings. */
export async function fitWhiteningWith(
  kernels: Float64Kernels,
  x: Matrix | readonly Matrix[],
  options: FitWhiteningOptions,
): Promise<{ whitening: Whitening; timings: WhiteningTimings }> {
  const parts: readonly Matrix[] = Array.isArray(x) ? x : [x as Matrix];
  if (parts.length === 0) {
    throw new PromaxError({
      code: 'INVALID_ARGUMENT',
      field: 'x',
      message: 'fitWhitening needs at least one matrix',
    });
  }
  for (const [i, m] of parts.entries()) checkMatrix(m, parts.length > 1 ? `x[${i}]` : 'x');
  const dim = parts[0].cols;
  for (const [i, m] of parts.entries()) {
    if (m.cols !== dim) {
      throw new PromaxError({
        code: 'SHAPE_MISMATCH',
        field: `x[${i}]`,
        message: `matrices fitted jointly must have the same width: ${m.cols} vs ${dim}`,
        fix: 'embed users and items with the same text-embedding model',
      });
    }
  }
  const { k } = options;
  checkPositiveInt(k, 'k');
  if (k > dim) {
    throw new PromaxError({
      code: 'INVALID_ARGUMENT',
      field: 'k',
      message: `cannot whiten ${dim}-d profiles to k = ${k} dimensions`,
      fix: `use k ≤ ${dim}, or mode 'none' to keep the full space`,
    });
  }
  const eps = options.eps ?? 0;
  checkNonNegativeNumber(eps, 'eps');
  const rankTolerance = options.rankTolerance ?? 1e-9;
  checkNonNegativeNumber(rankTolerance, 'rankTolerance');
  const blockRows = options.blockRows ?? 4096;
  checkPositiveInt(blockRows, 'blockRows');
  const rows = parts.reduce((s, m) => s + m.rows, 0);
  if (rows < 2) {
    throw new PromaxError({
      code: 'INVALID_DATA',
      field: 'x',
      message: `a covariance needs at least 2 rows, got ${rows}`,
    });
  }
  if (eps === 0 && k > rows - 1) {
    throw new PromaxError({
      code: 'INVALID_DATA',
      field: 'k',
      message: `${rows} rows span at most ${rows - 1} directions after centring, fewer than k = ${k}`,
      fixFor: {
        cli: 'lower the profile dimension (--set promax.preprocess.dim=N), regularise (--set promax.preprocess.eps=1e-6), or skip whitening (--set promax.preprocess.mode=none)',
        library:
          "lower the profile dimension (preprocess.dim), pass preprocess.eps > 0, or use preprocess.mode 'none'",
      },
      details: { rows, k },
    });
  }

  const t0 = performance.now();
  const mean = columnMean(parts);
  let acc: Float64Array = new Float64Array(dim * dim);
  const block = new Float64Array(Math.min(blockRows, Math.max(...parts.map((m) => m.rows))) * dim);
  for (const m of parts) {
    for (let start = 0; start < m.rows; start += blockRows) {
      const count = Math.min(blockRows, m.rows - start);
      centreRows(m, start, count, mean, block);
      acc = await kernels.addGram(block.subarray(0, count * dim), count, dim, acc);
    }
  }
  const cov = acc;
  const inv = 1 / (rows - 1);
  let trace = 0;
  for (let i = 0; i < cov.length; i++) cov[i] *= inv;
  for (let i = 0; i < dim; i++) trace += cov[i * dim + i];
  const t1 = performance.now();
  const { values, vectors } = symmetricTopEigen(cov, dim, k);
  const t2 = performance.now();

  if (!(values[0] > 0)) {
    throw new PromaxError({
      code: 'INVALID_DATA',
      field: 'x',
      message: 'every profile row is identical: the covariance is zero',
      fixFor: {
        cli: 'check that the profiles were embedded (one vector per entity), or skip whitening (--set promax.preprocess.mode=none)',
        library:
          "check that the profiles were embedded (one vector per entity), or use preprocess.mode 'none'",
      },
    });
  }
  if (eps === 0 && !(values[k - 1] > rankTolerance * values[0])) {
    let rank = 0;
    while (rank < k && values[rank] > rankTolerance * values[0]) rank++;
    throw new PromaxError({
      code: 'INVALID_DATA',
      field: 'k',
      message: `the profiles span only ${rank} direction(s) with non-zero variance (S_${k} = ${values[k - 1].toExponential(3)}, S_1 = ${values[0].toExponential(3)}), fewer than k = ${k}`,
      fixFor: {
        cli: `lower the profile dimension (--set promax.preprocess.dim=${rank}), regularise (--set promax.preprocess.eps=1e-6), or skip whitening (--set promax.preprocess.mode=none)`,
        library: `lower the profile dimension (preprocess.dim ≤ ${rank}), pass preprocess.eps > 0 to regularise, or use preprocess.mode 'none'`,
      },
      details: { rank, k, eigenvalues: Array.from(values) },
    });
  }
  const scales = new Float64Array(k);
  let kept = 0;
  for (let j = 0; j < k; j++) {
    scales[j] = 1 / Math.sqrt(Math.max(values[j], 0) + eps);
    kept += Math.max(values[j], 0);
  }
  return {
    whitening: {
      inputDim: dim,
      dim: k,
      rows,
      mean,
      components: vectors,
      eigenvalues: values,
      scales,
      eps,
      explainedVariance: trace > 0 ? kept / trace : 0,
    },
    timings: { covarianceMs: t1 - t0, eigenMs: t2 - t1 },
  };
}

export interface ApplyWhiteningOptions {
  /** L2-normalise each output row (default true: ProMax uses cosine similarities). */
  normalize?: boolean;
  /** Rows per onnxruntime call (default 4096). */
  blockRows?: number;
  engine?: EngineOptions;
}

/**
 * X̃ = (X − μ) U[:, :k] diag(S[:k] + eps)^{-1/2}, then (by default) each row divided by
 * max(‖row‖₂, 1e-12) (PyTorch F.normalize: an all-zero row stays zero). Float64 inside, float32 out.
 */
export async function applyWhitening(
  x: Matrix,
  whitening: Whitening,
  options: ApplyWhiteningOptions = {},
): Promise<Matrix> {
  const kernels = new Float64Kernels(options.engine);
  try {
    return await applyWhiteningWith(kernels, x, whitening, options);
  } finally {
    await kernels.release();
  }
}

/** @internal */
export async function applyWhiteningWith(
  kernels: Float64Kernels,
  x: Matrix,
  whitening: Whitening,
  options: ApplyWhiteningOptions = {},
): Promise<Matrix> {
  checkMatrix(x, 'x');
  checkWhitening(whitening);
  const { inputDim: dim, dim: k, components, scales, mean } = whitening;
  if (x.cols !== dim) {
    throw new PromaxError({
      code: 'SHAPE_MISMATCH',
      field: 'x',
      message: `the whitening was fitted on ${dim}-d rows but x has ${x.cols} columns`,
      fix: 'apply it to profiles from the same embedding model',
    });
  }
  const blockRows = options.blockRows ?? 4096;
  checkPositiveInt(blockRows, 'blockRows');
  const normalize = options.normalize ?? true;
  const w = new Float64Array(dim * k);
  for (let j = 0; j < k; j++) {
    const s = scales[j];
    for (let i = 0; i < dim; i++) w[i * k + j] = components[j * dim + i] * s;
  }
  const out = new Float32Array(x.rows * k);
  const block = new Float64Array(Math.min(blockRows, x.rows) * dim);
  for (let start = 0; start < x.rows; start += blockRows) {
    const count = Math.min(blockRows, x.rows - start);
    centreRows(x, start, count, mean, block, 'x');
    const y = await kernels.matmul(block.subarray(0, count * dim), count, dim, w, k);
    for (let r = 0; r < count; r++) {
      let scale = 1;
      if (normalize) {
        let ss = 0;
        for (let j = 0; j < k; j++) ss += y[r * k + j] * y[r * k + j];
        scale = 1 / Math.max(Math.sqrt(ss), 1e-12);
      }
      const o = (start + r) * k;
      for (let j = 0; j < k; j++) out[o + j] = y[r * k + j] * scale;
    }
  }
  return { rows: x.rows, cols: k, data: out };
}

/** Rows divided by max(‖row‖₂, 1e-12), computed in float64 (mode 'none'). */
export function l2NormalizeRows(x: Matrix): Matrix {
  checkMatrix(x, 'x');
  const { rows, cols, data } = x;
  const out = new Float32Array(data.length);
  for (let r = 0; r < rows; r++) {
    const o = r * cols;
    let ss = 0;
    for (let c = 0; c < cols; c++) {
      const v = data[o + c];
      if (!Number.isFinite(v)) throw nonFinite('x', r, c, v);
      ss += v * v;
    }
    const s = 1 / Math.max(Math.sqrt(ss), 1e-12);
    for (let c = 0; c < cols; c++) out[o + c] = data[o + c] * s;
  }
  return { rows, cols, data: out };
}

function checkWhitening(w: Whitening): void {
  const ok =
    w &&
    Number.isInteger(w.inputDim) &&
    Number.isInteger(w.dim) &&
    w.mean?.length === w.inputDim &&
    w.components?.length === w.dim * w.inputDim &&
    w.scales?.length === w.dim;
  if (!ok) {
    throw new PromaxError({
      code: 'INVALID_ARGUMENT',
      field: 'whitening',
      message: 'malformed whitening: mean must hold inputDim values, components dim×inputDim, scales dim',
      fix: 'pass the object returned by fitWhitening (or one restored with the same arrays)',
    });
  }
}

function nonFinite(field: string, row: number, col: number, value: number): PromaxError {
  return new PromaxError({
    code: 'NON_FINITE',
    field,
    message: `${field} row ${row} holds a non-finite value (${value}) at column ${col}`,
    fix: 'drop or re-embed that profile (NaN rows usually mean a failed embedding request)',
    details: { row, col },
  });
}

/** Column means in float64; throws NON_FINITE on the first NaN/Inf. */
function columnMean(parts: readonly Matrix[]): Float64Array {
  const dim = parts[0].cols;
  const sum = new Float64Array(dim);
  let rows = 0;
  parts.forEach((m, p) => {
    const field = parts.length > 1 ? `x[${p}]` : 'x';
    const { data } = m;
    for (let r = 0; r < m.rows; r++) {
      const o = r * dim;
      for (let c = 0; c < dim; c++) {
        const v = data[o + c];
        if (!Number.isFinite(v)) throw nonFinite(field, r, c, v);
        sum[c] += v;
      }
    }
    rows += m.rows;
  });
  for (let c = 0; c < dim; c++) sum[c] /= rows;
  return sum;
}

/** block[0 : count·D] = x[start : start+count] − μ, in float64. */
function centreRows(
  x: Matrix,
  start: number,
  count: number,
  mean: Float64Array,
  block: Float64Array,
  field?: string,
): void {
  const dim = x.cols;
  const { data } = x;
  for (let r = 0; r < count; r++) {
    const o = (start + r) * dim;
    const b = r * dim;
    for (let c = 0; c < dim; c++) {
      const v = data[o + c];
      if (field !== undefined && !Number.isFinite(v)) throw nonFinite(field, start + r, c, v);
      block[b + c] = v - mean[c];
    }
  }
}
