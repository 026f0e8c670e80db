import { csrFromCoo, PromaxError } from '@promax/core';
import { describe, expect, it } from 'vitest';
import { normalizedBipartiteAdjacency } from '../graph-data/adjacency.js';
import { edgeSubsetFeeds } from '../graph-data/edge-subset.js';
import { checkGradients } from '../testing/grad-check.js';
import type { GraphBuilder } from './builder.js';
import { edgeSubset } from './edge-subset.js';
import { layerPropagation } from './propagation.js';

// 2 users × 3 items (nodes 0–1 users, 2–4 items), LightGCN's Â: one stored entry per direction.
const R = csrFromCoo({ rows: 2, cols: 3, row: [0, 0, 1, 1], col: [0, 1, 1, 2] }).matrix;
const deg = [2, 2, 1, 2, 1];
const X = Float64Array.from({ length: 15 }, (_, i) => Math.sin(i + 1));
const init = { x: (_: unknown, i: number) => X[i] };

/** Σ_{l=0..3} (Â ⊙ M)^l X in float64, from a dense matrix built entry by entry. */
function denseReference(src: BigInt64Array, dst: BigInt64Array, mask: ArrayLike<number>): Float64Array {
  const a = Array.from({ length: 5 }, () => new Float64Array(5));
  for (let e = 0; e < src.length; e++) {
    const [s, d] = [Number(src[e]), Number(dst[e])];
    a[d][s] += mask[e] / Math.sqrt(deg[s] * deg[d]);
  }
  const out = Float64Array.from(X);
  let cur = Float64Array.from(X);
  for (let l = 0; l < 3; l++) {
    const next = new Float64Array(15);
    for (let r = 0; r < 5; r++)
      for (let s = 0; s < 5; s++) for (let c = 0; c < 3; c++) next[r * 3 + c] += a[r][s] * cur[s * 3 + c];
    cur = next;
    for (let k = 0; k < 15; k++) out[k] += cur[k];
  }
  return out;
}

describe('edgeSubset: Â ⊙ M as the kept stored entries of Â', () => {
  for (const form of ['factored', 'weighted'] as const) {
    it(`${form}: propagates over the kept entries at their values, with gradients that match float64 finite differences`, async () => {
      const base = normalizedBipartiteAdjacency(R, { form });
      const E = base.src.length;
      // Twins differ: an entry is kept in one direction and dropped in the other.
      const at = (s: number, d: number) =>
        [...base.src.keys()].find((e) => Number(base.src[e]) === s && Number(base.dst[e]) === d) as number;
      const mask = new Float32Array(E).fill(1);
      mask[at(0, 3)] = 0; // Â[i1, u0] dropped, Â[u0, i1] kept
      mask[at(4, 1)] = 0; // Â[u1, i2] dropped, Â[i2, u1] kept
      const kept = edgeSubsetFeeds('M', base, mask);
      expect((kept['M.src'] as BigInt64Array).length).toBe(E - 2);
      const feeds: Record<string, { data: BigInt64Array | Float32Array; dims: number[] }> = {
        'A.src': { data: base.src, dims: [E] },
        'A.dst': { data: base.dst, dims: [E] },
        'M.src': { data: kept['M.src'] as BigInt64Array, dims: [E - 2] },
        'M.dst': { data: kept['M.dst'] as BigInt64Array, dims: [E - 2] },
      };
      if (form === 'factored') {
        feeds['A.left'] = { data: base.left as Float32Array, dims: [5] };
        feeds['A.right'] = { data: base.right as Float32Array, dims: [5] };
      } else {
        feeds['A.weight'] = { data: base.weight as Float32Array, dims: [E] };
        feeds['M.weight'] = { data: kept['M.weight'] as Float32Array, dims: [E - 2] };
      }
      const build = (g: GraphBuilder) => {
        const a = g.adjacency('A', { rows: 5, form, symmetric: true });
        return layerPropagation(g, g.param('x', [5, 3]), edgeSubset(g, 'M', a), {
          layers: 3,
          combination: 'sum0',
        });
      };
      const r = await checkGradients(build, { feeds, init });
      expect(r.forwardError).toBeLessThan(1e-5);
      expect(r.maxGradError).toBeLessThan(1e-3);
      // An independent dense float64 reference: kept entries keep Â's value, dropped ones are 0.
      const want = denseReference(base.src, base.dst, mask);
      for (let k = 0; k < 15; k++) expect(r.output.onnx[k]).toBeCloseTo(want[k], 5);
      // …not the full graph, nor the mask rescaled by 1/keep.
      const gap = (p: Float64Array) => Math.max(...p.map((v, k) => Math.abs(v - r.output.onnx[k])));
      expect(gap(denseReference(base.src, base.dst, new Float32Array(E).fill(1)))).toBeGreaterThan(1e-2);
      expect(
        gap(
          denseReference(
            base.src,
            base.dst,
            mask.map((v) => v / 0.8),
          ),
        ),
      ).toBeGreaterThan(1e-2);
    });
  }

  it('edgeSubsetFeeds keeps the base order, reuses its buffers and checks the mask length', () => {
    const base = normalizedBipartiteAdjacency(R, { form: 'weighted' });
    const E = base.src.length;
    const keep = Float32Array.from({ length: E }, (_, e) => (e % 3 === 1 ? 0 : 1));
    const a = edgeSubsetFeeds('M', base, keep);
    const ids = [...keep.keys()].filter((e) => keep[e] !== 0);
    expect(Array.from(a['M.src'] as BigInt64Array)).toEqual(ids.map((e) => base.src[e]));
    expect(Array.from(a['M.dst'] as BigInt64Array)).toEqual(ids.map((e) => base.dst[e]));
    expect(Array.from(a['M.weight'] as Float32Array)).toEqual(
      ids.map((e) => (base.weight as Float32Array)[e]),
    );
    let error: unknown;
    try {
      edgeSubsetFeeds('M', base, keep.subarray(1));
    } catch (e) {
      error = e;
    }
    expect(PromaxError.isInstance(error) && error.code).toBe('SHAPE_MISMATCH');
  });
});
