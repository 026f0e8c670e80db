/**
 * Plain float64 implementations of method.md §2–4, written for clarity, not speed: the oracle
 * that the onnxruntime kernels and graphs are tested against. Matrices are row-major.
 */

export interface Mat64 {
  rows: number;
  cols: number;
  data: Float64Array;
}

export function mat64(rows: number, cols: number, data?: ArrayLike<number>): Mat64 {
  return { rows, cols, data: data ? Float64Array.from(data) : new Float64Array(rows * cols) };
}

/** Rows divided by max(‖row‖, 1e-12) (F.normalize). */
export function normalizeRows64(m: Mat64): Mat64 {
  const out = mat64(m.rows, m.cols);
  for (let r = 0; r < m.rows; r++) {
    let ss = 0;
    for (let c = 0; c < m.cols; c++) ss += m.data[r * m.cols + c] ** 2;
    const n = Math.max(Math.sqrt(ss), 1e-12);
    for (let c = 0; c < m.cols; c++) out.data[r * m.cols + c] = m.data[r * m.cols + c] / n;
  }
  return out;
}

export function selectRows64(m: Mat64, ids: ArrayLike<number>): Mat64 {
  const out = mat64(ids.length, m.cols);
  for (let r = 0; r < ids.length; r++)
    out.data.set(m.data.subarray(ids[r] * m.cols, (ids[r] + 1) * m.cols), r * m.cols);
  return out;
}

/** a · bᵀ. */
export function matmulT64(a: Mat64, b: Mat64): Mat64 {
  const out = mat64(a.rows, b.rows);
  for (let i = 0; i < a.rows; i++) {
    for (let j = 0; j < b.rows; j++) {
      let s = 0;
      for (let c = 0; c < a.cols; c++) s += a.data[i * a.cols + c] * b.data[j * b.cols + c];
      out.data[i * b.rows + j] = s;
    }
  }
  return out;
}

/** Row-wise softmax of x/τ. */
export function softmaxRows64(x: Mat64, tau: number): Mat64 {
  const out = mat64(x.rows, x.cols);
  for (let r = 0; r < x.rows; r++) {
    let m = -Infinity;
    for (let c = 0; c < x.cols; c++) m = Math.max(m, x.data[r * x.cols + c] / tau);
    let s = 0;
    for (let c = 0; c < x.cols; c++) {
      const e = Math.exp(x.data[r * x.cols + c] / tau - m);
      out.data[r * x.cols + c] = e;
      s += e;
    }
    for (let c = 0; c < x.cols; c++) out.data[r * x.cols + c] /= s;
  }
  return out;
}

/** p(i|u) over all items: softmax(cos/τp), optionally masked and/or cut to the top K (renormalised). */
export function teacherReference(
  users: Mat64,
  items: Mat64,
  options: {
    tauP: number;
    mask?: readonly (readonly number[])[];
    topK?: number | null;
    clip?: [number, number];
  },
): { p: Mat64; entropy: Float64Array; weights: Float64Array } {
  const s = matmulT64(normalizeRows64(users), normalizeRows64(items));
  const n = items.rows;
  const p = mat64(users.rows, n);
  const entropy = new Float64Array(users.rows);
  const weights = new Float64Array(users.rows);
  const [lo, hi] = options.clip ?? [0.1, 1];
  for (let u = 0; u < users.rows; u++) {
    const logits = Array.from({ length: n }, (_, i) => s.data[u * n + i] / options.tauP);
    const masked = new Set(options.mask?.[u] ?? []);
    let keep = Array.from({ length: n }, (_, i) => i).filter((i) => !masked.has(i));
    if (options.topK != null && options.topK < keep.length) {
      keep = keep.sort((a, b) => logits[b] - logits[a] || a - b).slice(0, options.topK);
    }
    const m = Math.max(...keep.map((i) => logits[i]));
    let z = 0;
    for (const i of keep) z += Math.exp(logits[i] - m);
    let h = 0;
    for (const i of keep) {
      const v = Math.exp(logits[i] - m) / z;
      p.data[u * n + i] = v;
      h -= v * Math.log(Math.max(v, 1e-12));
    }
    entropy[u] = h;
    weights[u] = Math.min(hi, Math.max(lo, 1 - h / Math.log(n)));
  }
  return { p, entropy, weights };
}

/** λ1 · mean_u w_u · (−Σ_i p log(q + ε)) with q = softmax(ẑ_u·ẑ_i/τq) over all items. */
export function sdrReference(args: {
  zUsers: Mat64;
  zItems: Mat64;
  teacher: Mat64;
  weights: ArrayLike<number>;
  tauQ: number;
  lambda1: number;
  epsilon: number;
}): number {
  const q = softmaxRows64(matmulT64(normalizeRows64(args.zUsers), normalizeRows64(args.zItems)), args.tauQ);
  let total = 0;
  for (let u = 0; u < q.rows; u++) {
    let ce = 0;
    for (let i = 0; i < q.cols; i++)
      ce -= args.teacher.data[u * q.cols + i] * Math.log(q.data[u * q.cols + i] + args.epsilon);
    total += args.weights[u] * ce;
  }
  return (args.lambda1 * total) / q.rows;
}

/** mean_k −log(softmax_m(x̂_k·ŷ_m/τ)[k] + ε). */
export function infoNceReference(x: Mat64, y: Mat64, tau: number, eps = 0): number {
  const p = softmaxRows64(matmulT64(normalizeRows64(x), normalizeRows64(y)), tau);
  let total = 0;
  for (let k = 0; k < x.rows; k++) total -= Math.log(p.data[k * x.rows + k] + eps);
  return total / x.rows;
}

export function s2drReference(args: {
  zU: Mat64;
  zUAug: Mat64;
  zI: Mat64;
  zIAug: Mat64;
  zUBatch: Mat64;
  zIBatch: Mat64;
  zUAugBatch: Mat64;
  zIAugBatch: Mat64;
  tauS: number;
  lambda2: number;
  infoNceEpsilon?: number;
}): { loss: number; user: number; item: number; cross: number } {
  const eps = args.infoNceEpsilon ?? 0;
  const user = infoNceReference(args.zU, args.zUAug, args.tauS, eps);
  const item = infoNceReference(args.zI, args.zIAug, args.tauS, eps);
  const cross =
    0.5 *
    (infoNceReference(args.zUBatch, args.zIAugBatch, args.tauS) +
      infoNceReference(args.zUAugBatch, args.zIBatch, args.tauS));
  return { loss: args.lambda2 * (user + item + cross), user, item, cross };
}

/**
 * All eigenpairs of a symmetric matrix by cyclic Jacobi rotations (slow, simple, independent of
 * the Householder solver). Returns values descending and vectors as rows.
 */
export function jacobiEigen(a: Float64Array, n: number): { values: Float64Array; vectors: Float64Array } {
  const m = Float64Array.from(a);
  const v = new Float64Array(n * n);
  for (let i = 0; i < n; i++) v[i * n + i] = 1;
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0;
    for (let p = 0; p < n; p++) for (let q = p + 1; q < n; q++) off += m[p * n + q] ** 2;
    if (off < 1e-30) break;
    for (let p = 0; p < n; p++) {
      for (let q = p + 1; q < n; q++) {
        const apq = m[p * n + q];
        if (Math.abs(apq) < 1e-300) continue;
        const theta = (m[q * n + q] - m[p * n + p]) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let k = 0; k < n; k++) {
          const mkp = m[k * n + p];
          const mkq = m[k * n + q];
          m[k * n + p] = c * mkp - s * mkq;
          m[k * n + q] = s * mkp + c * mkq;
        }
        for (let k = 0; k < n; k++) {
          const mpk = m[p * n + k];
          const mqk = m[q * n + k];
          m[p * n + k] = c * mpk - s * mqk;
          m[q * n + k] = s * mpk + c * mqk;
        }
        for (let k = 0; k < n; k++) {
          const vkp = v[k * n + p];
          const vkq = v[k * n + q];
          v[k * n + p] = c * vkp - s * vkq;
          v[k * n + q] = s * vkp + c * vkq;
        }
      }
    }
  }
  const order = Array.from({ length: n }, (_, i) => i).sort((i, j) => m[j * n + j] - m[i * n + i]);
  const values = Float64Array.from(order, (i) => m[i * n + i]);
  const vectors = new Float64Array(n * n);
  order.forEach((col, j) => {
    for (let k = 0; k < n; k++) vectors[j * n + k] = v[k * n + col];
  });
  return { values, vectors };
}

/** PCA whitening by the formula of §2 with a Jacobi eigensolver (signs fixed like the library). */
export function whiteningReference(
  x: Mat64,
  k: number,
  eps = 0,
): { mean: Float64Array; components: Float64Array; eigenvalues: Float64Array; out: Mat64 } {
  const { rows: n, cols: d } = x;
  const mean = new Float64Array(d);
  for (let r = 0; r < n; r++) for (let c = 0; c < d; c++) mean[c] += x.data[r * d + c] / n;
  const cov = new Float64Array(d * d);
  for (let r = 0; r < n; r++) {
    for (let i = 0; i < d; i++) {
      const xi = x.data[r * d + i] - mean[i];
      for (let j = 0; j < d; j++) cov[i * d + j] += (xi * (x.data[r * d + j] - mean[j])) / (n - 1);
    }
  }
  const { values, vectors } = jacobiEigen(cov, d);
  const components = vectors.slice(0, k * d);
  for (let j = 0; j < k; j++) {
    let at = 0;
    for (let i = 1; i < d; i++)
      if (Math.abs(components[j * d + i]) > Math.abs(components[j * d + at])) at = i;
    if (components[j * d + at] < 0) for (let i = 0; i < d; i++) components[j * d + i] *= -1;
  }
  const out = mat64(n, k);
  for (let r = 0; r < n; r++) {
    for (let j = 0; j < k; j++) {
      let s = 0;
      for (let i = 0; i < d; i++) s += (x.data[r * d + i] - mean[i]) * components[j * d + i];
      out.data[r * k + j] = s / Math.sqrt(values[j] + eps);
    }
  }
  return { mean, components, eigenvalues: values.slice(0, k), out };
}

/** Central finite differences of f at x (in place, restored), step h·max(1, |x_i|). */
export function finiteDifferences(f: () => number, x: Float64Array, h = 1e-6): Float64Array {
  const g = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const x0 = x[i];
    const step = h * Math.max(1, Math.abs(x0));
    x[i] = x0 + step;
    const fp = f();
    x[i] = x0 - step;
    const fm = f();
    x[i] = x0;
    g[i] = (fp - fm) / (2 * step);
  }
  return g;
}

/** ‖a − b‖₂ / ‖b‖₂ (b the reference). */
export function relativeError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < b.length; i++) {
    num += (a[i] - b[i]) ** 2;
    den += b[i] ** 2;
  }
  return Math.sqrt(num) / Math.max(Math.sqrt(den), 1e-300);
}
