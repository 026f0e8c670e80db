import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type CsrMatrix,
  csrFromCoo,
  csrHas,
  type Matrix,
  type MethodInputs,
  PromaxError,
  Rng,
} from '@promax/core';
import type { Dataset } from '@promax/data';
import { createModelTrainable, loadCheckpoint, resolveExperiment, runExperiment } from '@promax/pipeline';
import { describeRecommenderModel, normalizedAdjacencyF64, tinyDataset } from '@promax/testkit';
import { afterAll, describe, expect, it } from 'vitest';
import {
  ALPHAREC_INPUT,
  type AlphaRecSettingsInput,
  alphaRecDefinition,
  alphaRecInput,
  createAlphaRec,
} from './index.js';

// The shared conformance suite, with the suite's default 12-d Gaussian profiles as item inputs.
describeRecommenderModel('alpharec', () =>
  createAlphaRec({ inputSize: 12, embeddingSize: 8, hiddenRatio: 2, negatives: 32 }),
);

const root = await mkdtemp(join(tmpdir(), 'promax-alpharec-'));
afterAll(() => rm(root, { recursive: true, force: true }));

const csr = (rows: number, cols: number, pairs: readonly (readonly [number, number])[]): CsrMatrix =>
  csrFromCoo({ rows, cols, row: pairs.map((p) => p[0]), col: pairs.map((p) => p[1]) }).matrix;

const gaussian = (rows: number, cols: number, seed: number): Matrix => {
  const rng = new Rng(seed);
  return { rows, cols, data: Float32Array.from({ length: rows * cols }, () => rng.nextNormal()) };
};

const itemInputs = (items: Matrix, file = 'itm_emb_np.pkl'): MethodInputs => ({
  itemProfiles: items,
  sources: { itemProfileEmbeddings: file },
  lookedFor: { itemProfileEmbeddings: file },
});

// ---------------------------------------------------------------------------------------------
// A float64 reference of AlphaRec written from baselines.md §5, independent of the graph code:
// x_u = mean of s_i over u's train items, x_i = s_i; E⁰ = f(x) (f = W₂·LeakyReLU(W₁x + b₁) + b₂,
// slope 0.01, or x·W for 'homo'); Z = mean_{l=0..L} Âˡ E⁰; loss = mean_b −log(e^{c_p/τ} /
// (e^{c_p/τ} + Σ_k e^{c_nk/τ})) with c = cosine.

type F64Params = Record<string, Float64Array>;

interface ReferenceSetup {
  train: CsrMatrix;
  items: Matrix;
  settings: Required<Pick<AlphaRecSettingsInput, 'mlp' | 'layers' | 'tau' | 'embeddingSize'>> & {
    hidden: number;
  };
}

function referenceEncode(setup: ReferenceSetup, p: F64Params): Float64Array[] {
  const { train, items, settings } = setup;
  const U = train.rows;
  const I = train.cols;
  const D = items.cols;
  const d = settings.embeddingSize;
  const H = settings.hidden;
  const x: Float64Array[] = [];
  for (let u = 0; u < U; u++) {
    const row = new Float64Array(D);
    const s = train.indptr[u];
    const e = train.indptr[u + 1];
    for (let q = s; q < e; q++) for (let c = 0; c < D; c++) row[c] += items.data[train.indices[q] * D + c];
    for (let c = 0; c < D; c++) row[c] /= Math.max(1, e - s);
    x.push(row);
  }
  for (let i = 0; i < I; i++) x.push(Float64Array.from(items.data.subarray(i * D, (i + 1) * D)));
  const e0 = x.map((row) => {
    const out = new Float64Array(d);
    if (settings.mlp === 'homo') {
      for (let c = 0; c < d; c++) for (let k = 0; k < D; k++) out[c] += row[k] * p['mlp.w'][k * d + c];
      return out;
    }
    const h = new Float64Array(H);
    for (let j = 0; j < H; j++) {
      let v = p['mlp.b1'][j];
      for (let k = 0; k < D; k++) v += row[k] * p['mlp.w1'][j * D + k]; // w1 is [H, D]
      h[j] = v > 0 ? v : 0.01 * v;
    }
    for (let c = 0; c < d; c++) {
      let v = p['mlp.b2'][c];
      for (let j = 0; j < H; j++) v += h[j] * p['mlp.w2'][j * d + c];
      out[c] = v;
    }
    return out;
  });
  const a = normalizedAdjacencyF64(train);
  const n = U + I;
  const layers = [e0];
  for (let l = 0; l < settings.layers; l++) {
    const prev = layers[l];
    layers.push(
      Array.from({ length: n }, (_, v) => {
        const out = new Float64Array(d);
        for (let w = 0; w < n; w++)
          if (a[v][w] !== 0) for (let c = 0; c < d; c++) out[c] += a[v][w] * prev[w][c];
        return out;
      }),
    );
  }
  return Array.from({ length: n }, (_, v) => {
    const out = new Float64Array(d);
    for (const layer of layers) for (let c = 0; c < d; c++) out[c] += layer[v][c] / layers.length;
    return out;
  });
}

const cosine = (a: Float64Array, b: Float64Array): number => {
  let ab = 0;
  let aa = 0;
  let bb = 0;
  for (let c = 0; c < a.length; c++) {
    ab += a[c] * b[c];
    aa += a[c] * a[c];
    bb += b[c] * b[c];
  }
  return ab / (Math.sqrt(aa) * Math.sqrt(bb));
};

function referenceLoss(
  setup: ReferenceSetup,
  p: F64Params,
  batch: { users: Int32Array; pos: Int32Array },
  negatives: Int32Array,
): number {
  const z = referenceEncode(setup, p);
  const U = setup.train.rows;
  const tau = setup.settings.tau;
  const B = batch.users.length;
  const K = negatives.length / B;
  let total = 0;
  for (let b = 0; b < B; b++) {
    const u = z[batch.users[b]];
    const numerator = Math.exp(cosine(u, z[U + batch.pos[b]]) / tau);
    let denominator = numerator;
    for (let k = 0; k < K; k++) denominator += Math.exp(cosine(u, z[U + negatives[b * K + k]]) / tau);
    total += -Math.log(numerator / denominator);
  }
  return total / B;
}

// 5 users × 6 items; user 4 has no train items (its input row is zero); items 3-5 carry val/test.
const TRAIN = csr(5, 6, [
  [0, 0],
  [0, 1],
  [1, 1],
  [1, 2],
  [1, 3],
  [2, 0],
  [2, 4],
  [3, 5],
]);

describe('alpharec against a float64 reference of baselines.md §5', () => {
  const items = gaussian(6, 4, 11);
  const batch = {
    users: Int32Array.from([0, 1, 2, 3, 1]),
    pos: Int32Array.from([1, 3, 4, 5, 2]),
    neg: Int32Array.from([2, 0, 1, 0, 5]),
  };

  for (const mlp of ['mlp', 'homo'] as const) {
    it(`loss, gradients (float64 finite differences) and scores agree (${mlp})`, async () => {
      const settings = { mlp, layers: 2, tau: 0.2, embeddingSize: 3 } as const;
      const model = createAlphaRec({ ...settings, inputSize: 4, hiddenRatio: 0.75, negatives: 5 });
      const setup: ReferenceSetup = { train: TRAIN, items, settings: { ...settings, hidden: 3 } };
      const t = await createModelTrainable({
        model,
        data: { numUsers: 5, numItems: 6, train: TRAIN, inputs: itemInputs(items) },
        seed: 3,
        l2: 0,
      });
      try {
        const { losses, grads } = await t.computeGradients(batch);
        expect(Object.keys(losses).sort()).toEqual(['loss', 'reg', 'ssm']);
        const negatives = t.lastNegatives() as Int32Array;
        expect(negatives).toHaveLength(5 * 5);
        const p: F64Params = {};
        for (const [name, s] of Object.entries(t.getState())) p[name] = Float64Array.from(s.data);
        const want = referenceLoss(setup, p, batch, negatives);
        expect(Math.abs(losses.ssm - want)).toBeLessThan(1e-5 * Math.max(1, Math.abs(want)));
        expect(losses.loss).toBe(losses.ssm);
        // Every gradient entry against a central difference of the float64 reference.
        for (const [name, values] of Object.entries(p)) {
          const got = grads.get(name) as Float32Array;
          let err = 0;
          let scale = 0;
          for (let k = 0; k < values.length; k++) {
            const h = 1e-6;
            const keep = values[k];
            values[k] = keep + h;
            const up = referenceLoss(setup, p, batch, negatives);
            values[k] = keep - h;
            const down = referenceLoss(setup, p, batch, negatives);
            values[k] = keep;
            const fd = (up - down) / (2 * h);
            err = Math.max(err, Math.abs(got[k] - fd));
            scale = Math.max(scale, Math.abs(fd));
          }
          expect(scale, `${name} has a gradient`).toBeGreaterThan(1e-4);
          expect(err / scale, `${name}: max |grad − fd| / max |fd|`).toBeLessThan(1e-4);
        }
        // Inference: cosine scoring = the reference vectors, L2-normalised.
        const e = await t.embed();
        const z = referenceEncode(setup, p);
        for (let v = 0; v < 11; v++) {
          // F.normalize: x / max(‖x‖, 1e-12) (user 4 has no train items: a zero row under 'homo').
          const norm = Math.max(Math.hypot(...z[v]), 1e-12);
          const got =
            v < 5 ? e.users.data.subarray(v * 3, v * 3 + 3) : e.items.data.subarray((v - 5) * 3, (v - 4) * 3);
          for (let c = 0; c < 3; c++) expect(Math.abs(got[c] - z[v][c] / norm)).toBeLessThan(1e-5);
        }
      } finally {
        await t.release();
      }
    });
  }

  it('scores by un-normalised dot products with predNorm false (the port)', async () => {
    const settings = { mlp: 'mlp', layers: 1, tau: 0.15, embeddingSize: 2 } as const;
    const model = createAlphaRec({ ...settings, inputSize: 4, hiddenRatio: 0.5, predNorm: false });
    const t = await createModelTrainable({
      model,
      data: { numUsers: 5, numItems: 6, train: TRAIN, inputs: itemInputs(items) },
      seed: 9,
    });
    try {
      const p: F64Params = {};
      for (const [name, s] of Object.entries(t.getState())) p[name] = Float64Array.from(s.data);
      const z = referenceEncode({ train: TRAIN, items, settings: { ...settings, hidden: 2 } }, p);
      const e = await t.embed();
      for (let u = 0; u < 5; u++)
        for (let c = 0; c < 2; c++) expect(Math.abs(e.users.data[u * 2 + c] - z[u][c])).toBeLessThan(1e-5);
      for (let i = 0; i < 6; i++)
        for (let c = 0; c < 2; c++)
          expect(Math.abs(e.items.data[i * 2 + c] - z[5 + i][c])).toBeLessThan(1e-5);
    } finally {
      await t.release();
    }
  });

  it('regularises the MLP only with regularize: true (the port), by the trainer λreg', async () => {
    for (const regularize of [false, true]) {
      const model = createAlphaRec({ inputSize: 4, embeddingSize: 3, regularize });
      const t = await createModelTrainable({
        model,
        data: { numUsers: 5, numItems: 6, train: TRAIN, inputs: itemInputs(items) },
        seed: 1,
        l2: 1e-3,
      });
      try {
        const { losses } = await t.computeGradients(batch);
        let sum = 0;
        for (const s of Object.values(t.getState())) for (const v of s.data) sum += v * v;
        expect(losses.reg).toBeCloseTo(regularize ? 1e-3 * sum : 0, 7);
        expect(losses.loss).toBeCloseTo(losses.ssm + losses.reg, 6);
      } finally {
        await t.release();
      }
    }
  });
});

describe('alpharec inputs', () => {
  it('user rows are the mean of the TRAIN items’ profiles; item rows the profiles', () => {
    const items = gaussian(6, 4, 5);
    const x = alphaRecInput(TRAIN, items);
    expect(x).toHaveLength((5 + 6) * 4);
    for (let u = 0; u < 5; u++) {
      const row = Array.from(TRAIN.indices.subarray(TRAIN.indptr[u], TRAIN.indptr[u + 1]));
      for (let c = 0; c < 4; c++) {
        const want = row.length ? row.reduce((s, i) => s + items.data[i * 4 + c], 0) / row.length : 0;
        expect(Math.abs(x[u * 4 + c] - want)).toBeLessThan(1e-6);
      }
    }
    expect(x.subarray(20)).toEqual(items.data);
  });

  it('the recipe builds users from the train split only, never from validation or test items', async () => {
    // Validation/test items get huge profiles: any leak into a user's mean would dominate its vector.
    const val = csr(5, 6, [
      [0, 3],
      [1, 4],
      [2, 5],
      [3, 2],
    ]);
    const test = csr(5, 6, [
      [0, 4],
      [1, 5],
      [2, 3],
      [3, 1],
    ]);
    const items = gaussian(6, 4, 21);
    const dataset: Dataset = {
      name: 'tiny-alpharec',
      numUsers: 5,
      numItems: 6,
      train: TRAIN,
      val,
      test,
      itemEmb: items,
      sourceDir: root,
      files: {},
      report: {} as Dataset['report'],
    };
    const out = join(root, 'run');
    const settings = { inputSize: 4, embeddingSize: 3, layers: 2, tau: 0.15, predNorm: false, negatives: 4 };
    const result = await runExperiment({
      dataset,
      model: { definition: alphaRecDefinition, settings },
      trainer: { maxEpochs: 2, evalEvery: 1, batchSize: 4, ks: [1, 2], selectMetric: 'recall@2' },
      threads: 1,
      out,
    });
    expect(result.results.model_id).toBe('alpharec');
    expect(result.results.model_settings).toMatchObject(settings);
    expect(result.results.model_inputs).toEqual({ itemProfileEmbeddings: 'given' });
    expect(result.results.methods).toEqual([]);
    const { state } = await loadCheckpoint(join(out, 'checkpoint'));
    const p: F64Params = {};
    for (const [name, s] of Object.entries(state)) p[name] = Float64Array.from(s.data);
    const setup = (train: CsrMatrix): ReferenceSetup => ({
      train,
      items,
      settings: { mlp: 'mlp', layers: 2, tau: 0.15, embeddingSize: 3, hidden: 2 },
    });
    const z = referenceEncode(setup(TRAIN), p);
    let err = 0;
    for (let u = 0; u < 5; u++)
      for (let c = 0; c < 3; c++)
        err = Math.max(err, Math.abs(result.embeddings.users.data[u * 3 + c] - z[u][c]));
    expect(err).toBeLessThan(1e-5);
    // Had the users been built from every split, their vectors would differ.
    const all = csr(
      5,
      6,
      [TRAIN, val, test].flatMap((m) =>
        Array.from({ length: m.rows }, (_, u) =>
          Array.from(m.indices.subarray(m.indptr[u], m.indptr[u + 1]), (i) => [u, i] as const),
        ).flat(),
      ),
    );
    const leaked = referenceEncode({ ...setup(all), train: all }, p);
    let gap = 0;
    for (let u = 0; u < 4; u++)
      for (let c = 0; c < 3; c++)
        gap = Math.max(gap, Math.abs(result.embeddings.users.data[u * 3 + c] - leaked[u][c]));
    expect(gap).toBeGreaterThan(1e-3);
  });

  it('a run without item profiles is a MISSING_INPUT error naming the files looked for', () => {
    const dataset: Dataset = {
      name: 'no-profiles',
      numUsers: 5,
      numItems: 6,
      train: TRAIN,
      test: TRAIN,
      sourceDir: '/data/amazon',
      files: {},
      report: {} as Dataset['report'],
    };
    let error: unknown;
    try {
      resolveExperiment({ dataset, model: { definition: alphaRecDefinition } });
    } catch (e) {
      error = e;
    }
    expect(PromaxError.isInstance(error) && error.code).toBe('MISSING_INPUT');
    const e = error as PromaxError;
    expect(e.message).toMatch(/^model alpharec needs item profile embeddings/);
    expect(e.file).toMatch(/\/data\/amazon\/itm_emb_np\.pkl .*itm_emb_np\.npy/);
    expect(e.fix).toMatch(/--embeddings DIR/);
    // The model itself, used without the recipe, says the same.
    expect(() =>
      createAlphaRec({ inputSize: 4 }).doDeclareConstants({
        dims: { numUsers: 5, numItems: 6 },
        train: TRAIN,
        inputs: {},
      }),
    ).toThrow(/model alpharec needs item profile embeddings/);
  });

  const failure = (items: Matrix, inputSize = 4): PromaxError => {
    try {
      createAlphaRec({ inputSize }).doDeclareConstants({
        dims: { numUsers: 5, numItems: 6 },
        train: TRAIN,
        inputs: itemInputs(items, '/d/itm_emb_np.pkl'),
      });
    } catch (e) {
      if (PromaxError.isInstance(e)) return e;
      throw e;
    }
    throw new Error('expected an error');
  };

  it('wrong row count, wrong width and non-finite rows are named errors pointing at the file', () => {
    const rows = failure(gaussian(7, 4, 1));
    expect(rows.code).toBe('SHAPE_MISMATCH');
    expect(rows.message).toMatch(/item profile embeddings have 7 rows but the dataset has 6/);
    expect(rows.file).toBe('/d/itm_emb_np.pkl');
    const width = failure(gaussian(6, 5, 1));
    expect(width.code).toBe('SHAPE_MISMATCH');
    expect(width.message).toMatch(/5-d but inputSize is 4/);
    expect(width.fix).toMatch(/modelSettings\.inputSize=5/);
    const nan = gaussian(6, 4, 1);
    nan.data[3 * 4 + 2] = Number.NaN;
    const bad = failure(nan);
    expect(bad.code).toBe('INVALID_DATA');
    expect(bad.message).toMatch(/row 3 holds a non-finite value .* column 2/);
    expect(bad.file).toBe('/d/itm_emb_np.pkl');
  });
});

describe('alpharec negatives', () => {
  it('never samples a train item of the user, over many batches, and covers every other item', async () => {
    const data = tinyDataset({ numUsers: 30, numItems: 25, groups: 3, itemsPerUser: 7, seed: 4 });
    const model = createAlphaRec({ inputSize: 12, embeddingSize: 4, negatives: 64 });
    const t = await createModelTrainable({
      model,
      data: { numUsers: 30, numItems: 25, train: data.train, inputs: itemInputs(gaussian(25, 12, 2)) },
      seed: 5,
    });
    try {
      const rng = new Rng(8);
      const seen = Array.from({ length: 30 }, () => new Set<number>());
      for (let step = 0; step < 6; step++) {
        const users = Int32Array.from({ length: 40 }, () => rng.nextInt(30));
        const pos = Int32Array.from(users, (u) => data.train.indices[data.train.indptr[u]]);
        await t.computeGradients({ users, pos, neg: pos.map((i) => (i + 1) % 25) });
        const negatives = t.lastNegatives() as Int32Array;
        users.forEach((u, b) => {
          for (let k = 0; k < 64; k++) {
            const j = negatives[b * 64 + k];
            expect(csrHas(data.train, u, j), `user ${u} got its train item ${j}`).toBe(false);
            seen[u].add(j);
          }
        });
      }
      // A sampled user sees every non-train item (uniform draws, 64+ per batch row).
      const u = seen.findIndex((s) => s.size > 0);
      expect(seen[u].size).toBe(25 - (data.train.indptr[u + 1] - data.train.indptr[u]));
    } finally {
      await t.release();
    }
  });
});

describe('alpharec settings', () => {
  it('defaults to the official model with the port’s MLP ratio: 1536 → 768 → 64, τ 0.15, 256 negatives', () => {
    expect(alphaRecDefinition.defaults).toEqual({
      embeddingSize: 64,
      inputSize: 'auto',
      mlp: 'mlp',
      hiddenRatio: 0.5,
      layers: 2,
      tau: 0.15,
      negatives: 256,
      predNorm: true,
      regularize: false,
    });
    const model = createAlphaRec();
    // 'auto': D is the width of the profiles the run reads (1536 for RLMRec's ada-002 pickles)
    const specs = model.doDeclareParameters({ numUsers: 3, numItems: 4, profileWidths: { items: 1536 } });
    expect(model.hiddenSize).toBe(768);
    expect(model.sampledNegatives).toBe(256);
    expect(model.capabilities.replacesBpr).toBe(true);
    expect(specs.map((s) => [s.name, s.shape, s.regularize])).toEqual([
      ['mlp.w1', [768, 1536], false],
      ['mlp.b1', [768], false],
      ['mlp.w2', [768, 64], false],
      ['mlp.b2', [64], false],
    ]);
    expect(
      createAlphaRec({ mlp: 'homo', inputSize: 1536 }).doDeclareParameters({ numUsers: 3, numItems: 4 }),
    ).toHaveLength(1);
    // 384-d MiniLM profiles size the MLP 384 → 192 → 64 with no setting to match
    const mini = createAlphaRec().doDeclareParameters({
      numUsers: 3,
      numItems: 4,
      profileWidths: { items: 384 },
    });
    expect(mini.map((p) => p.shape)).toEqual([[192, 384], [192], [192, 64], [64]]);
    // 'auto' with no profile width known is a named error, not a guess
    expect(() => createAlphaRec().doDeclareParameters({ numUsers: 3, numItems: 4 })).toThrow(
      /inputSize is 'auto' but the width of the item profile embeddings is not known/,
    );
    expect(ALPHAREC_INPUT).toBe('alpharec.input');
  });

  it('has presets for the RLMRec datasets and rejects unknown or impossible settings', () => {
    expect(Object.keys(alphaRecDefinition.presets ?? {}).sort()).toEqual(['amazon-book', 'steam', 'yelp']);
    for (const preset of Object.values(alphaRecDefinition.presets ?? {}))
      expect(() => createAlphaRec(preset)).not.toThrow();
    expect(() => createAlphaRec({ tau: 0 })).toThrow(/tau/);
    expect(() => createAlphaRec({ dropout: 0.1 } as never)).toThrow(/dropout/);
    expect(() => createAlphaRec({ inputSize: 3, hiddenRatio: 0.2 })).toThrow(/no hidden unit/);
  });
});
