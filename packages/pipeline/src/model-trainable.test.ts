import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type CsrMatrix, csrFromCoo, PromaxError, Rng, type StochasticInputSpec } from '@promax/core';
import type { GraphBuilder, SymbolicTensor } from '@promax/tensor';
import { layerPropagation, normalizedBipartiteAdjacency, xavierUniform } from '@promax/tensor';
import { afterAll, describe, expect, it } from 'vitest';
import { loadCheckpoint, saveCheckpoint } from './checkpoint.js';
import {
  type BatchIndices,
  createModelTrainable,
  type PreparedMethod,
  type RecommenderModel,
  type TrainableMethod,
} from './model-trainable.js';

/** A prepared method named 'test' from its hooks (what a method package's doPrepare returns). */
const method = (hooks: Partial<PreparedMethod>): TrainableMethod => ({
  id: 'test',
  prepared: { report: { used: {}, active: ['extra'], notes: [] }, release: async () => {}, ...hooks },
});

import { train } from './train.js';
import type { TripleBatch } from './trainable.js';

// Pipeline may not depend on model packages: the models below are minimal inline
// implementations of the contract (MF, a LightGCN-style propagation, a stochastic model).

const root = await mkdtemp(join(tmpdir(), 'promax-model-trainable-'));
afterAll(() => rm(root, { recursive: true, force: true }));

const mf = (d = 4): RecommenderModel => ({
  specificationVersion: 'v1',
  modelId: 'test-mf',
  settings: { d },
  capabilities: { usesGraph: false, hasAuxiliaryLoss: false, hasStochasticInputs: false },
  graphNormalization: { selfLoops: false },
  embeddingSize: d,
  doDeclareParameters: ({ numUsers, numItems }) => [
    { name: 'user_emb', shape: [numUsers, d], role: 'user-embedding', init: xavierUniform() },
    { name: 'item_emb', shape: [numItems, d], role: 'item-embedding' },
  ],
  doEncode: ({ params }) => ({ users: params.user_emb, items: params.item_emb }),
});

const propagation = (d = 3, layers = 2): RecommenderModel => ({
  ...mf(d),
  modelId: 'test-propagation',
  capabilities: { usesGraph: true, hasAuxiliaryLoss: false, hasStochasticInputs: false },
  doEncode: ({ g, params, graph, dims }) => {
    if (!graph) throw new Error('no graph');
    let x = g.concat([params.user_emb, params.item_emb], 0);
    const outs = [];
    for (let l = 0; l < layers; l++) {
      x = g.propagate(x, graph);
      outs.push(x);
    }
    const [users, items] = g.split(g.addN(outs), [dims.numUsers, dims.numItems]);
    return { users, items };
  },
});

const uniform = (o: Float32Array, r: Rng): void => {
  for (let i = 0; i < o.length; i++) o[i] = r.nextFloat();
};

/** Random inputs drawn per epoch and per step, surfaced as loss terms (no gradient). */
const stochastic = (): RecommenderModel => {
  const base = propagation(3, 1);
  return {
    ...base,
    modelId: 'test-stochastic',
    capabilities: { usesGraph: true, hasAuxiliaryLoss: true, hasStochasticInputs: true },
    doDeclareStochasticInputs: ({ numUsers }): StochasticInputSpec[] => [
      {
        kind: 'tensor',
        name: 'per_epoch',
        shape: [2],
        schedule: 'epoch',
        fill: uniform,
      },
      {
        kind: 'tensor',
        name: 'per_step',
        shape: [numUsers, 2],
        schedule: 'step',
        fill: uniform,
      },
      {
        kind: 'graph',
        name: 'view',
        schedule: 'epoch',
        // keep one random train item per user
        sample: (m, r) => {
          const indptr = new Int32Array(m.rows + 1);
          const indices: number[] = [];
          for (let u = 0; u < m.rows; u++) {
            const n = m.indptr[u + 1] - m.indptr[u];
            if (n > 0) indices.push(m.indices[m.indptr[u] + r.nextInt(n)]);
            indptr[u + 1] = indices.length;
          }
          return { rows: m.rows, cols: m.cols, indptr, indices: Int32Array.from(indices) };
        },
      },
    ],
    doAuxiliaryLoss: (o) => {
      const { g, stochastic: s } = o;
      const z = base.doEncode({ ...o, graph: s.graphs.view });
      return {
        epochNoise: g.reduceSum(s.tensors.per_epoch),
        stepNoise: g.reduceSum(s.tensors.per_step),
        viewSum: g.mul(g.reduceSum(z.users), 1e-9),
      };
    },
  };
};

function csr(rows: number, cols: number, pairs: [number, number][]): CsrMatrix {
  return csrFromCoo({ rows, cols, row: pairs.map((p) => p[0]), col: pairs.map((p) => p[1]) }).matrix;
}

// 5 users × 6 items
const TRAIN = csr(5, 6, [
  [0, 0],
  [0, 1],
  [1, 1],
  [1, 2],
  [2, 3],
  [3, 3],
  [3, 4],
  [4, 5],
  [4, 0],
]);
const AUG = csr(5, 6, [
  [0, 0],
  [0, 1],
  [0, 2],
  [1, 1],
  [1, 2],
  [2, 3],
  [2, 4],
  [3, 3],
  [3, 4],
  [4, 5],
  [4, 0],
]);
const DATA = { numUsers: 5, numItems: 6, train: TRAIN };

const BATCH: TripleBatch = {
  users: Int32Array.from([0, 1, 3, 0, 4]),
  pos: Int32Array.from([1, 2, 4, 0, 5]),
  neg: Int32Array.from([3, 5, 0, 4, 2]),
};

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));
const softplus = (x: number) => (x > 0 ? x + Math.log1p(Math.exp(-x)) : Math.log1p(Math.exp(x)));

/** Dense float64 propagation: Σ_{l=1..L} Â^l E over D^-½ A D^-½. */
function propagateF64(m: CsrMatrix, e: Float64Array[], layers: number): Float64Array[] {
  const n = m.rows + m.cols;
  const a = Array.from({ length: n }, () => new Float64Array(n));
  for (let u = 0; u < m.rows; u++) {
    for (let k = m.indptr[u]; k < m.indptr[u + 1]; k++) {
      a[u][m.rows + m.indices[k]] = 1;
      a[m.rows + m.indices[k]][u] = 1;
    }
  }
  const deg = a.map((r) => r.reduce((s, x) => s + x, 0));
  const d = e[0].length;
  let x = e;
  const sum = Array.from({ length: n }, () => new Float64Array(d));
  for (let l = 0; l < layers; l++) {
    x = x.map((_, v) => {
      const out = new Float64Array(d);
      for (let w = 0; w < n; w++) {
        if (a[v][w] === 0) continue;
        const s = 1 / Math.sqrt(deg[v] * deg[w]);
        for (let c = 0; c < d; c++) out[c] += s * x[w][c];
      }
      return out;
    });
    for (let v = 0; v < n; v++) for (let c = 0; c < d; c++) sum[v][c] += x[v][c];
  }
  return sum;
}

function rows(data: Float32Array, d: number): Float64Array[] {
  return Array.from({ length: data.length / d }, (_, r) =>
    Float64Array.from(data.subarray(r * d, r * d + d)),
  );
}

describe('createModelTrainable', () => {
  it('one MF step: the loss is BPR + λ·(‖U‖² + ‖I‖²) and Adam moves along the hand gradient', async () => {
    const d = 4;
    const l2 = 0.01;
    const lr = 0.001;
    const t = await createModelTrainable({ model: mf(d), data: DATA, seed: 3, l2, optimizer: { lr } });
    const U0 = t.getState().user_emb.data.slice();
    const I0 = t.getState().item_emb.data.slice();
    const losses = await t.trainBatch(BATCH);
    const dot = (a: Float32Array, i: number, b: Float32Array, j: number) => {
      let s = 0;
      for (let c = 0; c < d; c++) s += a[i * d + c] * b[j * d + c];
      return s;
    };
    const B = BATCH.users.length;
    let bpr = 0;
    const gU = new Float64Array(U0.length);
    const gI = new Float64Array(I0.length);
    for (let k = 0; k < B; k++) {
      const [u, i, j] = [BATCH.users[k], BATCH.pos[k], BATCH.neg[k]];
      const x = dot(U0, u, I0, j) - dot(U0, u, I0, i);
      bpr += softplus(x) / B;
      const s = sigmoid(x) / B;
      for (let c = 0; c < d; c++) {
        gU[u * d + c] += s * (I0[j * d + c] - I0[i * d + c]);
        gI[j * d + c] += s * U0[u * d + c];
        gI[i * d + c] -= s * U0[u * d + c];
      }
    }
    const sq = (a: Float32Array) => a.reduce((s, v) => s + v * v, 0);
    const reg = l2 * (sq(U0) + sq(I0));
    expect(Object.keys(losses).sort()).toEqual(['bpr', 'loss', 'reg']);
    expect(losses.bpr).toBeCloseTo(bpr, 6);
    expect(losses.reg).toBeCloseTo(reg, 7);
    expect(losses.loss).toBeCloseTo(bpr + reg, 6);
    // Adam's first step: p ← p − lr·g/(|g| + ε) with g = ∂BPR + 2λp.
    const U1 = t.getState().user_emb.data;
    const I1 = t.getState().item_emb.data;
    for (const [p0, p1, gb] of [
      [U0, U1, gU],
      [I0, I1, gI],
    ] as const) {
      for (let k = 0; k < p0.length; k++) {
        const gk = gb[k] + 2 * l2 * p0[k];
        expect(p1[k]).toBeCloseTo(p0[k] - (lr * gk) / (Math.abs(gk) + 1e-8), 6);
      }
    }
  });

  it('adds nothing by default: terms are bpr and reg, and reg is 0 with l2 = 0', async () => {
    const t = await createModelTrainable({ model: mf(), data: DATA, seed: 1, l2: 0 });
    expect(t.terms).toEqual(['bpr', 'reg']);
    const losses = await t.trainBatch(BATCH);
    expect(losses.reg).toBe(0);
    expect(losses.loss).toBeCloseTo(losses.bpr, 7);
    const d = await createModelTrainable({ model: mf(), data: DATA, seed: 1 });
    expect((await d.trainBatch(BATCH)).reg).toBeGreaterThan(0); // default λreg = 1e-6
  });

  it('embed() encodes over the original graph (float64 propagation, Σ of layers 1..L)', async () => {
    const t = await createModelTrainable({ model: propagation(3, 2), data: { ...DATA, aug: AUG }, seed: 5 });
    const s = t.getState();
    const e = [...rows(s.user_emb.data, 3), ...rows(s.item_emb.data, 3)];
    const want = propagateF64(TRAIN, e, 2);
    const { users, items } = await t.embed();
    expect([users.rows, users.cols, items.rows, items.cols]).toEqual([5, 3, 6, 3]);
    const got = [...users.data, ...items.data];
    let err = 0;
    for (let v = 0; v < 11; v++)
      for (let c = 0; c < 3; c++) err = Math.max(err, Math.abs(got[v * 3 + c] - want[v][c]));
    expect(err).toBeLessThan(1e-6);
  });

  it('a method encodes the augmented view with the same parameters, with per-batch inputs', async () => {
    const seen: BatchIndices[] = [];
    const t = await createModelTrainable({
      model: propagation(3, 1),
      data: { ...DATA, aug: AUG },
      seed: 8,
      l2: 0,
      methods: [
        method({
          usesAugmentedView: true,
          doLoss: (ctx) => {
            const a = ctx.encode('original');
            const b = ctx.encode('augmented');
            expect(ctx.encode('original')).toBe(a);
            const w = ctx.addInput('test.w', ['Bu']);
            const zu = ctx.g.gather(a.users, ctx.batch.uniqueUsers);
            const zu2 = ctx.g.gather(b.users, ctx.batch.uniqueUsers);
            return { extra: ctx.g.reduceSum(ctx.g.mul(w, ctx.g.rowDot(zu, zu2))) };
          },
          feedsForBatch: async (b) => {
            seen.push({ ...b, uniqueUsers: b.uniqueUsers.slice(), uniquePos: b.uniquePos.slice() });
            return { 'test.w': Float32Array.from(b.uniqueUsers, (u) => (u + 1) / 10) };
          },
        }),
      ],
    });
    expect(t.terms).toEqual(['bpr', 'reg', 'extra']);
    const s = t.getState();
    const e = [...rows(s.user_emb.data, 3), ...rows(s.item_emb.data, 3)];
    const zo = propagateF64(TRAIN, e, 1);
    const za = propagateF64(AUG, e, 1);
    const losses = await t.trainBatch(BATCH);
    expect(Array.from(seen[0].uniqueUsers)).toEqual([0, 1, 3, 4]);
    expect(Array.from(seen[0].uniquePos)).toEqual([0, 1, 2, 4, 5]);
    let want = 0;
    for (const u of [0, 1, 3, 4]) want += ((u + 1) / 10) * zo[u].reduce((acc, x, c) => acc + x * za[u][c], 0);
    expect(losses.extra).toBeCloseTo(want, 6);
    expect(losses.loss).toBeCloseTo(losses.bpr + losses.extra, 6);
  });

  it('refuses feeds a method did not declare, and inputs outside its namespace', async () => {
    const t = await createModelTrainable({
      model: mf(),
      data: DATA,
      seed: 1,
      methods: [
        method({
          doLoss: (ctx) => ({ x: ctx.g.reduceSum(ctx.addInput('test.x', ['Bu'])) }),
          feedsForBatch: (b) => ({
            'test.x': new Float32Array(b.uniqueUsers.length),
            'test.y': new Float32Array(1),
          }),
        }),
      ],
    });
    await expect(t.trainBatch(BATCH)).rejects.toThrow(/test\.y/);
    const outside = await createModelTrainable({
      model: mf(),
      data: DATA,
      seed: 1,
      methods: [method({ doLoss: (ctx) => ({ x: ctx.g.reduceSum(ctx.addInput('batch.x', ['Bu'])) }) })],
    }).catch((e) => e);
    expect(String(outside)).toMatch(/does not start with 'test\.'/);
  });

  it('refuses the augmented view without data.aug, clashing term names, and a method listed twice', async () => {
    const err = await createModelTrainable({
      model: propagation(),
      data: DATA,
      seed: 1,
      methods: [method({ doLoss: (ctx) => ({ x: ctx.g.reduceSum(ctx.encode('augmented').users) }) })],
    }).catch((e) => e);
    expect(PromaxError.isInstance(err) && err.field).toBe('data.aug');
    const clash = await createModelTrainable({
      model: mf(),
      data: DATA,
      seed: 1,
      methods: [method({ doLoss: (ctx) => ({ bpr: ctx.g.scalar(0) }) })],
    }).catch((e) => e);
    expect(PromaxError.isInstance(clash) && clash.code).toBe('INVALID_ARGUMENT');
    const twice = await createModelTrainable({
      model: mf(),
      data: DATA,
      seed: 1,
      methods: [method({}), method({})],
    }).catch((e) => e);
    expect(String(twice)).toMatch(/listed twice/);
  });

  it("trains a method's own parameters and applies its scoring change at inference", async () => {
    const proj = (
      ctx: { g: GraphBuilder; methodParams: Readonly<Record<string, SymbolicTensor>> },
      z: SymbolicTensor,
    ) => ctx.g.matmul(z, ctx.methodParams['test.w']);
    const t = await createModelTrainable({
      model: mf(4),
      data: DATA,
      seed: 3,
      methods: [
        method({
          parameters: [{ name: 'test.w', shape: [4, 4], role: 'weight' }],
          doLoss: (ctx) => ({ extra: ctx.g.sumSquares(proj(ctx, ctx.encode('original').users)) }),
          doScore: (ctx) => ({ users: proj(ctx, ctx.encoded.users), items: ctx.encoded.items }),
        }),
      ],
    });
    const base = await createModelTrainable({ model: mf(4), data: DATA, seed: 3 });
    // The model's parameters initialise exactly as without the method (the method has its own stream).
    expect(Array.from(t.store.get('user_emb'))).toEqual(Array.from(base.store.get('user_emb')));
    const w0 = t.store.get('test.w').slice();
    const r = await t.computeGradients(BATCH);
    expect((r.grads.get('test.w') as Float32Array).some((v) => v !== 0)).toBe(true);
    await t.trainBatch(BATCH);
    expect(Array.from(t.store.get('test.w'))).not.toEqual(Array.from(w0));
    expect(Object.keys(t.getState())).toContain('test.w');
    const e = await t.embed();
    const U = t.store.get('user_emb');
    const W = t.store.get('test.w');
    let want = 0;
    for (let c = 0; c < 4; c++) want += U[c] * W[c * 4 + 1];
    expect(e.users.data[1]).toBeCloseTo(want, 6);
    await t.release();
    await base.release();
  });

  it('a model with constants, its own ranking loss and K sampled negatives (no BPR)', async () => {
    const K = 3;
    // Item "profiles" as a constant [numItems, 2]; users are a parameter; the loss reads the
    // negatives so its value can be recomputed by hand: mean over (b, k) of z_u·z_n − z_u·z_p.
    const profiles = Float32Array.from({ length: 12 }, (_, i) => (i % 5) - 2);
    const model: RecommenderModel = {
      ...mf(2),
      modelId: 'test-constants',
      capabilities: {
        usesGraph: false,
        hasAuxiliaryLoss: true,
        hasStochasticInputs: false,
        replacesBpr: true,
      },
      sampledNegatives: K,
      doDeclareParameters: ({ numUsers }) => [
        { name: 'user_emb', shape: [numUsers, 2], role: 'user-embedding', init: xavierUniform() },
      ],
      doDeclareConstants: ({ dims, inputs }) => {
        if (!inputs.itemProfiles) throw new PromaxError({ code: 'MISSING_INPUT', message: 'no profiles' });
        return [{ name: 'test.items', shape: [dims.numItems, 2], data: inputs.itemProfiles.data }];
      },
      doEncode: ({ params, constants }) => ({ users: params.user_emb, items: constants['test.items'] }),
      doAuxiliaryLoss: ({ g, encoded, batch }) => {
        const u = g.gather(encoded.users, batch.users);
        const p = g.rowDot(u, g.gather(encoded.items, batch.pos));
        const n = g.reduceSum(
          g.mul(g.unsqueeze(u, 1), g.gather(encoded.items, batch.negatives as never)),
          [2],
        );
        return { rank: g.reduceMean(g.sub(n, g.unsqueeze(p, 1))) };
      },
    };
    const inputs = { itemProfiles: { rows: 6, cols: 2, data: profiles } };
    await expect(createModelTrainable({ model, data: DATA, seed: 1 })).rejects.toThrow(/no profiles/);
    const t = await createModelTrainable({ model, data: { ...DATA, inputs }, seed: 1, l2: 0 });
    try {
      expect(t.terms).toEqual(['reg', 'rank']);
      const { losses, grads } = await t.computeGradients(BATCH);
      const negatives = t.lastNegatives() as Int32Array;
      expect(negatives).toHaveLength(BATCH.users.length * K);
      const U = t.getState().user_emb.data;
      let want = 0;
      BATCH.users.forEach((u, b) => {
        expect(TRAIN.indices.subarray(TRAIN.indptr[u], TRAIN.indptr[u + 1])).not.toContain(negatives[b * K]);
        const dot = (i: number) => U[u * 2] * profiles[i * 2] + U[u * 2 + 1] * profiles[i * 2 + 1];
        for (let k = 0; k < K; k++) want += dot(negatives[b * K + k]) - dot(BATCH.pos[b]);
      });
      expect(losses.rank).toBeCloseTo(want / (BATCH.users.length * K), 5);
      expect(losses.bpr).toBeUndefined();
      // The constant is fed, not trained.
      expect([...grads.keys()]).toEqual(['user_emb']);
      const e = await t.embed();
      expect(e.items.data).toEqual(profiles);
      // A method that replaces BPR cannot join a model that does.
      await expect(
        createModelTrainable({
          model,
          data: { ...DATA, inputs },
          seed: 1,
          methods: [method({ replacesBpr: true })],
        }),
      ).rejects.toThrow(/own ranking loss instead of BPR, and method test replaces/);
    } finally {
      await t.release();
    }
  });

  it('refuses constants that clash with parameters or trainer inputs', async () => {
    const clash = (name: string): RecommenderModel => ({
      ...mf(2),
      doDeclareConstants: () => [{ name, shape: [2], data: new Float32Array(2) }],
    });
    for (const name of ['user_emb', 'batch.users', 'A'])
      await expect(createModelTrainable({ model: clash(name), data: DATA, seed: 1 })).rejects.toThrow(
        /constant name/,
      );
  });

  it('draws epoch-level inputs at onEpochStart and step-level inputs every step', async () => {
    const t = await createModelTrainable({ model: stochastic(), data: DATA, seed: 2 });
    expect(t.terms).toEqual(['bpr', 'reg', 'epochNoise', 'stepNoise', 'viewSum']);
    await t.onEpochStart(1);
    const a = await t.trainBatch(BATCH);
    const b = await t.trainBatch(BATCH);
    await t.onEpochStart(2);
    const c = await t.trainBatch(BATCH);
    expect(a.epochNoise).toBe(b.epochNoise);
    expect(a.stepNoise).not.toBe(b.stepNoise);
    expect(c.epochNoise).not.toBe(b.epochNoise);
    // Same seed, same draws.
    const t2 = await createModelTrainable({ model: stochastic(), data: DATA, seed: 2 });
    await t2.onEpochStart(1);
    expect(await t2.trainBatch(BATCH)).toEqual(a);
  });

  it('same seed → bit-identical parameters after N steps; another seed differs', async () => {
    const run = async (seed: number) => {
      const t = await createModelTrainable({
        model: propagation(4, 3),
        data: { ...DATA, aug: AUG },
        seed,
        optimizer: { lr: 0.01 },
      });
      const rng = new Rng(99);
      for (let step = 0; step < 5; step++) {
        const neg = Int32Array.from(BATCH.neg, () => rng.nextInt(6));
        await t.trainBatch({ ...BATCH, neg });
      }
      return t.getState();
    };
    const [x, y, z] = [await run(7), await run(7), await run(8)];
    for (const k of Object.keys(x)) {
      expect(Buffer.from(x[k].data.buffer).equals(Buffer.from(y[k].data.buffer))).toBe(true);
      expect(Buffer.from(x[k].data.buffer).equals(Buffer.from(z[k].data.buffer))).toBe(false);
    }
  });

  it('getState / setState round-trip through a checkpoint', async () => {
    const a = await createModelTrainable({ model: propagation(), data: DATA, seed: 1 });
    await a.trainBatch(BATCH);
    const dir = join(root, 'ckpt');
    await saveCheckpoint(dir, { state: a.getState(), epoch: 1, config: { model: 'test-propagation' } });
    const b = await createModelTrainable({ model: propagation(), data: DATA, seed: 2 });
    const { state } = await loadCheckpoint(dir, { expect: b.getState() });
    b.setState(state);
    const [ea, eb] = [await a.embed(), await b.embed()];
    expect(Array.from(eb.users.data)).toEqual(Array.from(ea.users.data));
    expect(Array.from(eb.items.data)).toEqual(Array.from(ea.items.data));
    const bad = () =>
      b.setState({ user_emb: { shape: [5, 2], data: new Float32Array(10) }, item_emb: state.item_emb });
    expect(bad).toThrow(/user_emb/);
  });

  it('trains end to end with train()', async () => {
    const t = await createModelTrainable({
      model: propagation(4, 2),
      data: DATA,
      seed: 1,
      optimizer: { lr: 0.05 },
    });
    const result = await train({
      trainable: t,
      data: { ...DATA, val: csr(5, 6, [[2, 4]]), test: csr(5, 6, [[1, 0]]) },
      config: {
        maxEpochs: 3,
        evalEvery: 1,
        batchSize: 4,
        ks: [5],
        selectMetric: 'recall@5',
        checkpoint: 'none',
      },
      model: 'test-propagation',
    });
    expect(result.epochs).toBe(3);
    expect(Object.keys(result.history[0].losses).sort()).toEqual(['bpr', 'loss', 'reg']);
    expect(result.test['recall@5']).toBeGreaterThanOrEqual(0);
  });
});

/** A LightGCN-style model whose training encodings propagate over Â ⊙ M (RLMRec's edge dropout). */
const masked = (keepRate: number, d = 3, layers = 2): RecommenderModel => ({
  ...mf(d),
  modelId: 'test-masked',
  capabilities: { usesGraph: true, hasAuxiliaryLoss: false, hasStochasticInputs: true },
  doDeclareStochasticInputs: (): StochasticInputSpec[] => [
    { kind: 'edge-mask', name: 'test.mask', schedule: 'step', keepRate },
  ],
  doEncode: ({ g, params, graph, dims, training, stochastic: s }) => {
    if (!graph) throw new Error('no graph');
    const view = training ? s.maskedGraphs['test.mask'](graph) : graph;
    const x0 = g.concat([params.user_emb, params.item_emb], 0);
    const z = layerPropagation(g, x0, view, { layers, combination: 'sum' });
    const [users, items] = g.split(z, [dims.numUsers, dims.numItems]);
    return { users, items };
  },
});

/**
 * Σ_{l=1..L} (Â ⊙ M)^l E in float64; the mask is read in the edge order of the trainer's feeds,
 * the weights 1/√(deg_s·deg_d) come from the matrix itself.
 */
function maskedPropagateF64(
  m: CsrMatrix,
  e: Float64Array[],
  layers: number,
  mask: Float32Array,
): Float64Array[] {
  const { src, dst } = normalizedBipartiteAdjacency(m);
  const n = m.rows + m.cols;
  const deg = new Float64Array(n);
  for (let u = 0; u < m.rows; u++) {
    for (let k = m.indptr[u]; k < m.indptr[u + 1]; k++) {
      deg[u]++;
      deg[m.rows + m.indices[k]]++;
    }
  }
  const d = e[0].length;
  let x = e;
  const sum = Array.from({ length: n }, () => new Float64Array(d));
  for (let l = 0; l < layers; l++) {
    const next = Array.from({ length: n }, () => new Float64Array(d));
    for (let k = 0; k < src.length; k++) {
      const a = Number(src[k]);
      const b = Number(dst[k]);
      const w = mask[k] / Math.sqrt(deg[a] * deg[b]);
      for (let c = 0; c < d; c++) next[b][c] += w * x[a][c];
    }
    x = next;
    for (let v = 0; v < n; v++) for (let c = 0; c < d; c++) sum[v][c] += x[v][c];
  }
  return sum;
}

function bprF64(z: Float64Array[], numUsers: number, batch: TripleBatch): number {
  const dot = (a: Float64Array, b: Float64Array) => a.reduce((acc, v, c) => acc + v * b[c], 0);
  let bpr = 0;
  for (let k = 0; k < batch.users.length; k++) {
    const u = z[batch.users[k]];
    bpr += softplus(dot(u, z[numUsers + batch.neg[k]]) - dot(u, z[numUsers + batch.pos[k]]));
  }
  return bpr / batch.users.length;
}

/** A random users × items matrix with `perUser` distinct items per user. */
function randomMatrix(users: number, items: number, perUser: number, rng: Rng): CsrMatrix {
  const pairs: [number, number][] = [];
  for (let u = 0; u < users; u++) {
    const row = new Set<number>();
    while (row.size < perUser) row.add(rng.nextInt(items));
    for (const i of row) pairs.push([u, i]);
  }
  return csr(users, items, pairs);
}

describe('createModelTrainable: edge masks', () => {
  const encodesBoth = method({
    usesAugmentedView: true,
    doLoss: (ctx) => ({
      extra: ctx.g.mul(ctx.g.reduceSum(ctx.encode('augmented').users), 1e-3),
    }),
  });

  it('draws a 0/1 mask per stored entry of each view every step, from the seeded stream', async () => {
    const make = () =>
      createModelTrainable({
        model: masked(0.5),
        data: { ...DATA, aug: AUG },
        seed: 4,
        methods: [encodesBoth],
      });
    const t = await make();
    await t.trainBatch(BATCH);
    const first = t.stochasticTensors();
    expect(Object.keys(first).sort()).toEqual(['test.mask.A', 'test.mask.A_aug']);
    expect(first['test.mask.A'].length).toBe(2 * TRAIN.indptr[5]);
    expect(first['test.mask.A_aug'].length).toBe(2 * AUG.indptr[5]);
    for (const m of Object.values(first)) {
      expect(m.every((v) => v === 0 || v === 1)).toBe(true);
      expect(m.includes(0) && m.includes(1)).toBe(true);
    }
    await t.trainBatch(BATCH);
    const second = t.stochasticTensors();
    expect(second['test.mask.A']).not.toEqual(first['test.mask.A']);
    expect(second['test.mask.A_aug']).not.toEqual(first['test.mask.A_aug']);
    // Held fixed without a redraw (finite-difference checks rely on it).
    await t.computeGradients(BATCH, { redraw: false });
    expect(t.stochasticTensors()).toEqual(second);
    // The same seed gives the same masks, step by step.
    const again = await make();
    await again.trainBatch(BATCH);
    expect(again.stochasticTensors()).toEqual(first);
    await again.trainBatch(BATCH);
    expect(again.stochasticTensors()).toEqual(second);
    const other = await createModelTrainable({
      model: masked(0.5),
      data: { ...DATA, aug: AUG },
      seed: 5,
      methods: [encodesBoth],
    });
    await other.trainBatch(BATCH);
    expect(other.stochasticTensors()['test.mask.A']).not.toEqual(first['test.mask.A']);
    for (const x of [t, again, other]) await x.release();
  });

  it('keeps ≈ keepRate of the entries, u→i and i→u independently', async () => {
    const train = randomMatrix(300, 40, 8, new Rng(11));
    const t = await createModelTrainable({
      model: masked(0.8, 2, 1),
      data: { numUsers: 300, numItems: 40, train },
      seed: 6,
    });
    const { src, dst } = normalizedBipartiteAdjacency(train);
    const twin = new Int32Array(src.length);
    const at = new Map<string, number>();
    for (let k = 0; k < src.length; k++) at.set(`${src[k]},${dst[k]}`, k);
    for (let k = 0; k < src.length; k++) twin[k] = at.get(`${dst[k]},${src[k]}`) as number;
    const batch: TripleBatch = {
      users: Int32Array.from([0, 1, 2]),
      pos: Int32Array.from([0, 1, 2].map((u) => train.indices[train.indptr[u]])),
      neg: Int32Array.from([0, 1, 2].map((u) => (train.indices[train.indptr[u]] + 1) % 40)),
    };
    let entries = 0;
    let kept = 0;
    let pairs = 0;
    let bothKept = 0;
    for (let step = 0; step < 20; step++) {
      await t.trainBatch(batch);
      const m = t.stochasticTensors()['test.mask.A'];
      for (let k = 0; k < m.length; k++) {
        entries++;
        kept += m[k];
        if (k < twin[k]) {
          pairs++;
          bothKept += m[k] * m[twin[k]];
        }
      }
    }
    expect(entries).toBe(20 * 2 * 300 * 8);
    expect(Math.abs(kept / entries - 0.8)).toBeLessThan(0.01);
    // Independent twins: both survive with probability 0.64 (not 0.8, as one draw per pair would give).
    expect(Math.abs(bothKept / pairs - 0.64)).toBeLessThan(0.015);
    await t.release();
  });

  it('trains over Â ⊙ M without rescaling; inference encodes over the full graph', async () => {
    const t = await createModelTrainable({ model: masked(0.6), data: DATA, seed: 5, l2: 0 });
    const s = t.getState();
    const e = [...rows(s.user_emb.data, 3), ...rows(s.item_emb.data, 3)];
    const { losses } = await t.computeGradients(BATCH);
    const mask = t.stochasticTensors()['test.mask.A'];
    expect(mask.includes(0)).toBe(true);
    const want = bprF64(maskedPropagateF64(TRAIN, e, 2, mask), 5, BATCH);
    expect(losses.bpr).toBeCloseTo(want, 6);
    // Not the full graph, not the rescaled mask.
    const full = bprF64(propagateF64(TRAIN, e, 2), 5, BATCH);
    const rescaled = bprF64(
      maskedPropagateF64(
        TRAIN,
        e,
        2,
        mask.map((v) => v / 0.6),
      ),
      5,
      BATCH,
    );
    expect(Math.abs(losses.bpr - full)).toBeGreaterThan(1e-4);
    expect(Math.abs(losses.bpr - rescaled)).toBeGreaterThan(1e-4);
    // Evaluation: the full graph, bit for bit what the same parameters give without a mask.
    const plain = await createModelTrainable({ model: propagation(3, 2), data: DATA, seed: 5 });
    plain.setState(t.getState());
    const a = await t.embed();
    const b = await plain.embed();
    expect(Array.from(a.users.data)).toEqual(Array.from(b.users.data));
    expect(Array.from(a.items.data)).toEqual(Array.from(b.items.data));
    await t.release();
    await plain.release();
  });

  it('refuses a keep rate outside (0, 1] and masks over a stochastic graph view', async () => {
    const code = async (p: Promise<unknown>) => {
      try {
        await p;
      } catch (e) {
        return PromaxError.isInstance(e) ? `${e.code} ${e.field}` : String(e);
      }
      return 'no error';
    };
    expect(await code(createModelTrainable({ model: masked(0), data: DATA, seed: 1 }))).toBe(
      'INVALID_ARGUMENT test.mask.keepRate',
    );
    expect(await code(createModelTrainable({ model: masked(1.5), data: DATA, seed: 1 }))).toBe(
      'INVALID_ARGUMENT test.mask.keepRate',
    );
    const overView: RecommenderModel = {
      ...masked(0.8),
      doDeclareStochasticInputs: () => [
        { kind: 'edge-mask', name: 'test.mask', schedule: 'step', keepRate: 0.8 },
        { kind: 'graph', name: 'view', schedule: 'epoch', sample: (m) => m },
      ],
      doEncode: (o) => masked(0.8).doEncode({ ...o, graph: o.training ? o.stochastic.graphs.view : o.graph }),
    };
    expect(await code(createModelTrainable({ model: overView, data: DATA, seed: 1 }))).toBe(
      'INVALID_ARGUMENT test.mask',
    );
  });
});
