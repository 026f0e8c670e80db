/**
 * Largest eigenpairs of a dense real symmetric matrix, in float64, deterministically:
 * Householder tridiagonalisation (the O(n³) part, ~(4/3)·n³ flops), bisection on Sturm counts
 * for the wanted eigenvalues, inverse iteration on the tridiagonal matrix for their vectors
 * (re-orthogonalised inside clusters, as LAPACK's dstein), and back-transformation by the
 * stored reflectors. Only the k wanted vectors are ever formed, so the cost past the reduction
 * is O(n²·k).
 */

/** Top eigenpairs, eigenvalues in descending order. */
export interface TopEigen {
  /** λ₁ ≥ … ≥ λ_k. */
  values: Float64Array;
  /** Row-major k×n: row j is the unit eigenvector of `values[j]`, its largest-|·| entry positive. */
  vectors: Float64Array;
}

const EPS = 2 ** -52;
const SAFE_MIN = 2 ** -1022;

/**
 * The k largest eigenpairs of the symmetric n×n matrix `a` (row-major; only the upper triangle
 * is read). `a` is not modified.
 */
export function symmetricTopEigen(a: Float64Array, n: number, k: number): TopEigen {
  if (!(Number.isInteger(n) && n >= 1) || a.length !== n * n)
    throw new RangeError(`symmetricTopEigen: a must hold n×n = ${n}×${n} values`);
  if (!(Number.isInteger(k) && k >= 1 && k <= n))
    throw new RangeError(`symmetricTopEigen: k must be an integer in [1, ${n}], got ${k}`);
  const work = Float64Array.from(a);
  const d = new Float64Array(n);
  const e = new Float64Array(Math.max(n - 1, 0));
  const beta = new Float64Array(n);
  tridiagonalize(work, n, d, e, beta);
  const values = topTridiagonalEigenvalues(d, e, k);
  const vectors = new Float64Array(k * n);
  tridiagonalEigenvectors(d, e, values, vectors);
  backTransform(work, n, beta, vectors, k);
  fixSigns(vectors, n, k);
  return { values, vectors };
}

/**
 * Reduces the upper triangle of `w` to tridiagonal form T = Qᵀ A Q in place. On return the
 * reflector of step s (H_s = I − β_s v vᵀ, acting on indices s+1…n−1) is stored in row s,
 * columns s+1…n−1, with β_s in `beta[s]`.
 *
 * Each step needs p = β·S·v for the trailing block S and then the rank-2 update
 * S ← S − v wᵀ − w vᵀ. The update of step s and the product of step s+1 are done in one sweep
 * over the matrix (the next reflector only needs the first updated row), which halves the
 * memory traffic of this memory-bound O(n³) loop.
 */
export function tridiagonalize(
  a: Float64Array,
  n: number,
  d: Float64Array,
  e: Float64Array,
  beta: Float64Array,
): void {
  let v = new Float64Array(n); // current reflector (indices s+1…)
  let p = new Float64Array(n); // β·S·v, then w
  let vNext = new Float64Array(n);
  let pNext = new Float64Array(n);
  if (n < 3) {
    finishTridiagonal(a, n, d, e, beta);
    return;
  }
  // Step 0: reflector and product without a preceding update.
  let b = reflector(a, n, 0, v, d, e, beta);
  if (b !== 0) {
    p.fill(0);
    for (let i = 1; i < n; i++) {
      const ri = i * n;
      const vi = v[i];
      let acc = a[ri + i] * vi;
      for (let j = i + 1; j < n; j++) {
        const aij = a[ri + j];
        acc += aij * v[j];
        p[j] += aij * vi;
      }
      p[i] += acc;
    }
  }
  for (let s = 0; s < n - 2; s++) {
    const s1 = s + 1;
    if (b !== 0) {
      // w = β·p − (β/2)(β·pᵀv) v, kept in p.
      let pv = 0;
      for (let i = s1; i < n; i++) {
        p[i] *= b;
        pv += p[i] * v[i];
      }
      const kk = 0.5 * b * pv;
      for (let i = s1; i < n; i++) p[i] -= kk * v[i];
      // First row of S updated: it defines the next reflector.
      const r1 = s1 * n;
      const v1 = v[s1];
      const w1 = p[s1];
      for (let j = s1; j < n; j++) a[r1 + j] -= v1 * p[j] + w1 * v[j];
    }
    const last = s1 >= n - 2;
    const bNext = last ? 0 : reflector(a, n, s1, vNext, d, e, beta);
    if (b !== 0 && bNext !== 0) {
      pNext.fill(0);
      updateAndMultiply(a, n, s1 + 1, v, p, vNext, pNext);
    } else if (b !== 0) {
      for (let i = s1 + 1; i < n; i++) {
        const ri = i * n;
        const vi = v[i];
        const wi = p[i];
        for (let j = i; j < n; j++) a[ri + j] -= vi * p[j] + wi * v[j];
      }
    } else if (bNext !== 0) {
      pNext.fill(0);
      for (let i = s1 + 1; i < n; i++) {
        const ri = i * n;
        const ui = vNext[i];
        let acc = a[ri + i] * ui;
        for (let j = i + 1; j < n; j++) {
          const aij = a[ri + j];
          acc += aij * vNext[j];
          pNext[j] += aij * ui;
        }
        pNext[i] += acc;
      }
    }
    if (last) break;
    [v, vNext] = [vNext, v];
    [p, pNext] = [pNext, p];
    b = bNext;
  }
  finishTridiagonal(a, n, d, e, beta);
}

/**
 * For rows i ≥ start of the upper triangle: S ← S − v wᵀ − w vᵀ, and out += S_new · u (S
 * symmetric, so row i adds Σ_j S_ij u_j to out[i] and S_ij u_i to out[j] for j > i). Rows are
 * taken four at a time so that v, w, u and out are loaded once per four rows: this loop is the
 * whole O(n³) cost of the solver, and the blocking makes it ~2.5× faster in V8.
 */
function updateAndMultiply(
  a: Float64Array,
  n: number,
  start: number,
  v: Float64Array,
  w: Float64Array,
  u: Float64Array,
  out: Float64Array,
): void {
  let i = start;
  for (; i + 3 < n; i += 4) {
    // The 4×4 diagonal block, row by row.
    let acc0 = 0;
    let acc1 = 0;
    let acc2 = 0;
    let acc3 = 0;
    for (let t = 0; t < 4; t++) {
      const ii = i + t;
      const ri = ii * n;
      const vi = v[ii];
      const wi = w[ii];
      const ui = u[ii];
      let acc = 0;
      for (let j = ii; j < i + 4; j++) {
        const aij = a[ri + j] - (vi * w[j] + wi * v[j]);
        a[ri + j] = aij;
        acc += aij * u[j];
        if (j > ii) out[j] += aij * ui;
      }
      if (t === 0) acc0 = acc;
      else if (t === 1) acc1 = acc;
      else if (t === 2) acc2 = acc;
      else acc3 = acc;
    }
    const r0 = i * n;
    const r1 = r0 + n;
    const r2 = r1 + n;
    const r3 = r2 + n;
    const v0 = v[i];
    const v1 = v[i + 1];
    const v2 = v[i + 2];
    const v3 = v[i + 3];
    const w0 = w[i];
    const w1 = w[i + 1];
    const w2 = w[i + 2];
    const w3 = w[i + 3];
    const u0 = u[i];
    const u1 = u[i + 1];
    const u2 = u[i + 2];
    const u3 = u[i + 3];
    for (let j = i + 4; j < n; j++) {
      const wj = w[j];
      const vj = v[j];
      const uj = u[j];
      const b0 = a[r0 + j] - (v0 * wj + w0 * vj);
      const b1 = a[r1 + j] - (v1 * wj + w1 * vj);
      const b2 = a[r2 + j] - (v2 * wj + w2 * vj);
      const b3 = a[r3 + j] - (v3 * wj + w3 * vj);
      a[r0 + j] = b0;
      a[r1 + j] = b1;
      a[r2 + j] = b2;
      a[r3 + j] = b3;
      acc0 += b0 * uj;
      acc1 += b1 * uj;
      acc2 += b2 * uj;
      acc3 += b3 * uj;
      out[j] += b0 * u0 + b1 * u1 + b2 * u2 + b3 * u3;
    }
    out[i] += acc0;
    out[i + 1] += acc1;
    out[i + 2] += acc2;
    out[i + 3] += acc3;
  }
  for (; i < n; i++) {
    const ri = i * n;
    const vi = v[i];
    const wi = w[i];
    const ui = u[i];
    let acc = 0;
    for (let j = i; j < n; j++) {
      const aij = a[ri + j] - (vi * w[j] + wi * v[j]);
      a[ri + j] = aij;
      acc += aij * u[j];
      if (j > i) out[j] += aij * ui;
    }
    out[i] += acc;
  }
}

/**
 * Householder reflector of step s from row s (columns s+1…): writes d[s], e[s], β_s, stores
 * v in `v[s+1…]` and in row s of `a`; returns β_s (0: nothing to annihilate).
 */
function reflector(
  a: Float64Array,
  n: number,
  s: number,
  v: Float64Array,
  d: Float64Array,
  e: Float64Array,
  beta: Float64Array,
): number {
  const row = s * n;
  d[s] = a[row + s];
  let scale = 0;
  for (let j = s + 1; j < n; j++) scale = Math.max(scale, Math.abs(a[row + j]));
  if (scale === 0) {
    e[s] = 0;
    beta[s] = 0;
    return 0;
  }
  let sigma = 0;
  for (let j = s + 1; j < n; j++) {
    const t = a[row + j] / scale;
    sigma += t * t;
  }
  const x0 = a[row + s + 1];
  const normX = scale * Math.sqrt(sigma);
  const alpha = x0 >= 0 ? -normX : normX;
  const h = normX * normX - x0 * alpha; // = vᵀv / 2 > 0
  a[row + s + 1] = x0 - alpha;
  for (let j = s + 1; j < n; j++) v[j] = a[row + j];
  e[s] = alpha;
  beta[s] = 1 / h;
  return beta[s];
}

function finishTridiagonal(
  a: Float64Array,
  n: number,
  d: Float64Array,
  e: Float64Array,
  beta: Float64Array,
): void {
  if (n >= 2) {
    d[n - 2] = a[(n - 2) * n + n - 2];
    e[n - 2] = a[(n - 2) * n + n - 1];
    beta[n - 2] = 0;
  }
  d[n - 1] = a[n * n - 1];
  beta[n - 1] = 0;
}

function tridiagonalNorm(d: Float64Array, e: Float64Array): number {
  let norm = 0;
  const n = d.length;
  for (let i = 0; i < n; i++) {
    norm = Math.max(
      norm,
      Math.abs(d[i]) + (i > 0 ? Math.abs(e[i - 1]) : 0) + (i < n - 1 ? Math.abs(e[i]) : 0),
    );
  }
  return norm;
}

/** Number of eigenvalues of T strictly below x (Sturm sequence / LDLᵀ inertia). */
function sturmCount(d: Float64Array, e2: Float64Array, x: number, pivmin: number): number {
  let count = 0;
  let q = d[0] - x;
  if (Math.abs(q) < pivmin) q = -pivmin;
  if (q < 0) count++;
  for (let i = 1; i < d.length; i++) {
    q = d[i] - x - e2[i - 1] / q;
    if (Math.abs(q) < pivmin) q = -pivmin;
    if (q < 0) count++;
  }
  return count;
}

/** The k largest eigenvalues of the tridiagonal (d, e), descending, to full precision by bisection. */
export function topTridiagonalEigenvalues(d: Float64Array, e: Float64Array, k: number): Float64Array {
  const n = d.length;
  const e2 = new Float64Array(Math.max(n - 1, 0));
  let lo = Infinity;
  let hi = -Infinity;
  let maxE2 = 0;
  for (let i = 0; i < n; i++) {
    const r = (i > 0 ? Math.abs(e[i - 1]) : 0) + (i < n - 1 ? Math.abs(e[i]) : 0);
    lo = Math.min(lo, d[i] - r);
    hi = Math.max(hi, d[i] + r);
    if (i < n - 1) {
      e2[i] = e[i] * e[i];
      maxE2 = Math.max(maxE2, e2[i]);
    }
  }
  const norm = Math.max(Math.abs(lo), Math.abs(hi));
  const pivmin = SAFE_MIN * Math.max(1, maxE2);
  const pad = 2 * EPS * norm + 2 * pivmin;
  lo -= pad;
  hi += pad;
  const out = new Float64Array(k);
  let upper = hi;
  for (let j = 0; j < k; j++) {
    const m = n - 1 - j; // ascending index of the wanted eigenvalue
    let a = lo;
    let b = upper;
    for (let it = 0; it < 256; it++) {
      const mid = 0.5 * (a + b);
      if (mid <= a || mid >= b || b - a <= 2 * EPS * Math.max(Math.abs(a), Math.abs(b)) + pivmin) break;
      if (sturmCount(d, e2, mid, pivmin) > m) b = mid;
      else a = mid;
    }
    // Equal eigenvalues come from different brackets: keep the output non-increasing.
    out[j] = j > 0 ? Math.min(0.5 * (a + b), out[j - 1]) : 0.5 * (a + b);
    upper = b; // λ_{m−1} ≤ λ_m < b
  }
  return out;
}

/** LU factorisation with partial pivoting of T − λI, then solves for `x` in place. */
class ShiftedTridiagonalSolver {
  private readonly u0: Float64Array;
  private readonly u1: Float64Array;
  private readonly u2: Float64Array;
  private readonly l: Float64Array;
  private readonly swap: Uint8Array;

  constructor(private readonly n: number) {
    this.u0 = new Float64Array(n);
    this.u1 = new Float64Array(n);
    this.u2 = new Float64Array(n);
    this.l = new Float64Array(n);
    this.swap = new Uint8Array(n);
  }

  factor(d: Float64Array, e: Float64Array, lambda: number, tiny: number): void {
    const { n, u0, u1, u2, l, swap } = this;
    let p0 = d[0] - lambda;
    let p1 = n > 1 ? e[0] : 0;
    for (let i = 0; i < n - 1; i++) {
      const c = e[i];
      const a1 = d[i + 1] - lambda;
      const b1 = i + 1 < n - 1 ? e[i + 1] : 0;
      if (Math.abs(c) > Math.abs(p0)) {
        swap[i] = 1;
        u0[i] = c;
        u1[i] = a1;
        u2[i] = b1;
        const m = p0 / c;
        l[i] = m;
        p0 = p1 - m * a1;
        p1 = -m * b1;
      } else {
        swap[i] = 0;
        if (p0 === 0) p0 = tiny;
        u0[i] = p0;
        u1[i] = p1;
        u2[i] = 0;
        const m = c / p0;
        l[i] = m;
        p0 = a1 - m * p1;
        p1 = b1;
      }
    }
    u0[n - 1] = p0 === 0 ? tiny : p0;
    u1[n - 1] = 0;
    u2[n - 1] = 0;
  }

  solve(x: Float64Array): void {
    const { n, u0, u1, u2, l, swap } = this;
    for (let i = 0; i < n - 1; i++) {
      if (swap[i]) {
        const t = x[i];
        x[i] = x[i + 1];
        x[i + 1] = t;
      }
      x[i + 1] -= l[i] * x[i];
    }
    x[n - 1] /= u0[n - 1];
    if (n > 1) x[n - 2] = (x[n - 2] - u1[n - 2] * x[n - 1]) / u0[n - 2];
    for (let i = n - 3; i >= 0; i--) x[i] = (x[i] - u1[i] * x[i + 1] - u2[i] * x[i + 2]) / u0[i];
  }
}

/**
 * Eigenvectors of the tridiagonal (d, e) for the given (descending) eigenvalues by inverse
 * iteration from fixed pseudo-random starts; vectors of eigenvalues closer than 1e-3·‖T‖ are
 * re-orthogonalised against each other at every step. Writes row j of `out` (k×n).
 */
export function tridiagonalEigenvectors(
  d: Float64Array,
  e: Float64Array,
  values: Float64Array,
  out: Float64Array,
): void {
  const n = d.length;
  const k = values.length;
  if (n === 1) {
    out[0] = 1;
    return;
  }
  const norm = Math.max(tridiagonalNorm(d, e), SAFE_MIN);
  const orthTol = 1e-3 * norm;
  const pert = 10 * EPS * norm;
  const tiny = EPS * norm;
  const solver = new ShiftedTridiagonalSolver(n);
  const x = new Float64Array(n);
  let clusterStart = 0;
  let prev = Infinity;
  for (let j = 0; j < k; j++) {
    let lambda = values[j];
    if (j > 0 && prev - lambda > orthTol) clusterStart = j;
    // Separate (numerically) equal eigenvalues so that their solves differ.
    if (j > 0 && lambda >= prev - pert) lambda = prev - pert;
    prev = lambda;
    solver.factor(d, e, lambda, tiny);
    // Deterministic start: a fixed xorshift stream per vector.
    let s = (0x9e3779b9 ^ Math.imul(j + 1, 0x85ebca6b)) >>> 0;
    for (let i = 0; i < n; i++) {
      s ^= s << 13;
      s ^= s >>> 17;
      s ^= s << 5;
      x[i] = (s >>> 0) / 4294967296 - 0.5;
    }
    normalize(x);
    for (let it = 0; it < 5; it++) {
      solver.solve(x);
      for (let c = clusterStart; c < j; c++) {
        const row = c * n;
        let dot = 0;
        for (let i = 0; i < n; i++) dot += out[row + i] * x[i];
        for (let i = 0; i < n; i++) x[i] -= dot * out[row + i];
      }
      const growth = normalize(x);
      // One more step after the growth shows convergence (as dstein does).
      if (it >= 1 && growth * tiny >= 1e-3) break;
    }
    out.set(x, j * n);
  }
}

function normalize(x: Float64Array): number {
  let s = 0;
  let m = 0;
  for (let i = 0; i < x.length; i++) m = Math.max(m, Math.abs(x[i]));
  if (m === 0) return 0;
  for (let i = 0; i < x.length; i++) {
    const v = x[i] / m;
    s += v * v;
  }
  const nrm = m * Math.sqrt(s);
  for (let i = 0; i < x.length; i++) x[i] /= nrm;
  return nrm;
}

/** y ← Q y = H₀ H₁ ⋯ H_{n−3} y for each of the k rows of `vectors`. */
function backTransform(
  w: Float64Array,
  n: number,
  beta: Float64Array,
  vectors: Float64Array,
  k: number,
): void {
  for (let s = n - 3; s >= 0; s--) {
    const b = beta[s];
    if (b === 0) continue;
    const row = s * n;
    for (let j = 0; j < k; j++) {
      const y = j * n;
      let dot = 0;
      for (let i = s + 1; i < n; i++) dot += w[row + i] * vectors[y + i];
      const f = b * dot;
      for (let i = s + 1; i < n; i++) vectors[y + i] -= f * w[row + i];
    }
  }
}

/** Makes the entry of largest magnitude of each vector positive (first such entry on ties). */
export function fixSigns(vectors: Float64Array, n: number, k: number): void {
  for (let j = 0; j < k; j++) {
    const y = j * n;
    let best = 0;
    let at = 0;
    for (let i = 0; i < n; i++) {
      const v = Math.abs(vectors[y + i]);
      if (v > best) {
        best = v;
        at = i;
      }
    }
    if (vectors[y + at] < 0) for (let i = 0; i < n; i++) vectors[y + i] = -vectors[y + i];
  }
}
