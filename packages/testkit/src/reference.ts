import type { CsrMatrix } from '@promax/core';
import { normalizedBipartiteAdjacency } from '@promax/tensor';

/** A float64 dense (n × n) normalised bipartite adjacency, users first then items. */
export function normalizedAdjacencyF64(r: CsrMatrix, selfLoops = false): Float64Array[] {
  const n = r.rows + r.cols;
  const a = Array.from({ length: n }, () => new Float64Array(n));
  for (let u = 0; u < r.rows; u++) {
    for (let k = r.indptr[u]; k < r.indptr[u + 1]; k++) {
      const i = r.rows + r.indices[k];
      a[u][i] = 1;
      a[i][u] = 1;
    }
  }
  if (selfLoops) for (let v = 0; v < n; v++) a[v][v] = 1;
  const deg = a.map((row) => row.reduce((s, x) => s + x, 0));
  for (let v = 0; v < n; v++) {
    for (let w = 0; w < n; w++) {
      if (a[v][w] !== 0) a[v][w] /= Math.sqrt(deg[v] * deg[w]);
    }
  }
  return a;
}

export interface PropagationReferenceOptions {
  layers: number;
  selfLoops?: boolean;
  /**
   * A factor per stored entry of Â (an edge-dropout mask), in the edge order of the trainer's
   * adjacency feeds: entry e multiplies Â[dst_e, src_e] of `normalizedBipartiteAdjacency(r)`.
   */
  edgeMask?: ArrayLike<number>;
}

/**
 * Float64 reference of graph propagation: the layers E^(0..L) with E^(l) = Â E^(l−1) (Â ⊙ M with
 * `edgeMask`), from user and item tables (row-major, d columns). For checking models against a
 * plain loop.
 */
export function propagateReference(
  r: CsrMatrix,
  users: Float32Array,
  items: Float32Array,
  d: number,
  options: PropagationReferenceOptions,
): Float64Array[][] {
  const a = normalizedAdjacencyF64(r, options.selfLoops ?? false);
  const n = a.length;
  if (options.edgeMask) {
    const { src, dst } = normalizedBipartiteAdjacency(r, { selfLoops: options.selfLoops });
    if (options.edgeMask.length !== src.length) {
      throw new RangeError(
        `propagateReference: edgeMask has ${options.edgeMask.length} entries, Â ${src.length}`,
      );
    }
    for (let e = 0; e < src.length; e++) a[Number(dst[e])][Number(src[e])] *= options.edgeMask[e];
  }
  const e0: Float64Array[] = [];
  for (let u = 0; u < r.rows; u++) e0.push(Float64Array.from(users.subarray(u * d, u * d + d)));
  for (let i = 0; i < r.cols; i++) e0.push(Float64Array.from(items.subarray(i * d, i * d + d)));
  const layers = [e0];
  for (let l = 0; l < options.layers; l++) {
    const prev = layers[l];
    const next = Array.from({ length: n }, () => new Float64Array(d));
    for (let v = 0; v < n; v++) {
      for (let w = 0; w < n; w++) {
        const x = a[v][w];
        if (x === 0) continue;
        for (let c = 0; c < d; c++) next[v][c] += x * prev[w][c];
      }
    }
    layers.push(next);
  }
  return layers;
}
