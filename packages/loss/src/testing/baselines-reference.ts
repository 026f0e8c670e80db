/**
 * Float64 references of the rival methods' terms (baselines.md), written from the spec for tests.
 * Matrices are row-major { rows, cols, data: Float64Array }.
 */
export interface M64 {
  rows: number;
  cols: number;
  data: Float64Array;
}

export function m64(rows: number, cols: number, data?: ArrayLike<number>): M64 {
  return { rows, cols, data: data ? Float64Array.from(data) : new Float64Array(rows * cols) };
}

export function rows64(m: M64, ids: ArrayLike<number>): M64 {
  const out = m64(ids.length, m.cols);
  for (let k = 0; k < ids.length; k++)
    out.data.set(m.data.subarray(ids[k] * m.cols, (ids[k] + 1) * m.cols), k * m.cols);
  return out;
}

/** Aᵀ (e.g. an output-major [out, in] weight as the [in, out] matrix the references multiply by). */
export function transpose64(a: M64): M64 {
  const out = m64(a.cols, a.rows);
  for (let i = 0; i < a.rows; i++)
    for (let j = 0; j < a.cols; j++) out.data[j * a.rows + i] = a.data[i * a.cols + j];
  return out;
}

export function matmul64(a: M64, b: M64): M64 {
  const out = m64(a.rows, b.cols);
  for (let i = 0; i < a.rows; i++)
    for (let k = 0; k < a.cols; k++) {
      const v = a.data[i * a.cols + k];
      for (let j = 0; j < b.cols; j++) out.data[i * b.cols + j] += v * b.data[k * b.cols + j];
    }
  return out;
}

export function addBias64(a: M64, b: ArrayLike<number>): M64 {
  const out = m64(a.rows, a.cols, a.data);
  for (let i = 0; i < a.rows; i++) for (let j = 0; j < a.cols; j++) out.data[i * a.cols + j] += b[j];
  return out;
}

export function map64(a: M64, f: (v: number) => number): M64 {
  return { rows: a.rows, cols: a.cols, data: a.data.map(f) };
}

export function add64(a: M64, b: M64, scale = 1): M64 {
  return { rows: a.rows, cols: a.cols, data: a.data.map((v, i) => v + scale * b.data[i]) };
}

/** W₂·LeakyReLU(W₁x + b₁) + b₂ per row (slope 0.01; `relu` for KAR's experts, applied after both layers). */
export function mlp64(
  x: M64,
  w1: M64,
  b1: ArrayLike<number>,
  w2: M64,
  b2: ArrayLike<number>,
  act: 'leaky' | 'relu-both' = 'leaky',
): M64 {
  const f = act === 'leaky' ? (v: number) => (v > 0 ? v : 0.01 * v) : (v: number) => Math.max(v, 0);
  const h = map64(addBias64(matmul64(x, w1), b1), f);
  const o = addBias64(matmul64(h, w2), b2);
  return act === 'leaky' ? o : map64(o, f);
}

function dot(a: M64, i: number, b: M64, j: number): number {
  let s = 0;
  for (let c = 0; c < a.cols; c++) s += a.data[i * a.cols + c] * b.data[j * b.cols + c];
  return s;
}

function normRows(a: M64, eps: 'rlmrec' | 'torch'): M64 {
  const out = m64(a.rows, a.cols);
  for (let i = 0; i < a.rows; i++) {
    const n2 = dot(a, i, a, i);
    const n = eps === 'rlmrec' ? Math.sqrt(1e-8 + n2) : Math.max(Math.sqrt(n2), 1e-12);
    for (let c = 0; c < a.cols; c++) out.data[i * a.cols + c] = a.data[i * a.cols + c] / n;
  }
  return out;
}

/** RLMRec InfoNCE (sum over rows; denominator over every row of `all`, positive included). */
export function rlmrecInfoNce64(x: M64, y: M64, all: M64, tau: number): number {
  const xn = normRows(x, 'rlmrec');
  const yn = normRows(y, 'rlmrec');
  const an = normRows(all, 'rlmrec');
  let total = 0;
  for (let b = 0; b < x.rows; b++) {
    let s = 0;
    for (let j = 0; j < an.rows; j++) s += Math.exp(dot(xn, b, an, j) / tau);
    total += -dot(xn, b, yn, b) / tau + Math.log(s);
  }
  return total;
}

/** RLMRec ssl_con_loss (mean over rows, ε 1e-8 in the denominator and in the log). */
export function sslCon64(x: M64, y: M64, tau: number): number {
  const xn = normRows(x, 'torch');
  const yn = normRows(y, 'torch');
  let total = 0;
  for (let k = 0; k < x.rows; k++) {
    let den = 0;
    for (let j = 0; j < y.rows; j++) den += Math.exp(dot(xn, k, yn, j) / tau);
    total += -Math.log(Math.exp(dot(xn, k, yn, k) / tau) / (den + 1e-8) + 1e-8);
  }
  return total / x.rows;
}

/** ProEx uniformity (mean over rows, ε 1e-5 in the log). */
export function uniformity64(x: M64, tau: number): number {
  const xn = normRows(x, 'torch');
  let total = 0;
  for (let a = 0; a < x.rows; a++) {
    let den = 0;
    for (let c = 0; c < x.rows; c++) den += Math.exp(dot(xn, a, xn, c) / tau);
    total += -Math.log(Math.exp(dot(xn, a, xn, a) / tau) / den + 1e-5);
  }
  return total / x.rows;
}

/** BPR: mean softplus(u·n − u·p) over rows. */
export function bpr64(u: M64, p: M64, n: M64): number {
  let total = 0;
  for (let b = 0; b < u.rows; b++) {
    const x = dot(u, b, n, b) - dot(u, b, p, b);
    total += x > 0 ? x + Math.log1p(Math.exp(-x)) : Math.log1p(Math.exp(x));
  }
  return total / u.rows;
}

/** Σ of squares. */
export function sumSq64(...xs: ArrayLike<number>[]): number {
  let s = 0;
  for (const x of xs) for (let i = 0; i < x.length; i++) s += x[i] * x[i];
  return s;
}

/**
 * Central finite differences (float64) of `f` at `perParam` evenly spread coordinates of every
 * parameter: [{ name, index, fd }], for comparing with an engine's analytic gradients.
 */
export function sampledFiniteDifferences(
  f: (params: Record<string, Float64Array>) => number,
  params: Record<string, Float64Array>,
  perParam = 6,
  h = 1e-5,
): { name: string; index: number; fd: number }[] {
  const out: { name: string; index: number; fd: number }[] = [];
  for (const [name, x] of Object.entries(params)) {
    const n = Math.min(perParam, x.length);
    for (let k = 0; k < n; k++) {
      const index = Math.floor(((k + 0.5) * x.length) / n);
      const x0 = x[index];
      x[index] = x0 + h;
      const fp = f(params);
      x[index] = x0 - h;
      const fm = f(params);
      x[index] = x0;
      out.push({ name, index, fd: (fp - fm) / (2 * h) });
    }
  }
  return out;
}

/** Float64 copies of float32 parameter buffers, by name. */
export function toFloat64(params: Record<string, Float32Array>): Record<string, Float64Array> {
  return Object.fromEntries(Object.entries(params).map(([k, v]) => [k, Float64Array.from(v)]));
}
