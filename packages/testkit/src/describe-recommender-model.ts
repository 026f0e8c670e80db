import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  assertParameterSpecs,
  assertRecommenderModelV1,
  csrHas,
  type MethodInputs,
  type ModelConstantSpec,
  type NdArray,
  type ParameterSpec,
  PromaxError,
  Rng,
  type StochasticInputSpec,
} from '@promax/core';
import type { StateDict } from '@promax/pipeline';
import type { CompileOptions } from '@promax/tensor';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { methodTestInputs } from './describe-recommender-method.js';
import { ModelHarness, storeOf, trainRecallAtK } from './harness.js';
import { decodeNpyFloat32, encodeNpyFloat32 } from './npy.js';
import { type TinyDataset, tinyDataset } from './tiny-data.js';
import type { RecommenderModel } from './types.js';

export interface OverfitOptions {
  /** Full-batch Adam steps (default 150). */
  steps?: number;
  /** Adam learning rate (default 0.02). */
  lr?: number;
  /** Cutoff of the train recall (default 5). */
  k?: number;
  /** Required mean train recall@k (default 0.9). */
  minRecall?: number;
}

export interface DescribeRecommenderModelOptions {
  /** The dataset (default `tinyDataset()`: 24 users, 20 items, 4 taste groups). */
  data?: TinyDataset;
  /** Initialisation seed (default 2025). */
  seed?: number;
  /** Engine options for the compiled programs. */
  engine?: CompileOptions;
  /** The overfitting check; false skips it (say why in your test file). */
  overfit?: OverfitOptions | false;
  /**
   * Relative tolerance of the directional-derivative check of the gradients (default 0.05);
   * false skips it (e.g. for losses with discontinuities at the probe scale).
   */
  gradientCheckTolerance?: number | false;
  /**
   * Inputs of a model that reads some (`doDeclareConstants`, e.g. AlphaRec's item profiles);
   * default `methodTestInputs(data)`: seeded 12-d Gaussian profiles for every user and item.
   */
  inputs?: MethodInputs;
}

function bitsEqual(a: Float32Array, b: Float32Array): boolean {
  if (a.length !== b.length) return false;
  const x = new Uint32Array(a.buffer, a.byteOffset, a.length);
  const y = new Uint32Array(b.buffer, b.byteOffset, b.length);
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
  return true;
}

function maxAbsDiff(a: NdArray, b: NdArray): number {
  const x = a.data as Float32Array;
  const y = b.data as Float32Array;
  let m = 0;
  for (let i = 0; i < x.length; i++) m = Math.max(m, Math.abs(x[i] - y[i]));
  return m;
}

function allFinite(a: ArrayLike<number>): boolean {
  for (let i = 0; i < a.length; i++) if (!Number.isFinite(a[i])) return false;
  return true;
}

/**
 * The shared conformance suite of RecommenderModel v1 plugins. Call it from a model package's
 * test file; a model is done when every check passes:
 *
 * ```ts
 * import { describeRecommenderModel } from '@promax/testkit';
 * import { createLightGcn } from './index.js';
 * describeRecommenderModel('lightgcn', () => createLightGcn({ embeddingSize: 8 }));
 * ```
 *
 * Every check drives the real trainer (`createModelTrainable` of @promax/pipeline). It checks the
 * declared contract (version, capabilities vs methods, parameter specs, embedding size),
 * deterministic seeded initialisation without Math.random, output shapes, graph sensitivity
 * (encodings over two graphs differ iff `usesGraph`), finite non-zero gradients for every
 * parameter that agree with a finite difference, a checkpoint round trip through .npy files and
 * that the model overfits a tiny dataset. For a model that reads inputs (`doDeclareConstants`) it
 * checks the constants and the MISSING_INPUT error; for one with `sampledNegatives` that no
 * negative is a train item of its user, and that `replacesBpr` removes the trainer's BPR.
 */
export function describeRecommenderModel(
  name: string,
  factory: () => RecommenderModel,
  options: DescribeRecommenderModelOptions = {},
): void {
  const data = options.data ?? tinyDataset();
  const seed = options.seed ?? 2025;
  const inputs = options.inputs ?? methodTestInputs(data);

  describe(`${name}: RecommenderModel v1 conformance`, () => {
    let model: RecommenderModel;
    let harness: ModelHarness;
    let specs: readonly ParameterSpec[];
    let stochastic: readonly StochasticInputSpec[];
    let constants: readonly ModelConstantSpec[];
    const dims = { numUsers: data.numUsers, numItems: data.numItems };

    beforeAll(() => {
      model = factory();
      harness = new ModelHarness(model, data.train, options.engine, inputs);
      specs = model.doDeclareParameters(dims);
      stochastic = model.doDeclareStochasticInputs?.(dims) ?? [];
      constants = model.doDeclareConstants?.({ dims, train: data.train, inputs }) ?? [];
    });
    afterAll(async () => {
      await harness?.release();
    });

    it('declares specification v1 with capabilities that match its methods', () => {
      expect(() => assertRecommenderModelV1(model)).not.toThrow();
      expect(model.specificationVersion).toBe('v1');
      expect(model.modelId).toMatch(/^[a-z0-9][a-z0-9-]*$/);
      expect(Number.isInteger(model.embeddingSize) && model.embeddingSize > 0).toBe(true);
      expect(JSON.parse(JSON.stringify(model.settings))).toEqual(model.settings);
      expect(() => assertParameterSpecs(model.modelId, specs)).not.toThrow();
      expect(specs.length).toBeGreaterThan(0);
      const roles = new Set(specs.map((s) => s.role));
      // ID tables, or constants read in their place (AlphaRec maps profile embeddings).
      expect(roles.has('user-embedding') || roles.has('item-embedding') || constants.length > 0).toBe(true);
      const names = new Set(specs.map((s) => s.name));
      for (const s of stochastic) {
        expect(names.has(s.name)).toBe(false);
        expect(['step', 'epoch']).toContain(s.schedule);
      }
      // The same dims give the same declarations.
      const again = model.doDeclareParameters(dims);
      expect(again.map((s) => [s.name, [...s.shape], s.role])).toEqual(
        specs.map((s) => [s.name, [...s.shape], s.role]),
      );
    });

    it('initialises its parameters deterministically from a seed, never with Math.random', async () => {
      const spy = vi.spyOn(Math, 'random');
      try {
        const a = await harness.trainable({ seed });
        const b = await harness.trainable({ seed });
        const c = await harness.trainable({ seed: seed + 1 });
        for (const s of specs) {
          expect(bitsEqual(a.store.get(s.name), b.store.get(s.name)), `${s.name}: same seed, same bits`).toBe(
            true,
          );
          expect(allFinite(a.store.get(s.name)), `${s.name} is finite`).toBe(true);
        }
        const differs = specs.some((s) => !bitsEqual(a.store.get(s.name), c.store.get(s.name)));
        expect(differs, 'a different seed gives different parameters').toBe(true);
        // Stochastic inputs come from the seeded stream: the same seed gives the same losses.
        const t = harness.sampleTriples(new Rng(seed));
        const la = await a.computeGradients(t);
        const lb = await b.computeGradients(t);
        expect(la.losses).toEqual(lb.losses);
        expect(spy).not.toHaveBeenCalled();
      } finally {
        spy.mockRestore();
      }
    });

    it.skipIf(!factory().doDeclareConstants)(
      'builds its constants from the inputs; a missing input is a named MISSING_INPUT error',
      () => {
        const names = new Set([...specs.map((s) => s.name), ...stochastic.map((s) => s.name)]);
        for (const c of constants) {
          expect(names.has(c.name), `${c.name} is not also a parameter`).toBe(false);
          expect(c.data.length).toBe(c.shape.reduce((a, b) => a * b, 1));
          expect(allFinite(c.data), `${c.name} is finite`).toBe(true);
        }
        // The same inputs give the same constants.
        const again = model.doDeclareConstants?.({ dims, train: data.train, inputs }) ?? [];
        expect(again.every((c, k) => bitsEqual(c.data, constants[k].data))).toBe(true);
        let error: unknown;
        try {
          model.doDeclareConstants?.({ dims, train: data.train, inputs: {} });
        } catch (e) {
          error = e;
        }
        // A model whose constants need no input may build them from the train matrix alone.
        if (error !== undefined) {
          expect(PromaxError.isInstance(error) && error.code).toBe('MISSING_INPUT');
          expect(String(error)).toMatch(new RegExp(`model ${model.modelId} needs`));
        }
      },
    );

    it('trains with BPR, or its own ranking loss over sampled negatives outside the train rows', async () => {
      const t = await harness.trainable({ seed });
      const batch = harness.sampleTriples(new Rng(seed));
      const { losses } = await t.computeGradients(batch);
      if (model.capabilities.replacesBpr) expect(losses.bpr).toBeUndefined();
      else expect(Number.isFinite(losses.bpr)).toBe(true);
      const k = model.sampledNegatives ?? 0;
      const negatives = t.lastNegatives();
      if (k === 0) {
        expect(negatives).toBeUndefined();
        return;
      }
      expect(negatives?.length).toBe(batch.users.length * k);
      const ids = negatives as Int32Array;
      for (let b = 0; b < batch.users.length; b++) {
        for (let r = 0; r < k; r++) {
          const j = ids[b * k + r];
          expect(j >= 0 && j < data.numItems).toBe(true);
          expect(csrHas(data.train, batch.users[b], j), `negative ${j} of user ${batch.users[b]}`).toBe(
            false,
          );
        }
      }
      // Drawn afresh per step from the seeded stream, reused with redraw: false.
      await t.computeGradients(batch, { redraw: false });
      expect(t.lastNegatives()).toEqual(ids);
      await t.computeGradients(batch);
      expect(t.lastNegatives()).not.toEqual(ids);
    });

    it('encodes every user and item into finite vectors of one size', async () => {
      const store = await harness.initStore(seed);
      const { a } = await harness.encode(store, data.train, data.train);
      expect(a.users.shape[0]).toBe(data.numUsers);
      expect(a.items.shape[0]).toBe(data.numItems);
      expect(a.users.shape.length).toBe(2);
      expect(a.items.shape[1]).toBe(a.users.shape[1]);
      expect(a.users.shape[1]).toBeGreaterThan(0);
      expect(allFinite(a.users.data as Float32Array)).toBe(true);
      expect(allFinite(a.items.data as Float32Array)).toBe(true);
    });

    it('encodes the graph view it is given (different graphs differ iff usesGraph)', async () => {
      const store = await harness.initStore(seed);
      const { a, b } = await harness.encode(store, data.train, data.other);
      const diff = Math.max(maxAbsDiff(a.users, b.users), maxAbsDiff(a.items, b.items));
      if (model.capabilities.usesGraph) expect(diff).toBeGreaterThan(1e-6);
      else expect(diff).toBe(0);
      // The same graph twice gives the same result (no hidden state between views).
      const same = await harness.encode(store, data.other, data.other);
      expect(maxAbsDiff(same.a.users, same.b.users)).toBe(0);
      expect(maxAbsDiff(same.a.items, same.b.items)).toBe(0);
    });

    it('gives every parameter a finite, non-zero gradient that matches a finite difference', async () => {
      const t = await harness.trainable({ seed, l2: 0 });
      const batch = harness.sampleTriples(new Rng(seed));
      const r = await t.computeGradients(batch);
      for (const [k, v] of Object.entries(r.losses))
        expect(Number.isFinite(v), `loss term ${k} is finite`).toBe(true);
      let norm2 = 0;
      const grads = new Map<string, Float32Array>();
      for (const s of specs) {
        const gr = r.grads.get(s.name);
        expect(gr, `${s.name} receives a gradient`).toBeDefined();
        const arr = (gr as Float32Array).slice();
        expect(allFinite(arr), `${s.name}: finite gradient`).toBe(true);
        expect(
          arr.some((v) => v !== 0),
          `${s.name}: non-zero gradient`,
        ).toBe(true);
        for (const v of arr) norm2 += v * v;
        grads.set(s.name, arr);
      }
      const tol = options.gradientCheckTolerance ?? 0.05;
      if (tol === false) return;
      // d/dh loss(θ + h·ĝ) at 0 equals ‖g‖ (central difference in float64 of float32 losses),
      // with the stochastic inputs of the first call held fixed.
      const norm = Math.sqrt(norm2);
      const base = new Map(specs.map((s) => [s.name, t.store.get(s.name).slice()]));
      const scale = Math.sqrt(
        specs.reduce((acc, s) => acc + (base.get(s.name) as Float32Array).reduce((a, v) => a + v * v, 0), 0),
      );
      const h = (1e-3 * Math.max(scale, 1)) / Math.sqrt(specs.length);
      const shifted = async (sign: number): Promise<number> => {
        for (const s of specs) {
          const p = base.get(s.name) as Float32Array;
          const gr = grads.get(s.name) as Float32Array;
          t.store.get(s.name).set(p.map((v, i) => v + (sign * h * gr[i]) / norm));
        }
        return (await t.computeGradients(batch, { redraw: false })).losses.loss;
      };
      const fd = ((await shifted(1)) - (await shifted(-1))) / (2 * h);
      expect(Math.abs(fd - norm) / norm, `finite difference ${fd} vs gradient norm ${norm}`).toBeLessThan(
        tol,
      );
    });

    it('round-trips its parameters through a checkpoint (getState/setState)', async () => {
      const store = await harness.initStore(seed);
      const dir = await mkdtemp(join(tmpdir(), `promax-${model.modelId}-`));
      try {
        for (const s of specs)
          await writeFile(join(dir, `${s.name}.npy`), encodeNpyFloat32(store.get(s.name), s.shape));
        const other = await harness.trainable({ seed: seed + 17 });
        const state: StateDict = {};
        for (const s of specs) {
          const file = join(dir, `${s.name}.npy`);
          const { data: loaded, shape } = decodeNpyFloat32(await readFile(file), file);
          expect(shape).toEqual([...s.shape]);
          state[s.name] = { shape: [...shape], data: loaded };
        }
        other.setState(state);
        for (const s of specs) expect(bitsEqual(other.store.get(s.name), store.get(s.name))).toBe(true);
        const x = await harness.encode(store, data.train, data.other);
        const y = await harness.encode(storeOf(other.getState()), data.train, data.other);
        expect(maxAbsDiff(x.a.users, y.a.users)).toBe(0);
        expect(maxAbsDiff(x.a.items, y.a.items)).toBe(0);
        expect(maxAbsDiff(x.b.users, y.b.users)).toBe(0);
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    });

    const overfit = options.overfit;
    it.skipIf(overfit === false)(
      'overfits a tiny dataset through the trainer (high train recall@K)',
      async () => {
        const o = overfit === false ? {} : (overfit ?? {});
        const steps = o.steps ?? 150;
        const k = o.k ?? 5;
        const t = await harness.trainable({ seed, lr: o.lr ?? 0.02, l2: 0 });
        const rng = new Rng(seed + 1);
        let first = Number.NaN;
        let last = Number.NaN;
        for (let step = 0; step < steps; step++) {
          if (step % 10 === 0) await t.onEpochStart(step / 10 + 1);
          const l = await t.trainBatch(harness.sampleTriples(rng));
          if (step === 0) first = l.loss;
          last = l.loss;
        }
        expect(Number.isFinite(last)).toBe(true);
        expect(last).toBeLessThan(first);
        const e = await t.embed();
        const recall = trainRecallAtK(
          { dtype: 'float32', shape: [e.users.rows, e.users.cols], data: e.users.data },
          { dtype: 'float32', shape: [e.items.rows, e.items.cols], data: e.items.data },
          data.train,
          k,
        );
        expect(recall, `train recall@${k} after ${steps} steps`).toBeGreaterThanOrEqual(o.minRecall ?? 0.9);
      },
    );
  });
}
