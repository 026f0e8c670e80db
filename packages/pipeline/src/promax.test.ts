import { csrFromCoo, csrToCoo, type Matrix, PromaxError, Rng } from '@promax/core';
import { resolvePromaxSettings } from '@promax/loss';
import { createMockRecommenderModel, tinyDataset } from '@promax/model-testkit';
import { describe, expect, it } from 'vitest';
import { createModelTrainable } from './model-trainable.js';
import { preparePromax } from './promax.js';

const data = tinyDataset({ numUsers: 24, numItems: 20 });
// A′ = train plus two extra items for the first 12 users (never train items).
const coo = csrToCoo(data.train);
const rows = Array.from(coo.row);
const cols = Array.from(coo.col);
for (let u = 0; u < 12; u++) {
  for (const i of [(u * 7 + 1) % 20, (u * 7 + 2) % 20]) {
    rows.push(u);
    cols.push(i);
  }
}
const aug = csrFromCoo({ rows: 24, cols: 20, row: rows, col: cols }, { duplicates: 'binary' }).matrix;
const rng = new Rng(3);
const gauss = (r: number, c: number): Matrix => ({
  rows: r,
  cols: c,
  data: Float32Array.from({ length: r * c }, () => rng.nextNormal()),
});
const userProfiles = gauss(24, 12);
const itemProfiles = gauss(20, 12);
const batch = {
  users: Int32Array.from([0, 1, 2, 3, 3, 5, 7, 11]),
  pos: Int32Array.from([0, 1, 2, 3, 7, 1, 3, 3]),
  neg: Int32Array.from([5, 6, 7, 8, 9, 10, 11, 12]),
};
for (let k = 0; k < batch.users.length; k++) {
  // pick a real train item as the positive so the triple is valid
  const u = batch.users[k];
  batch.pos[k] = data.train.indices[data.train.indptr[u]];
}

async function trajectory(options: { promax?: { lambda1: number; lambda2: number }; usesGraph?: boolean }) {
  const model = createMockRecommenderModel({ embeddingSize: 8, usesGraph: options.usesGraph ?? true });
  let prepared: Awaited<ReturnType<typeof preparePromax>> | undefined;
  if (options.promax) {
    const settings = resolvePromaxSettings('custom', {
      sdr: { lambda1: options.promax.lambda1 },
      s2dr: { lambda2: options.promax.lambda2 },
      preprocess: { dim: 4 },
    });
    prepared = await preparePromax({
      settings,
      model,
      data: { numUsers: 24, numItems: 20, train: data.train, aug, userProfiles, itemProfiles },
      modelDim: 8,
    });
  }
  const t = await createModelTrainable({
    model,
    data: { numUsers: 24, numItems: 20, train: data.train, aug: prepared?.components.s2dr ? aug : undefined },
    seed: 11,
    optimizer: { lr: 0.01 },
    extraLoss: prepared?.extraLoss,
    feedsForBatch: prepared?.feedsForBatch,
  });
  const losses: Record<string, number>[] = [];
  for (let s = 0; s < 4; s++) losses.push(await t.trainBatch(batch));
  const state = t.getState();
  await t.release();
  await prepared?.release();
  return { losses, state, components: prepared?.components };
}

describe('preparePromax', () => {
  it('λ1 = λ2 = 0 gives exactly the base model trajectory (terms built, weight zero)', async () => {
    const base = await trajectory({});
    const zero = await trajectory({ promax: { lambda1: 0, lambda2: 0 } });
    expect(zero.components).toMatchObject({ sdr: true, s2dr: true });
    expect(zero.losses[0].sdr).toBe(0);
    expect(zero.losses[0].s2dr).toBe(0);
    for (const [name, t] of Object.entries(base.state)) {
      expect(Array.from(zero.state[name].data), name).toEqual(Array.from(t.data));
    }
  });

  it('adds SDR and S2DR terms that change the trajectory', async () => {
    const base = await trajectory({});
    const pm = await trajectory({ promax: { lambda1: 1.5, lambda2: 0.05 } });
    expect(pm.losses[0].sdr).toBeGreaterThan(0);
    expect(pm.losses[0].s2dr).toBeGreaterThan(0);
    // total = bpr + reg + sdr + s2dr (+ nothing else)
    const l = pm.losses[0];
    expect(l.loss).toBeCloseTo(l.bpr + l.reg + l.sdr + l.s2dr, 5);
    const name = Object.keys(base.state)[0];
    expect(Array.from(pm.state[name].data)).not.toEqual(Array.from(base.state[name].data));
  });

  it('gives MF (no graph) a second view over A′ so S2DR is not degenerate', async () => {
    const mf = await trajectory({ usesGraph: false, promax: { lambda1: 0, lambda2: 0.1 } });
    expect(mf.components?.s2dr).toBe(true);
    expect(mf.losses[0].s2dr).toBeGreaterThan(0);
  });

  it('skips components whose inputs are missing and says why; rejects misaligned profiles', async () => {
    const model = createMockRecommenderModel({ embeddingSize: 8 });
    const settings = resolvePromaxSettings('amazon-book', {});
    const none = await preparePromax({
      settings,
      model,
      data: { numUsers: 24, numItems: 20, train: data.train },
      modelDim: 8,
    });
    expect(none.components).toMatchObject({ sdr: false, s2dr: false });
    expect(none.components.notes.join(' ')).toMatch(/no profile embeddings.*no augmented graph/);
    expect(none.extraLoss).toBeUndefined();
    // An A′ with no edges is skipped with the reason, not trained over.
    const emptyAug = { ...data.train, indices: new Int32Array(0), indptr: new Int32Array(25) };
    const skipped = await preparePromax({
      settings,
      model,
      data: { numUsers: 24, numItems: 20, train: data.train, aug: emptyAug },
      modelDim: 8,
    });
    expect(skipped.components).toMatchObject({ sdr: false, s2dr: false });
    expect(skipped.components.notes).toContain("S2DR skipped: the augmented graph A' has no edges");
    // When both run, the notes state which inputs each used.
    const both = await preparePromax({
      settings,
      model,
      data: {
        numUsers: 24,
        numItems: 20,
        train: data.train,
        aug: data.train,
        userProfiles: gauss(24, 12),
        itemProfiles,
      },
      modelDim: 8,
    });
    expect(both.components.notes).toEqual([
      'SDR uses the profile embeddings (24×12 users, 20×12 items)',
      `S2DR uses A' (${data.train.indptr[24]} edges)`,
    ]);
    await both.release();
    try {
      await preparePromax({
        settings,
        model,
        data: { numUsers: 24, numItems: 20, train: data.train, userProfiles: gauss(23, 12), itemProfiles },
        modelDim: 8,
      });
      expect.unreachable();
    } catch (e) {
      expect(PromaxError.isInstance(e) && e.code).toBe('SHAPE_MISMATCH');
      expect(String(e)).toMatch(/user profile embeddings have 23 rows but the dataset has 24 users/);
    }
  });

  it('feeds teacher rows of each batch from one reused buffer without mixing batches up', async () => {
    const model = createMockRecommenderModel({ embeddingSize: 8 });
    const settings = resolvePromaxSettings('custom', { preprocess: { dim: 4 } });
    const prepared = await preparePromax({
      settings,
      model,
      data: { numUsers: 24, numItems: 20, train: data.train, userProfiles, itemProfiles },
      modelDim: 8,
    });
    const feeds = prepared.feedsForBatch as NonNullable<typeof prepared.feedsForBatch>;
    const ids = (users: number[]) => ({
      users: Int32Array.from(users),
      pos: new Int32Array(users.length),
      neg: new Int32Array(users.length),
      uniqueUsers: Int32Array.from(users),
      uniquePos: new Int32Array(0),
    });
    const small = ids([1, 4, 9]);
    const large = ids([0, 2, 3, 5, 6, 7, 8, 10, 11, 23]);
    const first = Float32Array.from((await feeds(small))['promax.sdr.teacher']);
    const big = Float32Array.from((await feeds(large))['promax.sdr.teacher']);
    const again = (await feeds(small))['promax.sdr.teacher'];
    expect(first).toHaveLength(3 * 20);
    expect(big).toHaveLength(10 * 20);
    expect(again).toHaveLength(3 * 20);
    expect(Array.from(again)).toEqual(Array.from(first));
    // every row is a distribution over the 20 items, and distinct users get distinct rows
    for (let r = 0; r < 10; r++)
      expect(big.subarray(r * 20, (r + 1) * 20).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
    expect(Array.from(big.subarray(0, 20))).not.toEqual(Array.from(first.subarray(0, 20)));
    await prepared.release();
  });
});
