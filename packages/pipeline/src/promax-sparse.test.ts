import { type Matrix, Rng } from '@promax/core';
import { resolvePromaxSettings } from '@promax/loss';
import { createMockRecommenderModel, tinyDataset } from '@promax/model-testkit';
import { describe, expect, it } from 'vitest';
import { createModelTrainable } from './model-trainable.js';
import { preparePromax } from './promax.js';

const data = tinyDataset({ numUsers: 24, numItems: 20 });
const rng = new Rng(5);
const gauss = (r: number, c: number): Matrix => ({
  rows: r,
  cols: c,
  data: Float32Array.from({ length: r * c }, () => rng.nextNormal()),
});
const userProfiles = gauss(24, 12);
const itemProfiles = gauss(20, 12);
const batch = {
  users: Int32Array.from([0, 1, 2, 3, 3, 5, 7, 11]),
  pos: Int32Array.from([0, 0, 0, 0, 0, 0, 0, 0]),
  neg: Int32Array.from([5, 6, 7, 8, 9, 10, 11, 12]),
};
for (let k = 0; k < batch.users.length; k++)
  batch.pos[k] = data.train.indices[data.train.indptr[batch.users[k]]];

async function trajectory(sdr: Record<string, unknown>) {
  const model = createMockRecommenderModel({ embeddingSize: 8 });
  const settings = resolvePromaxSettings('custom', {
    sdr: { lambda1: 1.5, form: 'logSoftmax', ...sdr },
    s2dr: { enabled: false },
    preprocess: { dim: 4 },
  });
  const prepared = await preparePromax({
    settings,
    model,
    data: { numUsers: 24, numItems: 20, train: data.train, userProfiles, itemProfiles },
    modelDim: 8,
  });
  const t = await createModelTrainable({
    model,
    data: { numUsers: 24, numItems: 20, train: data.train },
    seed: 11,
    optimizer: { lr: 0.01 },
    extraLoss: prepared.extraLoss,
    feedsForBatch: prepared.feedsForBatch,
  });
  const losses: number[] = [];
  for (let s = 0; s < 4; s++) losses.push((await t.trainBatch(batch)).sdr);
  const state = t.getState();
  await t.release();
  await prepared.release();
  return { losses, state, prepared };
}

describe("preparePromax with sdr.teacher: 'sparse'", () => {
  it('K = |I| trains exactly like the dense teacher (logSoftmax form)', async () => {
    const dense = await trajectory({});
    const sparse = await trajectory({ teacher: 'sparse', sparseK: 20, sparseNegatives: 4 });
    expect(sparse.prepared.sparseTeacherInfo).toMatchObject({ k: 20, items: 20, sparseBytes: 24 * 20 * 8 });
    expect(sparse.prepared.teacherInfo).toBeUndefined();
    for (let s = 0; s < 4; s++) expect(sparse.losses[s]).toBeCloseTo(dense.losses[s], 5);
    for (const [name, t] of Object.entries(dense.state)) {
      const got = sparse.state[name].data;
      for (let i = 0; i < t.data.length; i++) expect(got[i]).toBeCloseTo(t.data[i], 4);
    }
  });

  it('K < |I| holds |U|·K and trains with a positive SDR term', async () => {
    const sparse = await trajectory({ teacher: 'sparse', sparseK: 5, sparseNegatives: 6 });
    expect(sparse.prepared.sparseTeacherInfo).toMatchObject({
      k: 5,
      sparseBytes: 24 * 5 * 8,
      denseBytes: 24 * 20 * 4,
    });
    expect(sparse.losses.every((l) => l > 0 && Number.isFinite(l))).toBe(true);
  });
});
