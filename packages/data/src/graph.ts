import { type CsrMatrix, csrNnz, csrRowDegrees, csrTranspose } from '@promax/core';

export interface NormalizedAdjacencyOptions {
  /** Add the identity before normalising (D̃^-1/2 (A+I) D̃^-1/2, as GCCF does). Default false (LightGCN). */
  selfLoops?: boolean;
}

/**
 * The symmetric-normalised bipartite adjacency D^-1/2 A D^-1/2 over users then items
 * (node u = user u, node U+i = item i), A = [[0, R], [Rᵀ, 0]], as CSR with float32 values.
 * Entries of R count as 1 when it has no values, else by their value. Isolated nodes get no
 * entries (their 1/sqrt(0) is taken as 0).
 */
export function normalizedAdjacency(train: CsrMatrix, options: NormalizedAdjacencyOptions = {}): CsrMatrix {
  const U = train.rows;
  const I = train.cols;
  const N = U + I;
  const loops = options.selfLoops ?? false;
  const nnz = csrNnz(train);
  const t = csrTranspose(train);
  const deg = new Float64Array(N);
  for (let u = 0; u < U; u++) {
    for (let k = train.indptr[u]; k < train.indptr[u + 1]; k++) {
      const w = train.data ? train.data[k] : 1;
      deg[u] += w;
      deg[U + train.indices[k]] += w;
    }
  }
  const inv = new Float64Array(N);
  for (let v = 0; v < N; v++) {
    const d = deg[v] + (loops ? 1 : 0);
    inv[v] = d > 0 ? 1 / Math.sqrt(d) : 0;
  }
  const total = 2 * nnz + (loops ? N : 0);
  const indptr = new Int32Array(N + 1);
  const indices = new Int32Array(total);
  const data = new Float32Array(total);
  let w = 0;
  for (let u = 0; u < U; u++) {
    if (loops) {
      indices[w] = u;
      data[w++] = inv[u] * inv[u];
    }
    for (let k = train.indptr[u]; k < train.indptr[u + 1]; k++) {
      const v = U + train.indices[k];
      indices[w] = v;
      data[w++] = (train.data ? train.data[k] : 1) * inv[u] * inv[v];
    }
    indptr[u + 1] = w;
  }
  for (let i = 0; i < I; i++) {
    const v = U + i;
    for (let k = t.indptr[i]; k < t.indptr[i + 1]; k++) {
      const u = t.indices[k];
      indices[w] = u;
      data[w++] = (t.data ? t.data[k] : 1) * inv[u] * inv[v];
    }
    if (loops) {
      indices[w] = v;
      data[w++] = inv[v] * inv[v];
    }
    indptr[v + 1] = w;
  }
  return { rows: N, cols: N, indptr, indices, data };
}

/** Summary of a degree distribution; quartiles interpolate linearly (numpy.percentile's default). */
export interface DegreeStats {
  count: number;
  min: number;
  max: number;
  mean: number;
  q1: number;
  median: number;
  q3: number;
  /** Nodes of degree 0. */
  zeros: number;
}

/** Min/max/mean/quartiles of a list of degrees. */
export function degreeStats(degrees: ArrayLike<number>): DegreeStats {
  const n = degrees.length;
  if (n === 0) return { count: 0, min: 0, max: 0, mean: 0, q1: 0, median: 0, q3: 0, zeros: 0 };
  const sorted = Float64Array.from(degrees).sort();
  let sum = 0;
  let zeros = 0;
  for (let k = 0; k < n; k++) {
    sum += sorted[k];
    if (sorted[k] === 0) zeros++;
  }
  const q = (p: number): number => {
    const h = (n - 1) * p;
    const lo = Math.floor(h);
    const hi = Math.min(lo + 1, n - 1);
    return sorted[lo] + (h - lo) * (sorted[hi] - sorted[lo]);
  };
  return {
    count: n,
    min: sorted[0],
    max: sorted[n - 1],
    mean: sum / n,
    q1: q(0.25),
    median: q(0.5),
    q3: q(0.75),
    zeros,
  };
}

/** Degree statistics of users (rows) in a train matrix. */
export function userDegreeStats(train: CsrMatrix): DegreeStats {
  return degreeStats(csrRowDegrees(train));
}

/** Degree statistics of items (columns) in a train matrix. */
export function itemDegreeStats(train: CsrMatrix): DegreeStats {
  const deg = new Int32Array(train.cols);
  const nnz = csrNnz(train);
  for (let k = 0; k < nnz; k++) deg[train.indices[k]]++;
  return degreeStats(deg);
}
