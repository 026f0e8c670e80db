import { type CsrMatrix, csrFromCoo, type Matrix, PromaxError, Rng } from '@promax/core';
import { describe, expect, it } from 'vitest';
import { evaluateRanking, recommendTopK } from './evaluate.js';
import { referenceEvaluate } from './reference.js';

const csr = (rows: number, cols: number, pairs: [number, number][]): CsrMatrix =>
  csrFromCoo({ rows, cols, row: pairs.map((p) => p[0]), col: pairs.map((p) => p[1]) }).matrix;
const mat = (rows: number, cols: number, values: number[]): Matrix => ({
  rows,
  cols,
  data: Float32Array.from(values),
});

describe('evaluateRanking — hand-computed tiny cases', () => {
  // 3 users, 6 items, d = 1: score(u, i) = userEmb[u] * itemEmb[i]
  // item scores for a user with embedding 1: [5, 4, 4, 3, 2, 1] → ties between items 1 and 2
  const items = mat(6, 1, [5, 4, 4, 3, 2, 1]);
  const users = mat(3, 1, [1, 1, 1]);

  it('masks train items, breaks ties by lower item index, skips users without held-out items', async () => {
    const train = csr(3, 6, [
      [0, 0], // user 0 trained on the best item
      [1, 4],
    ]);
    const test = csr(3, 6, [
      [0, 2], // user 0: after masking item 0, ranking is 1, 2, 3, 4, 5 → item 2 at rank 2
      [1, 1],
      [1, 2],
      [1, 3], // user 1: ranking 0,1,2,3,5; relevant {1,2,3}; |T| = 3 > K = 2
      // user 2 has no held-out items: not evaluated
    ]);
    const r = await evaluateRanking(
      { userEmb: users, itemEmb: items, train, heldOut: test },
      { ks: [1, 2, 5] },
    );
    expect(r.users).toBe(2);
    // user 0: hits@1 = 0, hits@2 = 1 (rank 2), |T| = 1
    // user 1: top = [0, 1, 2, 3, 5]: hits@1 = 0, @2 = 1 (rank 2), @5 = 3
    expect(r.metrics['recall@1']).toBeCloseTo(0, 7);
    expect(r.metrics['recall@2']).toBeCloseTo((1 + 1 / 3) / 2, 7);
    expect(r.metrics['recall@5']).toBeCloseTo((1 + 1) / 2, 7);
    const d = (rank: number) => 1 / Math.log2(rank + 1);
    const ndcg2u0 = d(2) / d(1);
    const ndcg2u1 = d(2) / (d(1) + d(2));
    expect(r.metrics['ndcg@2']).toBeCloseTo((ndcg2u0 + ndcg2u1) / 2, 6);
    const ndcg5u1 = (d(2) + d(3) + d(4)) / (d(1) + d(2) + d(3));
    expect(r.metrics['ndcg@5']).toBeCloseTo((ndcg2u0 + ndcg5u1) / 2, 6);
    expect(r.metrics['mrr@5']).toBeCloseTo(0.5, 7);
    expect(r.metrics['precision@5']).toBeCloseTo((1 / 5 + 3 / 5) / 2, 7);
  });

  it('tie order: equal scores rank the lower item index first', async () => {
    const tied = mat(5, 1, [2, 2, 2, 2, 2]);
    const res = await recommendTopK({ userEmb: mat(1, 1, [1]), itemEmb: tied, users: [0], k: 5 });
    expect(res.get(0)?.items).toEqual([0, 1, 2, 3, 4]);
    const masked = await recommendTopK({
      userEmb: mat(1, 1, [1]),
      itemEmb: tied,
      users: [0],
      k: 3,
      exclude: csr(1, 5, [
        [0, 1],
        [0, 3],
      ]),
    });
    expect(masked.get(0)?.items).toEqual([0, 2, 4]);
  });

  it('returns fewer than K items when the user has fewer candidates', async () => {
    const train = csr(1, 3, [
      [0, 0],
      [0, 1],
    ]);
    const res = await recommendTopK({
      userEmb: mat(1, 1, [1]),
      itemEmb: mat(3, 1, [3, 2, 1]),
      users: [0],
      k: 5,
      exclude: train,
    });
    expect(res.get(0)?.items).toEqual([2]);
  });

  it('rejects mismatched shapes with SHAPE_MISMATCH naming the field', async () => {
    const train = csr(3, 6, []);
    await expect(
      evaluateRanking({ userEmb: mat(3, 2, [1, 1, 1, 1, 1, 1]), itemEmb: items, train, heldOut: train }),
    ).rejects.toThrow(/user embeddings have 2 columns but item embeddings have 1/);
    try {
      await evaluateRanking({ userEmb: users, itemEmb: items, train: csr(4, 6, []), heldOut: train });
      expect.unreachable();
    } catch (e) {
      expect(PromaxError.isInstance(e) && e.code).toBe('SHAPE_MISMATCH');
      expect((e as PromaxError).field).toBe('train');
    }
    await expect(
      evaluateRanking({ userEmb: users, itemEmb: items, train, heldOut: csr(3, 7, []) }),
    ).rejects.toThrow(/held-out matrix is 3×7/);
  });
});

describe('evaluateRanking — agrees with the float64 reference on random data with signal', () => {
  it('matches on 400 users × 1500 items, d = 16, several chunk sizes', async () => {
    const rng = new Rng(11);
    const U = 400;
    const N = 1500;
    const D = 16;
    const gauss = (n: number) => Float32Array.from({ length: n }, () => rng.nextNormal());
    const userEmb = { rows: U, cols: D, data: gauss(U * D) };
    const itemEmb = { rows: N, cols: D, data: gauss(N * D) };
    // interactions drawn from the same latent space (real signal): top-scored items + noise
    const tr: [number, number][] = [];
    const te: [number, number][] = [];
    for (let u = 0; u < U; u++) {
      const nInter = 3 + rng.nextInt(40);
      const chosen = new Set<number>();
      while (chosen.size < nInter) {
        // 50% from a biased pick (positive score), 50% uniform
        const i = rng.nextInt(N);
        let s = 0;
        for (let c = 0; c < D; c++) s += userEmb.data[u * D + c] * itemEmb.data[i * D + c];
        if (s > 6 || rng.nextFloat() < 0.02) chosen.add(i);
      }
      for (const i of chosen) (rng.nextFloat() < 0.7 ? tr : te).push([u, i]);
    }
    const train = csr(U, N, tr);
    const heldOut = csr(U, N, te);
    const ref = referenceEvaluate({ userEmb, itemEmb, train, heldOut });
    expect(ref.metrics['recall@20']).toBeGreaterThan(0.1); // random ranking would give about 20/1500
    for (const chunkUsers of [7, 128, 4096]) {
      const fast = await evaluateRanking({ userEmb, itemEmb, train, heldOut }, { chunkUsers });
      expect(fast.users).toBe(ref.users);
      for (const [k, v] of Object.entries(ref.metrics))
        expect(Math.abs(fast.metrics[k] - v), k).toBeLessThan(2e-4);
    }
  });
});

describe('evaluateRanking — bounds, empty and overlapping evaluations', () => {
  const items = mat(6, 1, [5, 4, 4, 3, 2, 1]);
  const users = mat(3, 1, [1, 1, 1]);
  const train = csr(3, 6, [
    [0, 0],
    [1, 4],
  ]);

  it('bounds a cutoff above the item count: exact metrics, a note, no allocation of K (1e9, 2^40)', async () => {
    const test = csr(3, 6, [
      [0, 2],
      [1, 1],
    ]);
    const input = { userEmb: users, itemEmb: items, train, heldOut: test };
    const at6 = await evaluateRanking(input, { ks: [6] });
    for (const k of [7, 1_000_000_000, 2 ** 40]) {
      const warnings: string[] = [];
      const r = await evaluateRanking(input, {
        ks: [2, k],
        onProgress: (e) => e.type === 'warning' && warnings.push(e.message),
      });
      for (const m of ['recall', 'ndcg', 'hit', 'mrr'])
        expect(r.metrics[`${m}@${k}`]).toBe(at6.metrics[`${m}@6`]);
      expect(r.metrics[`precision@${k}`]).toBeCloseTo((at6.metrics['precision@6'] * 6) / k, 12);
      expect(r.metrics['recall@2']).toBe((await evaluateRanking(input, { ks: [2] })).metrics['recall@2']);
      expect(r.warnings).toEqual([
        `cutoff K=${k} exceeds the 6 items: rankings hold at most 6 items, so metrics at K ≥ 6 see the same list`,
      ]);
      expect(warnings).toEqual(r.warnings);
    }
  });

  it('clamps recommendTopK to the item count instead of allocating k slots', async () => {
    const top = await recommendTopK({ userEmb: users, itemEmb: items, users: [2], k: 2 ** 40 });
    expect(top.get(2)?.items).toEqual([0, 1, 2, 3, 4, 5]);
  });

  it('refuses an empty held-out split instead of reporting metrics of 0 over 0 users', async () => {
    const err = await evaluateRanking({
      userEmb: users,
      itemEmb: items,
      train,
      heldOut: csr(3, 6, []),
    }).catch((e: unknown) => e);
    expect(PromaxError.isInstance(err) && err.code).toBe('INVALID_DATA');
    expect((err as PromaxError).describe('cli')).toMatch(/no entries.*pass a non-empty --test split/);
  });

  it('reports train/test overlap, and refuses a test split that is the train split', async () => {
    const warnings: string[] = [];
    const partly = csr(3, 6, [
      [0, 0], // also a train entry
      [0, 2],
      [1, 1],
    ]);
    const r = await evaluateRanking(
      { userEmb: users, itemEmb: items, train, heldOut: partly },
      { ks: [2], onProgress: (e) => e.type === 'warning' && warnings.push(e.message) },
    );
    expect(r.overlap).toEqual({ entries: 1, users: 1 });
    expect(r.warnings).toEqual([
      '1 of 3 held-out entries (1 users) are also train entries; they are masked and count as misses',
    ]);
    expect(warnings).toEqual(r.warnings);
    const same = await evaluateRanking({ userEmb: users, itemEmb: items, train, heldOut: train }).catch(
      (e: unknown) => e,
    );
    expect(PromaxError.isInstance(same) && same.code).toBe('SPLIT_OVERLAP');
    expect(String(same)).toMatch(/every one of the 2 held-out entries is also a train entry/);
  });
});
