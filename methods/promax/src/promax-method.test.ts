import { csrFromCoo, csrToCoo, type MethodInputs, PromaxError, Rng } from '@promax/core';
import { createModelTrainable, resolvePluginSettings } from '@promax/pipeline';
import {
  createMockRecommenderModel,
  describeRecommenderMethod,
  gaussianMatrix,
  type RecommenderModel,
  tinyDataset,
} from '@promax/testkit';
import { describe, expect, it } from 'vitest';
import { createPromax, promaxMethodDefinition } from './index.js';

describeRecommenderMethod('promax', promaxMethodDefinition, { settings: { preprocess: { dim: 4 } } });
describeRecommenderMethod(
  'promax on a model without a graph (MF-like doEncodeView)',
  promaxMethodDefinition,
  {
    settings: { preprocess: { dim: 4 } },
    model: () => createMockRecommenderModel({ embeddingSize: 8, usesGraph: false }),
  },
);

function settingsFor(dataset: string, overrides: unknown = {}) {
  return resolvePluginSettings(promaxMethodDefinition, { dataset, overrides }).settings;
}

async function prepare(model: RecommenderModel, settings: Record<string, unknown>, inputs: MethodInputs) {
  return createPromax(settings).doPrepare({
    dataset: { name: 'tiny', numUsers: 24, numItems: 20, train: data.train },
    model: {
      modelId: model.modelId,
      capabilities: model.capabilities,
      embeddingSize: model.embeddingSize,
      encodesViews: model.capabilities.usesGraph || typeof model.doEncodeView === 'function',
    },
    inputs,
    seed: 1,
  });
}

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
const userProfiles = gaussianMatrix(rng, 24, 12);
const itemProfiles = gaussianMatrix(rng, 20, 12);
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
  const prepared = options.promax
    ? await prepare(
        model,
        settingsFor('custom', {
          sdr: { lambda1: options.promax.lambda1 },
          s2dr: { lambda2: options.promax.lambda2 },
          preprocess: { dim: 4 },
        }),
        { userProfiles, itemProfiles, aug },
      )
    : undefined;
  const t = await createModelTrainable({
    model,
    data: {
      numUsers: 24,
      numItems: 20,
      train: data.train,
      aug: prepared?.usesAugmentedView ? aug : undefined,
    },
    seed: 11,
    optimizer: { lr: 0.01 },
    methods: prepared ? [{ id: 'promax', prepared }] : [],
  });
  const losses: Record<string, number>[] = [];
  for (let s = 0; s < 4; s++) losses.push(await t.trainBatch(batch));
  const state = t.getState();
  await t.release();
  return {
    losses,
    state,
    components: prepared?.report.details?.components as { sdr: boolean; s2dr: boolean } | undefined,
  };
}

describe('the promax method', () => {
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

  it('warmupEpochs ramps a term weight from 0 (epoch 1) to its value (epoch W + 1); 0 leaves the graph as it was', async () => {
    const firstStep = async (warmupEpochs: number, epoch: number | null, term: 'sdr' | 's2dr' = 's2dr') => {
      const model = createMockRecommenderModel({ embeddingSize: 8 });
      const prepared = await prepare(
        model,
        settingsFor(
          'custom',
          term === 's2dr'
            ? { sdr: { enabled: false }, s2dr: { lambda2: 0.05, warmupEpochs } }
            : { s2dr: { enabled: false }, sdr: { lambda1: 1.5, warmupEpochs }, preprocess: { dim: 4 } },
        ),
        { userProfiles, itemProfiles, aug },
      );
      const t = await createModelTrainable({
        model,
        data: { numUsers: 24, numItems: 20, train: data.train, aug },
        seed: 11,
        optimizer: { lr: 0.01 },
        methods: [{ id: 'promax', prepared }],
      });
      if (epoch !== null) await t.onEpochStart(epoch);
      const loss = await t.trainBatch(batch);
      const state = t.getState();
      await t.release();
      const components = prepared.report.details?.components as { notes: string[] } | undefined;
      return { loss, state, notes: components?.notes ?? [] };
    };
    const full = await firstStep(0, null);
    expect(full.loss.s2dr).toBeGreaterThan(0);
    const half = await firstStep(2, 2);
    expect(half.notes.join(' ')).toMatch(/S2DR λ2 ramps from 0 to 0.05 over 2 epochs/);
    expect(half.loss.s2dr).toBeCloseTo(full.loss.s2dr / 2, 6);
    const after = await firstStep(2, 3);
    expect(after.loss.s2dr).toBe(full.loss.s2dr);
    for (const [name, t] of Object.entries(full.state))
      expect(Array.from(after.state[name].data), name).toEqual(Array.from(t.data));
    // epoch 1: no S2DR at all, the base model's step
    const first = await firstStep(2, 1);
    expect(first.loss.s2dr).toBe(0);
    const one = await (async () => {
      const model = createMockRecommenderModel({ embeddingSize: 8 });
      const t = await createModelTrainable({
        model,
        data: { numUsers: 24, numItems: 20, train: data.train },
        seed: 11,
        optimizer: { lr: 0.01 },
      });
      await t.trainBatch(batch);
      const state = t.getState();
      await t.release();
      return state;
    })();
    for (const [name, t] of Object.entries(one))
      expect(Array.from(first.state[name].data), name).toEqual(Array.from(t.data));
    // the same ramp on SDR's λ1
    const sdrFull = await firstStep(0, null, 'sdr');
    const sdrThird = await firstStep(3, 2, 'sdr');
    expect(sdrThird.notes.join(' ')).toMatch(/SDR λ1 ramps from 0 to 1.5 over 3 epochs/);
    expect(sdrThird.loss.sdr).toBeCloseTo(sdrFull.loss.sdr / 3, 6);
    expect((await firstStep(3, 1, 'sdr')).loss.sdr).toBe(0);
  });

  it('gives MF (no graph) a second view over A′ so S2DR is not degenerate', async () => {
    const mf = await trajectory({ usesGraph: false, promax: { lambda1: 0, lambda2: 0.1 } });
    expect(mf.components?.s2dr).toBe(true);
    expect(mf.losses[0].s2dr).toBeGreaterThan(0);
  });

  it('skips components whose inputs are missing and says why; rejects misaligned profiles', async () => {
    const model = createMockRecommenderModel({ embeddingSize: 8 });
    const settings = settingsFor('amazon-book');
    const none = await prepare(model, settings, {});
    expect(none.report.details?.components).toMatchObject({ sdr: false, s2dr: false });
    expect(none.report.notes.join(' ')).toMatch(/no profile embeddings.*no augmented graph/);
    expect(none.doLoss).toBeUndefined();
    const empty = csrFromCoo({ rows: 24, cols: 20, row: [], col: [] }).matrix;
    const noEdges = await prepare(model, settings, { aug: empty });
    expect(noEdges.report.notes.join(' ')).toMatch(/A′ has no edges/);
    try {
      await prepare(model, settings, { userProfiles: gaussianMatrix(rng, 23, 12), itemProfiles });
      expect.unreachable();
    } catch (e) {
      expect(PromaxError.isInstance(e) && e.code).toBe('SHAPE_MISMATCH');
      expect(String(e)).toMatch(/user profile embeddings have 23 rows but the dataset has 24 users/);
    }
  });

  it('feeds teacher rows of each batch from one reused buffer without mixing batches up', async () => {
    const model = createMockRecommenderModel({ embeddingSize: 8 });
    const prepared = await prepare(model, settingsFor('custom', { preprocess: { dim: 4 } }), {
      userProfiles,
      itemProfiles,
    });
    const feeds = async (b: Parameters<NonNullable<typeof prepared.feedsForBatch>>[0]) =>
      (await prepared.feedsForBatch?.(b)) as Record<string, Float32Array>;
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

describe('promax settings', () => {
  it('defaults follow method.md and the released code (τ = 0.2, no mask, no top-k, clip [0.1, 1], separate whitening, InfoNCE ε 1e-5)', () => {
    expect(promaxMethodDefinition.defaults).toEqual({
      sdr: {
        enabled: true,
        lambda1: 0.5,
        tauP: 0.2,
        tauQ: 0.2,
        maskTrain: false,
        topK: null,
        weightClip: [0.1, 1],
        form: 'exact',
        memoryBudgetBytes: 2 ** 30,
        warmupEpochs: 0,
        teacher: 'dense',
        sparseK: 256,
        sparseNegatives: 256,
        sparseLogits: 'auto',
      },
      s2dr: { enabled: true, lambda2: 0.1, tauS: 0.2, infoNceEpsilon: 1e-5, warmupEpochs: 0 },
      preprocess: { mode: 'separate', dim: null, eps: 0 },
    });
  });

  it('per-dataset presets of §6, matched by canonical dataset name (amazon_book → amazon-book)', () => {
    const pick = (d: string) => {
      const s = settingsFor(d) as { sdr: { lambda1: number }; s2dr: { lambda2: number; tauS: number } };
      return [s.sdr.lambda1, s.s2dr.lambda2, s.s2dr.tauS];
    };
    expect(pick('amazon-book')).toEqual([1.5, 0.05, 0.2]);
    expect(pick('amazon_book')).toEqual([1.5, 0.05, 0.2]);
    expect(pick('yelp')).toEqual([0.5, 0.1, 0.2]);
    expect(pick('Steam')).toEqual([0.5, 0.1, 0.5]);
    expect(pick('dbbook')).toEqual([0.5, 0.1, 0.2]);
  });

  it('overrides merge deeply over the preset; unknown keys are INVALID_CONFIG errors naming the path', () => {
    const s = settingsFor('steam', { sdr: { maskTrain: true, topK: 100 }, s2dr: { lambda2: 0.2 } }) as {
      sdr: Record<string, unknown>;
      s2dr: Record<string, unknown>;
    };
    expect(s.sdr).toMatchObject({ lambda1: 0.5, maskTrain: true, topK: 100 });
    expect(s.s2dr).toMatchObject({ lambda2: 0.2, tauS: 0.5 });
    try {
      settingsFor('yelp', { sdr: { lamda1: 1, tauP: 0 } });
      expect.unreachable();
    } catch (e) {
      expect(PromaxError.isInstance(e) && e.code).toBe('INVALID_CONFIG');
      expect(String(e)).toMatch(/sdr\.lamda1.*did you mean "lambda1"/);
      expect(String(e)).toMatch(/sdr\.tauP/);
    }
  });
});

describe("the promax method with sdr.teacher: 'sparse'", () => {
  async function sparseTrajectory(sdr: Record<string, unknown>) {
    const model = createMockRecommenderModel({ embeddingSize: 8 });
    const prepared = await prepare(
      model,
      settingsFor('custom', {
        sdr: { lambda1: 1.5, form: 'logSoftmax', ...sdr },
        s2dr: { enabled: false },
        preprocess: { dim: 4 },
      }),
      { userProfiles, itemProfiles },
    );
    const t = await createModelTrainable({
      model,
      data: { numUsers: 24, numItems: 20, train: data.train },
      seed: 11,
      optimizer: { lr: 0.01 },
      methods: [{ id: 'promax', prepared }],
    });
    const losses: number[] = [];
    for (let s = 0; s < 4; s++) losses.push((await t.trainBatch(batch)).sdr);
    const state = t.getState();
    await t.release();
    return { losses, state, details: prepared.report.details as Record<string, unknown> };
  }

  it('K = |I| trains exactly like the dense teacher (logSoftmax form), by either logits path', async () => {
    const dense = await sparseTrajectory({});
    const gathered = await sparseTrajectory({
      teacher: 'sparse',
      sparseK: 20,
      sparseNegatives: 4,
      sparseLogits: 'gather',
    });
    expect((gathered.details.components as { notes: string[] }).notes).toContain(
      'sparse SDR logits: gathered candidates',
    );
    for (let s = 0; s < 4; s++) expect(gathered.losses[s]).toBeCloseTo(dense.losses[s], 5);
    // 'auto': N = 20 ≤ (K + M)·d, so the [Bu, N] product
    const sparse = await sparseTrajectory({ teacher: 'sparse', sparseK: 20, sparseNegatives: 4 });
    expect((sparse.details.components as { notes: string[] }).notes).toContain(
      'sparse SDR logits: [Bu, N] product',
    );
    expect(sparse.details.sparseTeacher).toMatchObject({
      k: 20,
      items: 20,
      sparseBytes: 24 * 20 * 8 + 24 * 4,
    });
    expect(sparse.details.teacher).toBeUndefined();
    for (let s = 0; s < 4; s++) expect(sparse.losses[s]).toBeCloseTo(dense.losses[s], 5);
    for (const [name, t] of Object.entries(dense.state)) {
      const got = sparse.state[name].data;
      for (let i = 0; i < t.data.length; i++) expect(got[i]).toBeCloseTo(t.data[i], 4);
    }
  });

  it('K < |I| holds |U|·K and trains with a positive SDR term', async () => {
    const sparse = await sparseTrajectory({ teacher: 'sparse', sparseK: 5, sparseNegatives: 6 });
    expect(sparse.details.sparseTeacher).toMatchObject({
      k: 5,
      sparseBytes: 24 * 5 * 8 + 24 * 4,
      denseBytes: 24 * 20 * 4,
      renormalized: false,
      tail: 'exact',
    });
    expect(sparse.losses.every((l) => l > 0 && Number.isFinite(l))).toBe(true);
  });

  it('with topK set it holds exactly that truncated teacher: the dense topK trajectory', async () => {
    const dense = await sparseTrajectory({ topK: 5 });
    // 15 negatives cover the whole complement: the partition sum is exact
    const sparse = await sparseTrajectory({ topK: 5, teacher: 'sparse', sparseK: 99, sparseNegatives: 15 });
    expect(sparse.details.sparseTeacher).toMatchObject({ k: 5, renormalized: true, tail: 'none' });
    for (let s = 0; s < 4; s++) expect(sparse.losses[s]).toBeCloseTo(dense.losses[s], 5);
    for (const [name, t] of Object.entries(dense.state)) {
      const got = sparse.state[name].data;
      for (let i = 0; i < t.data.length; i++) expect(got[i]).toBeCloseTo(t.data[i], 4);
    }
  });
});
