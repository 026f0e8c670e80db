import { csrFromCoo, type Matrix, PromaxError, Rng } from '@promax/core';
import { describe, expect, it } from 'vitest';
import { createExactRetriever } from './exact-retriever.js';
import { createReferenceRetriever, referenceTopK } from './reference-retriever.js';
import { describeRetriever } from './retriever-conformance.js';

describeRetriever('exact-onnx', () => createExactRetriever(), { describe, it });
describeRetriever('exact-onnx, 2 queries per block', () => createExactRetriever({ blockQueries: 2 }), {
  describe,
  it,
});
describeRetriever('reference-float64 (the oracle itself)', () => createReferenceRetriever(), {
  describe,
  it,
});

/** Small-integer data: every dot product is exact in float32, so ties are real and order must match exactly. */
function integerMatrix(rows: number, cols: number, rng: Rng, zeroRows: number[] = []): Matrix {
  const data = new Float32Array(rows * cols);
  for (let i = 0; i < data.length; i++) data[i] = rng.nextInt(5) - 2;
  for (const r of zeroRows) data.fill(0, r * cols, r * cols + cols);
  return { rows, cols, data };
}

describe('createExactRetriever against a float64 brute force', () => {
  it('dot: identical ids (ties → lower id) and scores, with exclusions, over many query blocks', async () => {
    const rng = new Rng(7);
    const corpus = integerMatrix(300, 4, rng);
    const queries = integerMatrix(45, 4, rng);
    const lists = Array.from({ length: 45 }, (_, q) => Array.from({ length: q % 9 }, () => rng.nextInt(300)));
    const { matrix: exclude } = csrFromCoo(
      {
        rows: 45,
        cols: 300,
        row: lists.flatMap((l, q) => l.map(() => q)),
        col: lists.flat(),
      },
      { duplicates: 'binary' },
    );
    const r = createExactRetriever({ blockQueries: 8 });
    try {
      await r.index(corpus);
      const res = await r.doSearch({ queries, k: 20, metric: 'dot', exclude });
      const ref = referenceTopK(queries, corpus, 20, 'dot', (q) => lists[q]);
      for (let q = 0; q < 45; q++) {
        expect(Array.from(res.indices.subarray(q * 20, q * 20 + 20))).toEqual(ref[q].map((h) => h.id));
        expect(Array.from(res.scores.subarray(q * 20, q * 20 + 20))).toEqual(ref[q].map((h) => h.score));
        expect(res.counts[q]).toBe(20);
      }
    } finally {
      await r.release();
    }
  });

  it('cosine: zero corpus rows score 0 and zero queries return ids in order; scores match float64', async () => {
    const rng = new Rng(8);
    const corpus = integerMatrix(60, 3, rng, [0, 5, 17]);
    const queries = integerMatrix(12, 3, rng, [3]);
    const r = createExactRetriever();
    try {
      await r.index(corpus);
      const res = await r.doSearch({ queries, k: 60, metric: 'cosine' });
      const ref = referenceTopK(queries, corpus, 60, 'cosine');
      for (let q = 0; q < 12; q++) {
        const got = Array.from(res.scores.subarray(q * 60, q * 60 + 60));
        for (let j = 0; j < 60; j++) expect(got[j]).toBeCloseTo(ref[q][j].score, 5);
        const scoreOf = new Map(ref[q].map((h) => [h.id, h.score]));
        for (const id of [0, 5, 17]) {
          const j = Array.from(res.indices.subarray(q * 60, q * 60 + 60)).indexOf(id);
          expect(res.scores[q * 60 + j]).toBe(0);
          expect(scoreOf.get(id)).toBe(0);
        }
      }
      expect(Array.from(res.indices.subarray(3 * 60, 4 * 60))).toEqual(
        Array.from({ length: 60 }, (_, i) => i),
      );
    } finally {
      await r.release();
    }
  });

  it('copies the corpus at index() time and aborts between blocks', async () => {
    const corpus: Matrix = { rows: 3, cols: 1, data: Float32Array.from([1, 2, 3]) };
    const r = createExactRetriever({ blockQueries: 1 });
    try {
      await r.index(corpus);
      corpus.data[0] = 100;
      const res = await r.doSearch({
        queries: { rows: 1, cols: 1, data: Float32Array.of(1) },
        k: 1,
        metric: 'dot',
      });
      expect(res.indices[0]).toBe(2);
      const ctrl = new AbortController();
      ctrl.abort();
      const queries = { rows: 4, cols: 1, data: Float32Array.from([1, 1, 1, 1]) };
      await expect(r.doSearch({ queries, k: 1, metric: 'dot', signal: ctrl.signal })).rejects.toMatchObject({
        code: 'ABORTED',
      });
      const empty = await r.doSearch({
        queries: { rows: 0, cols: 1, data: new Float32Array(0) },
        k: 3,
        metric: 'cosine',
      });
      expect(empty.indices.length).toBe(0);
      await expect(r.doSearch({ queries, k: 1, metric: 'l2' as unknown as 'dot' })).rejects.toSatisfy(
        (e: unknown) => PromaxError.isInstance(e) && e.field === 'metric',
      );
    } finally {
      await r.release();
    }
  });

  it('searches a re-indexed corpus, not the transposed copy kept for the previous one', async () => {
    const r = createExactRetriever();
    const q = { rows: 1, cols: 2, data: Float32Array.of(1, 0) };
    try {
      for (const metric of ['dot', 'cosine'] as const) {
        await r.index({ rows: 3, cols: 2, data: Float32Array.of(3, 0, 1, 0, 2, 0) });
        expect(Array.from((await r.doSearch({ queries: q, k: 1, metric })).indices)).toEqual([0]);
        await r.index({ rows: 3, cols: 2, data: Float32Array.of(0, 1, 0, 2, 5, 1) });
        expect(Array.from((await r.doSearch({ queries: q, k: 1, metric })).indices)).toEqual([2]);
      }
    } finally {
      await r.release();
    }
  });
});
