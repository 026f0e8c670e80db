import { type Matrix, type MethodInputs, PromaxError, Rng } from '@promax/core';
import {
  add64,
  bpr64,
  type M64,
  m64,
  mlp64,
  rows64,
  sampledFiniteDifferences,
  toFloat64,
  transpose64,
  uniformity64,
} from '@promax/loss/test';
import { createModelTrainable, type PreparedMethod } from '@promax/pipeline';
import {
  createMockRecommenderModel,
  describeRecommenderMethod,
  gaussianMatrix,
  tinyDataset,
} from '@promax/testkit';
import { describe, expect, it } from 'vitest';
import { createProex, proexMethodDefinition } from './index.js';

describeRecommenderMethod('proex', proexMethodDefinition, { settings: { hidden: 6 } });

const NU = 9;
const NI = 11;
const D = 5;
const d = 3;
const K = 4;
const E = 3;
const data = tinyDataset({ numUsers: NU, numItems: NI });
const rng = new Rng(21);
const users = [0, 1, 2, 3].map(() => gaussianMatrix(rng, NU, D));
const items = [0, 1, 2, 3].map(() => gaussianMatrix(rng, NI, D));
const inputs: MethodInputs = {
  userProfiles: users[0],
  itemProfiles: items[0],
  extraProfiles: { users: users.slice(1), items: items.slice(1) },
};
const batch = {
  users: Int32Array.of(0, 2, 2, 5, 8, 1, 0),
  pos: Int32Array.of(1, 4, 7, 7, 0, 10, 4),
  neg: Int32Array.of(3, 1, 9, 2, 6, 4, 5),
};

async function prepare(settings: Record<string, unknown>, with_: MethodInputs = inputs, seed = 3) {
  return createProex({ numEnvs: E, hidden: 4, ...settings }).doPrepare({
    dataset: { name: 'tiny', numUsers: NU, numItems: NI, train: data.train },
    model: {
      modelId: 'lightgcn',
      capabilities: { usesGraph: false, hasAuxiliaryLoss: false, hasStochasticInputs: false },
      embeddingSize: d,
      encodesViews: true,
    },
    inputs: with_,
    seed,
  });
}

/** A prepared method whose β draws are recorded (the reference needs the exact environments). */
function recording(p: PreparedMethod, betas: Float32Array[]): PreparedMethod {
  return {
    ...p,
    feedsForBatch: async (b) => {
      const f = (await p.feedsForBatch?.(b)) ?? {};
      betas.push(Float32Array.from((f['proex.beta'] as { data: Float32Array }).data));
      return f;
    },
  };
}

async function trainable(settings: Record<string, unknown> = {}) {
  const betas: Float32Array[] = [];
  const prepared = recording(await prepare(settings), betas);
  const t = await createModelTrainable({
    model: createMockRecommenderModel({ embeddingSize: d, usesGraph: false }),
    data: { numUsers: NU, numItems: NI, train: data.train },
    seed: 4,
    l2: 0,
    methods: [{ id: 'proex', prepared }],
  });
  return { t, betas };
}

const unique = (a: Int32Array) => [...new Set(a)].sort((x, y) => x - y);

/** Σ_e BPR_e + inv·Var_unbiased + ex·Σ_k[uni(P_u^k[U]) + uni(P_i^k[V])], float64 from §3.2. */
function reference(p: Record<string, Float64Array>, beta: Float32Array, inv: number, ex: number) {
  const H = p['proex.mlp.b1'].length;
  const f = (s: Matrix) =>
    mlp64(
      m64(s.rows, s.cols, s.data),
      transpose64(m64(H, D, p['proex.mlp.w1'])),
      p['proex.mlp.b1'],
      m64(H, d, p['proex.mlp.w2']),
      p['proex.mlp.b2'],
    );
  const pu = users.map(f);
  const pi = items.map(f);
  const zu = m64(NU, d, p.user_emb);
  const zi = m64(NI, d, p.item_emb);
  const mix = (ps: M64[], e: number) =>
    ps.reduce((acc, pk, k) => add64(acc, pk, beta[e * K + k]), m64(ps[0].rows, d));
  const bprs: number[] = [];
  for (let e = 0; e < E; e++) {
    const u = add64(zu, mix(pu, e));
    const i = add64(zi, mix(pi, e));
    bprs.push(bpr64(rows64(u, batch.users), rows64(i, batch.pos), rows64(i, batch.neg)));
  }
  const env = bprs.reduce((a, b) => a + b, 0);
  const m = env / E;
  const variance = bprs.reduce((a, b) => a + (b - m) ** 2, 0) / (E - 1);
  let uni = 0;
  for (let k = 0; k < K; k++)
    uni +=
      uniformity64(rows64(pu[k], unique(batch.users)), 0.2) +
      uniformity64(rows64(pi[k], unique(batch.pos)), 0.2);
  return { env, inv: inv * variance, ex: ex * uni, total: env + inv * variance + ex * uni };
}

describe('proex', () => {
  it('equals the float64 reference of §3.2 with the drawn environments, gradients included', async () => {
    const { t, betas } = await trainable({ invWeight: 10, exWeight: 0.4 });
    const { losses, grads } = await t.computeGradients(batch);
    expect(betas).toHaveLength(1);
    const names = [...grads.keys()];
    const params = toFloat64(Object.fromEntries(names.map((n) => [n, t.store.get(n)])));
    const ref = reference(params, betas[0], 10, 0.4);
    expect(losses.bpr).toBeUndefined();
    for (const term of ['env', 'inv', 'ex'] as const)
      expect(Math.abs(losses[term] - ref[term]), term).toBeLessThan(1e-5 * Math.max(1, ref[term]));
    expect(ref.inv).toBeGreaterThan(0);
    // The finite-difference re-runs reuse the step's environments (redraw: false).
    await t.computeGradients(batch, { redraw: false });
    expect(Array.from(betas[1])).toEqual(Array.from(betas[0]));
    const fd = sampledFiniteDifferences((q) => reference(q, betas[0], 10, 0.4).total, params, 6);
    for (const { name, index, fd: want } of fd) {
      const got = (grads.get(name) as Float32Array)[index];
      expect(Math.abs(got - want), `${name}[${index}]`).toBeLessThan(2e-4 + 2e-3 * Math.abs(want));
    }
    await t.computeGradients(batch);
    expect(Array.from(betas[2])).not.toEqual(Array.from(betas[0]));
    await t.release();
  });

  it('draws seeded Dirichlet(α) environments: same seed same draws, moments of Dir(0.1·1_4)', async () => {
    const draw = async (seed: number, steps: number) => {
      const p = await prepare({ numEnvs: 4 }, inputs, seed);
      const out: number[] = [];
      for (let s = 0; s < steps; s++) {
        const f = (await p.feedsForBatch?.({
          ...batch,
          uniqueUsers: Int32Array.from(unique(batch.users)),
          uniquePos: Int32Array.from(unique(batch.pos)),
        })) as Record<string, { data: Float32Array }>;
        out.push(...f['proex.beta'].data);
      }
      return out;
    };
    expect(await draw(7, 3)).toEqual(await draw(7, 3));
    expect(await draw(7, 3)).not.toEqual(await draw(8, 3));
    const xs = await draw(11, 1000);
    const n = xs.length / K;
    for (let r = 0; r < n; r++)
      expect(xs.slice(r * K, (r + 1) * K).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
    const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
    const variance = xs.reduce((a, b) => a + (b - 0.25) ** 2, 0) / xs.length;
    expect(mean).toBeCloseTo(0.25, 5);
    // Var β_k = (1/K)(1 − 1/K)/(Kα + 1) = 0.1339 for α = 0.1, K = 4.
    expect(Math.abs(variance - 0.1339) / 0.1339).toBeLessThan(0.06);
  });

  it('scores with z + (1/K) Σ_k f(S^k) over every row', async () => {
    const { t } = await trainable();
    const e = await t.embed();
    const p = toFloat64(Object.fromEntries(t.store.names().map((n) => [n, t.store.get(n)])));
    const H = p['proex.mlp.b1'].length;
    const f = (s: Matrix) =>
      mlp64(
        m64(s.rows, D, s.data),
        transpose64(m64(H, D, p['proex.mlp.w1'])),
        p['proex.mlp.b1'],
        m64(H, d, p['proex.mlp.w2']),
        p['proex.mlp.b2'],
      );
    const want = users.map(f).reduce((acc, x) => add64(acc, x, 1 / K), m64(NU, d, p.user_emb));
    for (let k = 0; k < want.data.length; k++) expect(e.users.data[k]).toBeCloseTo(want.data[k], 5);
    await t.release();
  });

  it('names missing, partial and misaligned extra profiles', async () => {
    const fails = async (with_: MethodInputs, code: string, text: RegExp) => {
      const err = await prepare({}, with_).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(PromaxError.isInstance(err) && err.code).toBe(code);
      expect(String(err)).toMatch(text);
    };
    await fails(
      {
        userProfiles: users[0],
        itemProfiles: items[0],
        lookedFor: { extraProfileEmbeddings: '/d/usr_emb_np_1.pkl' },
      },
      'MISSING_INPUT',
      /usr_emb_np_1\.pkl/,
    );
    await fails(
      { ...inputs, extraProfiles: { users: users.slice(1), items: items.slice(1, 3) } },
      'MISSING_INPUT',
      /3 extra user profile files but 2/,
    );
    await fails(
      {
        ...inputs,
        extraProfiles: { users: [users[1], gaussianMatrix(rng, NU, D + 2), users[3]], items: items.slice(1) },
      },
      'SHAPE_MISMATCH',
      /extra user profile embeddings 2 are 7 wide/,
    );
  });
});
