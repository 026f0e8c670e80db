import { type CsrMatrix, csrFromCoo, type Matrix, PromaxError, Rng } from '@promax/core';
import { referenceEvaluate } from '@promax/eval';
import { describe, expect, it } from 'vitest';
import { l2NormalizeRows } from './normalize.js';
import { evaluateProfileRetrieval } from './profile-retrieval.js';
import { createReferenceRetriever } from './reference-retriever.js';

/**
 * 400 users, 600 items in 12 taste clusters. Each user interacts with 10 items of their own
 * cluster (5 train, 5 held-out). `signal` profiles sit near the cluster centre; `noise`
 * profiles are drawn independently of everything.
 */
function world(seed: number): {
  train: CsrMatrix;
  heldOut: CsrMatrix;
  signal: [Matrix, Matrix];
  noise: [Matrix, Matrix];
} {
  const rng = new Rng(seed);
  const users = 400;
  const items = 600;
  const clusters = 12;
  const d = 16;
  const centres = Array.from({ length: clusters }, () => Array.from({ length: d }, () => rng.nextNormal()));
  const itemCluster = Array.from({ length: items }, (_, i) => i % clusters);
  const userCluster = Array.from({ length: users }, () => rng.nextInt(clusters));
  const zeros = (n: number): Matrix => ({ rows: n, cols: d, data: new Float32Array(n * d) });
  const userSig = zeros(users);
  const itemSig = zeros(items);
  for (let u = 0; u < users; u++)
    for (let c = 0; c < d; c++) userSig.data[u * d + c] = centres[userCluster[u]][c] + 0.5 * rng.nextNormal();
  for (let i = 0; i < items; i++)
    for (let c = 0; c < d; c++) itemSig.data[i * d + c] = centres[itemCluster[i]][c] + 0.5 * rng.nextNormal();
  const gauss = (n: number): Matrix => ({
    rows: n,
    cols: d,
    data: Float32Array.from({ length: n * d }, () => rng.nextNormal()),
  });
  const tr: [number, number][] = [];
  const te: [number, number][] = [];
  for (let u = 0; u < users; u++) {
    const pool = itemCluster.map((c, i) => (c === userCluster[u] ? i : -1)).filter((i) => i >= 0);
    rng.shuffle(pool);
    for (let j = 0; j < 10; j++) (j < 5 ? tr : te).push([u, pool[j]]);
  }
  const toCsr = (pairs: [number, number][]): CsrMatrix =>
    csrFromCoo({ rows: users, cols: items, row: pairs.map((p) => p[0]), col: pairs.map((p) => p[1]) }).matrix;
  return {
    train: toCsr(tr),
    heldOut: toCsr(te),
    signal: [userSig, itemSig],
    noise: [gauss(users), gauss(items)],
  };
}

describe('evaluateProfileRetrieval', () => {
  const w = world(3);

  it('planted signal: recall far above the random and popularity baselines; equals the float64 reference', async () => {
    const r = await evaluateProfileRetrieval({
      userProfileEmb: w.signal[0],
      itemProfileEmb: w.signal[1],
      train: w.train,
      heldOut: w.heldOut,
      ks: [10, 20],
    });
    expect(r.users).toBe(400);
    expect(r.ks).toEqual([10, 20]);
    // random: 20 of 595 candidates → E[recall@20] = 20/595
    expect(r.random['recall@20']).toBeCloseTo(20 / 595, 10);
    expect(r.liftOverRandom['recall@20']).toBeGreaterThan(8); // measured 13.5 (recall@20 0.455)
    expect(r.liftOverPopularity['recall@20']).toBeGreaterThan(5);
    const ref = referenceEvaluate(
      {
        userEmb: l2NormalizeRows(w.signal[0]),
        itemEmb: l2NormalizeRows(w.signal[1]),
        train: w.train,
        heldOut: w.heldOut,
      },
      [10, 20],
    );
    for (const key of ['recall@10', 'recall@20', 'ndcg@20'])
      expect(r.profile[key]).toBeCloseTo(ref.metrics[key], 4);
    // cosine, not dot: scaling a user's profile changes nothing
    const scaled = { ...w.signal[0], data: w.signal[0].data.map((v, i) => (i < 16 ? v * 50 : v)) };
    const r2 = await evaluateProfileRetrieval({
      userProfileEmb: scaled,
      itemProfileEmb: w.signal[1],
      train: w.train,
      heldOut: w.heldOut,
      ks: [10, 20],
    });
    expect(r2.profile['recall@20']).toBeCloseTo(r.profile['recall@20'], 6);
  });

  it('pure noise: profile retrieval is indistinguishable from the random baseline', async () => {
    const r = await evaluateProfileRetrieval({
      userProfileEmb: w.noise[0],
      itemProfileEmb: w.noise[1],
      train: w.train,
      heldOut: w.heldOut,
    });
    expect(r.ks).toEqual([5, 10, 20]);
    // 2,000 held-out pairs: the sd of mean recall@20 is ≈ 0.004 around 0.034
    expect(r.liftOverRandom['recall@20']).toBeGreaterThan(0.6);
    expect(r.liftOverRandom['recall@20']).toBeLessThan(1.4);
    expect(Math.abs(r.profile['hit@20'] - r.random['hit@20'])).toBeLessThan(0.06);
  });

  it('validates shapes and values at the boundary', async () => {
    const bad = { ...w.signal[1], data: w.signal[1].data.slice() };
    bad.data[7 * 16 + 3] = Number.NaN;
    const err = await evaluateProfileRetrieval({
      userProfileEmb: w.signal[0],
      itemProfileEmb: bad,
      train: w.train,
      heldOut: w.heldOut,
    }).catch((e) => e);
    expect(PromaxError.isInstance(err) && err.code === 'NON_FINITE').toBe(true);
    expect(err.message).toMatch(/itemProfileEmb row 7/);
    const short = { rows: 599, cols: 16, data: w.signal[1].data.slice(0, 599 * 16) };
    await expect(
      evaluateProfileRetrieval({
        userProfileEmb: w.signal[0],
        itemProfileEmb: short,
        train: w.train,
        heldOut: w.heldOut,
      }),
    ).rejects.toMatchObject({ code: 'SHAPE_MISMATCH', field: 'train' });
  });
});

describe('evaluateProfileRetrieval with a retriever', () => {
  it('an exact retriever gives the same metrics as exact scoring; the retriever is used', async () => {
    const w = world(4);
    const base = {
      userProfileEmb: w.signal[0],
      itemProfileEmb: w.signal[1],
      train: w.train,
      heldOut: w.heldOut,
    };
    const plain = await evaluateProfileRetrieval({ ...base, ks: [5, 20] });
    const retriever = createReferenceRetriever();
    const viaRetriever = await evaluateProfileRetrieval({ ...base, ks: [5, 20], retriever });
    expect(viaRetriever.users).toBe(plain.users);
    for (const [key, v] of Object.entries(plain.profile)) expect(viaRetriever.profile[key]).toBeCloseTo(v, 5);
    expect(viaRetriever.popularity).toEqual(plain.popularity);
    expect(retriever.calls).toHaveLength(1);
    expect(retriever.calls[0]).toMatchObject({ queries: plain.users, k: 20, metric: 'cosine' });
  });
});
