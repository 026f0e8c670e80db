import { type CsrMatrix, PromaxError } from '@promax/core';
import type { FeedValue } from '../compile/feeds.js';

/** Edge arrays of a sparse matrix A (edge e adds weight_e·X[src_e] to Y[dst_e]), ready to feed. */
export interface AdjacencyData {
  /** Destination nodes (rows of A). */
  readonly rows: number;
  /** Source nodes (columns of A). */
  readonly cols: number;
  readonly src: BigInt64Array;
  readonly dst: BigInt64Array;
  /** 'factored' form: A[d, s] = left[d]·right[s]. */
  readonly left?: Float32Array;
  readonly right?: Float32Array;
  /** 'weighted' form: one weight per edge. */
  readonly weight?: Float32Array;
  /** Every edge s→d has a twin d→s of equal weight. */
  readonly symmetric: boolean;
}

export interface BipartiteAdjacencyOptions {
  /** 'factored' (default, fastest) or 'weighted' (explicit per-edge weights). */
  form?: 'factored' | 'weighted';
  /** Add a self loop to every node before normalising, D̃^-½ (A + I) D̃^-½ (GCCF/NGCF style). */
  selfLoops?: boolean;
}

/**
 * LightGCN's normalised adjacency of a user–item matrix R (users × items): the bipartite graph
 * A = [[0, R], [Rᵀ, 0]] over users 0..U−1 then items U..U+I−1, normalised D^-½ A D^-½ (no self
 * loops unless asked; isolated nodes get scale 0). Edges are sorted by destination (sequential
 * scatter writes). Stored entries of R count as edges whatever their value.
 */
export function normalizedBipartiteAdjacency(
  r: CsrMatrix,
  options: BipartiteAdjacencyOptions = {},
): AdjacencyData {
  const users = r.rows;
  const items = r.cols;
  const n = users + items;
  const nnz = r.indptr[users] ?? 0;
  // Column lists (users of each item), already in increasing user order.
  const colPtr = new Int32Array(items + 1);
  for (let k = 0; k < nnz; k++) {
    const c = r.indices[k];
    if (c < 0 || c >= items) {
      throw new PromaxError({
        code: 'ID_OUT_OF_RANGE',
        message: `normalizedBipartiteAdjacency: item index ${c} outside [0, ${items})`,
      });
    }
    colPtr[c + 1]++;
  }
  for (let c = 0; c < items; c++) colPtr[c + 1] += colPtr[c];
  const colUsers = new Int32Array(nnz);
  const fill = colPtr.slice(0, items);
  for (let u = 0; u < users; u++) {
    for (let k = r.indptr[u]; k < r.indptr[u + 1]; k++) colUsers[fill[r.indices[k]]++] = u;
  }
  const loops = options.selfLoops === true;
  const total = 2 * nnz + (loops ? n : 0);
  const src = new BigInt64Array(total);
  const dst = new BigInt64Array(total);
  let e = 0;
  for (let u = 0; u < users; u++) {
    if (loops) {
      src[e] = BigInt(u);
      dst[e++] = BigInt(u);
    }
    for (let k = r.indptr[u]; k < r.indptr[u + 1]; k++) {
      src[e] = BigInt(users + r.indices[k]);
      dst[e++] = BigInt(u);
    }
  }
  for (let c = 0; c < items; c++) {
    // Users come before items in node order, so the self loop goes last to keep sources sorted.
    for (let k = colPtr[c]; k < colPtr[c + 1]; k++) {
      src[e] = BigInt(colUsers[k]);
      dst[e++] = BigInt(users + c);
    }
    if (loops) {
      src[e] = BigInt(users + c);
      dst[e++] = BigInt(users + c);
    }
  }
  const extra = loops ? 1 : 0;
  const scale = new Float32Array(n);
  for (let u = 0; u < users; u++) {
    const d = r.indptr[u + 1] - r.indptr[u] + extra;
    scale[u] = d > 0 ? 1 / Math.sqrt(d) : 0;
  }
  for (let c = 0; c < items; c++) {
    const d = colPtr[c + 1] - colPtr[c] + extra;
    scale[users + c] = d > 0 ? 1 / Math.sqrt(d) : 0;
  }
  if (options.form === 'weighted') {
    const weight = new Float32Array(total);
    for (let k = 0; k < total; k++) weight[k] = scale[Number(src[k])] * scale[Number(dst[k])];
    return { rows: n, cols: n, src, dst, weight, symmetric: true };
  }
  return { rows: n, cols: n, src, dst, left: scale, right: scale, symmetric: true };
}

/** The feeds of an adjacency declared with `g.adjacency(name, …)`. */
export function adjacencyFeeds(name: string, a: AdjacencyData): Record<string, FeedValue> {
  const feeds: Record<string, FeedValue> = { [`${name}.src`]: a.src, [`${name}.dst`]: a.dst };
  if (a.weight) feeds[`${name}.weight`] = a.weight;
  else {
    if (!a.left || !a.right) {
      throw new PromaxError({
        code: 'INVALID_ARGUMENT',
        message: `adjacency '${name}' has neither weights nor scales`,
      });
    }
    feeds[`${name}.left`] = a.left;
    feeds[`${name}.right`] = a.right;
  }
  return feeds;
}
