import { PromaxError } from '@promax/core';
import type { FeedValue } from '../compile/feeds.js';
import type { AdjacencyData } from './adjacency.js';

/** Reusable output arrays of {@link edgeSubsetFeeds}, sized for every edge of the base. */
export interface EdgeSubsetBuffers {
  readonly src: BigInt64Array;
  readonly dst: BigInt64Array;
  readonly weight?: Float32Array;
}

/** Buffers for subsets of `base` (allocate once, reuse at every draw). */
export function edgeSubsetBuffers(base: AdjacencyData): EdgeSubsetBuffers {
  const n = base.src.length;
  return {
    src: new BigInt64Array(n),
    dst: new BigInt64Array(n),
    weight: base.weight ? new Float32Array(n) : undefined,
  };
}

/**
 * The feeds of `edgeSubset(g, name, …)`: the stored entries e of `base` with `keep[e] !== 0`, in
 * the order of `base` (so a destination-sorted base stays sorted), written into `out` (views of
 * it are returned, nothing is allocated). Index words are copied as 32-bit pairs, without BigInt
 * conversions.
 */
export function edgeSubsetFeeds(
  name: string,
  base: AdjacencyData,
  keep: ArrayLike<number>,
  out: EdgeSubsetBuffers = edgeSubsetBuffers(base),
): Record<string, FeedValue> {
  const n = base.src.length;
  if (keep.length !== n || out.src.length < n || out.dst.length < n || (base.weight && !out.weight)) {
    throw new PromaxError({
      code: 'SHAPE_MISMATCH',
      field: name,
      message: `edgeSubsetFeeds '${name}': the base has ${n} edges, the keep mask ${keep.length} and the buffers ${out.src.length}`,
      fix: 'pass one keep entry per stored edge of the base, and buffers from edgeSubsetBuffers(base)',
    });
  }
  const words = (a: BigInt64Array) => new Int32Array(a.buffer, a.byteOffset, 2 * a.length);
  const [srcIn, dstIn, srcOut, dstOut] = [words(base.src), words(base.dst), words(out.src), words(out.dst)];
  const weight = base.weight;
  const weightOut = out.weight as Float32Array;
  let w = 0;
  for (let e = 0; e < n; e++) {
    if (keep[e] === 0) continue;
    srcOut[2 * w] = srcIn[2 * e];
    srcOut[2 * w + 1] = srcIn[2 * e + 1];
    dstOut[2 * w] = dstIn[2 * e];
    dstOut[2 * w + 1] = dstIn[2 * e + 1];
    if (weight) weightOut[w] = weight[e];
    w++;
  }
  const feeds: Record<string, FeedValue> = {
    [`${name}.src`]: out.src.subarray(0, w),
    [`${name}.dst`]: out.dst.subarray(0, w),
  };
  if (weight) feeds[`${name}.weight`] = weightOut.subarray(0, w);
  return feeds;
}
