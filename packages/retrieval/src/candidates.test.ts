import { type CsrMatrix, csrFromCoo, type Matrix } from '@promax/core';
import { describe, expect, it } from 'vitest';
import { retrieveCandidates, selectCsrRows } from './candidates.js';
import { createExactRetriever } from './exact-retriever.js';
import { createReferenceRetriever } from './reference-retriever.js';

const csr = (rows: number, cols: number, pairs: [number, number][]): CsrMatrix =>
  csrFromCoo({ rows, cols, row: pairs.map((p) => p[0]), col: pairs.map((p) => p[1]) }).matrix;
const mat = (rows: number, cols: number, values: number[]): Matrix => ({
  rows,
  cols,
  data: Float32Array.from(values),
});

describe('retrieveCandidates', () => {
  // items on the unit circle; users 0 and 1 almost identical, 2 orthogonal, 3 opposite
  const itemEmb = mat(6, 2, [1, 0, 0.8, 0.6, 0.6, 0.8, 0, 1, -1, 0, 0, -1]);
  const userEmb = mat(4, 2, [2, 0, 1, 0.1, 0, 1, -1, 0]);
  const train = csr(4, 6, [
    [0, 0],
    [1, 0],
    [1, 4],
    [2, 3],
    [2, 5],
    [3, 4],
  ]);

  it('merges the item pool with neighbours’ items, drops train items, orders by cos + w·support', async () => {
    const retriever = createExactRetriever();
    try {
      const c = await retrieveCandidates({
        users: Int32Array.of(0, 2),
        userEmb,
        itemEmb,
        train,
        settings: { itemPool: 2, userPool: 1, neighbourWeight: 1, maxCandidates: 10 },
        retriever,
      });
      // user 0: pool {1: 0.8, 2: 0.6}; neighbour user 1 adds item 4 (cos −1, support 1/1 → 0)
      expect(Array.from(c.items.subarray(c.indptr[0], c.indptr[1]))).toEqual([1, 2, 4]);
      const s0 = Array.from(c.scores.subarray(c.indptr[0], c.indptr[1]));
      expect(s0[0]).toBeCloseTo(0.8, 6);
      expect(s0[1]).toBeCloseTo(0.6, 6);
      expect(s0[2]).toBeCloseTo(0, 6);
      // user 2 = (0, 1): pool {2: 0.8, 1: 0.6} (item 3 is train); nearest other user: user 1
      // (cos 0.0995 > user 0's 0 > user 3's 0); its items 0 (cos 0 + 1) and 4 (cos 0 + 1) → tie → lower id
      expect(Array.from(c.items.subarray(c.indptr[1], c.indptr[2]))).toEqual([0, 4, 2, 1]);
      expect(Array.from(c.poolSizes)).toEqual([3, 4]);
    } finally {
      await retriever.release();
    }
  });

  it('keeps maxCandidates best; with neighbourWeight 0 neighbour items follow the pool; any Retriever works', async () => {
    const retriever = createReferenceRetriever();
    const c = await retrieveCandidates({
      users: Int32Array.of(2),
      userEmb,
      itemEmb,
      train,
      settings: { itemPool: 2, userPool: 1, neighbourWeight: 0, maxCandidates: 3 },
      retriever,
    });
    expect(Array.from(c.items)).toEqual([2, 1, 0]);
    expect(c.poolSizes[0]).toBe(4);
    expect(retriever.calls.map((call) => [call.queries, call.k, call.metric, call.excluded])).toEqual([
      [1, 2, 'dot', 2], // items, user 2's train excluded
      [1, 1, 'dot', 1], // users, the user itself excluded
    ]);
  });

  it('selectCsrRows keeps the requested order', () => {
    const sub = selectCsrRows(train, [2, 0]);
    expect(Array.from(sub.indptr)).toEqual([0, 2, 3]);
    expect(Array.from(sub.indices)).toEqual([3, 5, 0]);
  });
});
