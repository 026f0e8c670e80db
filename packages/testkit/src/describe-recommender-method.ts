import {
  csrFromCoo,
  csrToCoo,
  type Matrix,
  type MethodInputKind,
  type MethodInputs,
  type MethodModelInfo,
  PromaxError,
  Rng,
} from '@promax/core';
import {
  type AnyMethodDefinition,
  defaultSearchSpace,
  getByPath,
  type PreparedMethod,
  type RecommenderMethod,
  resolvePluginSettings,
} from '@promax/pipeline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ModelHarness } from './harness.js';
import { createMockRecommenderModel } from './mock-model.js';
import { type TinyDataset, tinyDataset } from './tiny-data.js';
import type { RecommenderModel } from './types.js';

export interface DescribeRecommenderMethodOptions {
  /** The base model the method is applied to (default: a graph mock model, 8-d). */
  model?: () => RecommenderModel;
  /** The method's settings for the gradient checks (over its defaults). */
  settings?: unknown;
  /** The dataset (default `tinyDataset()`). */
  data?: TinyDataset;
  /** Inputs for the checks (default: seeded Gaussian profiles, 3 extra variants, A′ = train + 2 items per user). */
  inputs?: MethodInputs;
  seed?: number;
  /** Relative tolerance of the directional-derivative check (default 0.05); false skips it. */
  gradientCheckTolerance?: number | false;
}

function bitsEqual(a: Float32Array, b: Float32Array): boolean {
  if (a.length !== b.length) return false;
  const x = new Uint32Array(a.buffer, a.byteOffset, a.length);
  const y = new Uint32Array(b.buffer, b.byteOffset, b.length);
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
  return true;
}

/** The default inputs of the method suite: every kind a method can ask for, seeded. */
export function methodTestInputs(data: TinyDataset, seed = 7): MethodInputs {
  const rng = new Rng(seed);
  const gauss = (rows: number, cols: number): Matrix => ({
    rows,
    cols,
    data: Float32Array.from({ length: rows * cols }, () => rng.nextNormal()),
  });
  const coo = csrToCoo(data.train);
  const row = Array.from(coo.row);
  const col = Array.from(coo.col);
  for (let u = 0; u < data.numUsers; u++) {
    for (const i of [(u * 7 + 1) % data.numItems, (u * 7 + 2) % data.numItems]) {
      row.push(u);
      col.push(i);
    }
  }
  const aug = csrFromCoo(
    { rows: data.numUsers, cols: data.numItems, row, col },
    { duplicates: 'binary' },
  ).matrix;
  return {
    userProfiles: gauss(data.numUsers, 12),
    itemProfiles: gauss(data.numItems, 12),
    extraProfiles: {
      users: [0, 1, 2].map(() => gauss(data.numUsers, 12)),
      items: [0, 1, 2].map(() => gauss(data.numItems, 12)),
    },
    aug,
    sources: {
      profileEmbeddings: 'test',
      itemProfileEmbeddings: 'test',
      extraProfileEmbeddings: 'test',
      augmentedGraph: 'test',
    },
    lookedFor: {
      profileEmbeddings: 'usr_emb_np.pkl',
      itemProfileEmbeddings: 'itm_emb_np.pkl',
      extraProfileEmbeddings: 'usr_emb_np_1.pkl',
      augmentedGraph: 'aug_trn_mat.npz',
    },
  };
}

function without(inputs: MethodInputs, kind: MethodInputKind): MethodInputs {
  if (kind === 'profileEmbeddings') return { ...inputs, userProfiles: undefined, itemProfiles: undefined };
  if (kind === 'itemProfileEmbeddings') return { ...inputs, itemProfiles: undefined };
  if (kind === 'extraProfileEmbeddings') return { ...inputs, extraProfiles: undefined };
  return { ...inputs, aug: undefined };
}

/**
 * The shared conformance suite of RecommenderMethod v1 plugins, on the real trainer. Call it from
 * a method package's test file; a method is done when every check passes:
 *
 * ```ts
 * import { describeRecommenderMethod } from '@promax/testkit';
 * import { promaxMethodDefinition } from './index.js';
 * describeRecommenderMethod('promax', promaxMethodDefinition);
 * ```
 *
 * It checks the definition (id, description, strict schema whose defaults round-trip through
 * JSON, presets that validate), missing inputs (a required one is a MISSING_INPUT error naming the
 * file looked for; an optional one is a stated skip), that its terms are finite and change the
 * gradient of the model (a directional finite difference agrees), that zero weights give the base
 * model's trajectory bit for bit, and that inference scoring changes exactly when it has `doScore`.
 */
export function describeRecommenderMethod(
  name: string,
  definition: AnyMethodDefinition,
  options: DescribeRecommenderMethodOptions = {},
): void {
  const data = options.data ?? tinyDataset();
  const seed = options.seed ?? 2025;
  const inputs = options.inputs ?? methodTestInputs(data);
  const makeModel = options.model ?? (() => createMockRecommenderModel({ embeddingSize: 8 }));

  describe(`${name}: RecommenderMethod v1 conformance`, () => {
    let harness: ModelHarness;
    let model: RecommenderModel;
    let info: MethodModelInfo;
    const prepared: PreparedMethod[] = [];

    const prepare = async (
      method: RecommenderMethod,
      with_: MethodInputs = inputs,
    ): Promise<PreparedMethod> => {
      const p = await method.doPrepare({
        dataset: { name: 'tiny', numUsers: data.numUsers, numItems: data.numItems, train: data.train },
        model: info,
        inputs: with_,
        seed,
      });
      prepared.push(p);
      return p;
    };

    beforeAll(() => {
      model = makeModel();
      harness = new ModelHarness(model, data.train);
      info = {
        modelId: model.modelId,
        capabilities: model.capabilities,
        embeddingSize: model.embeddingSize,
        encodesViews: model.capabilities.usesGraph || typeof model.doEncodeView === 'function',
      };
    });
    afterAll(async () => {
      await harness?.release();
      for (const p of prepared) await p.release();
    });

    it('has a valid definition whose settings round-trip (strict schema, documented defaults)', () => {
      expect(definition.kind).toBe('method');
      expect(definition.specificationVersion).toBe('v1');
      expect(definition.id).toMatch(/^[a-z][a-z0-9-]*$/);
      expect(definition.description.length).toBeGreaterThan(10);
      expect(definition.packageName.endsWith(`method-${definition.id}`)).toBe(true);
      const parsed = definition.settingsSchema.parse({});
      expect(parsed).toEqual(definition.defaults);
      expect(JSON.parse(JSON.stringify(parsed))).toEqual(parsed);
      expect(definition.settingsSchema.parse(JSON.parse(JSON.stringify(parsed)))).toEqual(parsed);
      const method = definition.create();
      expect(method.methodId).toBe(definition.id);
      expect(method.specificationVersion).toBe('v1');
      expect(method.settings).toEqual(definition.defaults);
      expect(() => definition.create({ notASetting: 1 })).toThrow(/notASetting/);
      try {
        definition.create({ notASetting: 1 });
      } catch (e) {
        expect(PromaxError.isInstance(e) && e.code).toBe('INVALID_CONFIG');
      }
      for (const spec of definition.inputs) {
        expect([
          'profileEmbeddings',
          'itemProfileEmbeddings',
          'extraProfileEmbeddings',
          'augmentedGraph',
        ]).toContain(spec.kind);
        expect(['required', 'optional']).toContain(spec.need);
      }
    });

    it.skipIf(!definition.tunable)(
      'declares tunable settings that are positive numbers in the defaults and every preset',
      () => {
        const resolved: [string, Record<string, unknown>][] = [
          ['defaults', definition.defaults as Record<string, unknown>],
          ...Object.keys(definition.presets ?? {}).map(
            (d) =>
              [`preset ${d}`, resolvePluginSettings(definition, { dataset: d }).settings] as [
                string,
                Record<string, unknown>,
              ],
          ),
        ];
        const tunable = definition.tunable ?? {};
        expect(Object.keys(tunable).length).toBeGreaterThan(0);
        for (const [where, settings] of resolved) {
          for (const [path, kind] of Object.entries(tunable)) {
            expect(['weight', 'scale', 'temperature', 'ratio']).toContain(kind);
            const v = getByPath(settings, path);
            expect(
              typeof v === 'number' && v > 0,
              `${path} (${kind}) is a positive number in the ${where}`,
            ).toBe(true);
            if (kind === 'ratio') expect(v, `${path} is a ratio in the ${where}`).toBeLessThan(1);
          }
          // The tuner's default space is exactly the declared settings (model-independent here).
          expect(Object.keys(defaultSearchSpace(settings, tunable).method).sort()).toEqual(
            Object.keys(tunable).sort(),
          );
        }
      },
    );

    it('applies its presets by canonical dataset name, beneath the user settings', () => {
      for (const [dataset, preset] of Object.entries(definition.presets ?? {})) {
        expect(() => definition.settingsSchema.parse(preset), `preset ${dataset} validates`).not.toThrow();
        const r = resolvePluginSettings(definition, { dataset });
        expect(r.preset).toBe(dataset);
        expect(r.settings).toEqual(definition.settingsSchema.parse(preset));
      }
      const none = resolvePluginSettings(definition, { dataset: 'no-such-dataset' });
      expect(none.preset).toBeNull();
      expect(none.settings).toEqual(definition.defaults);
    });

    it('names a missing required input and states every skipped optional one', async () => {
      const method = definition.create(options.settings);
      for (const spec of definition.inputs) {
        const partial = without(inputs, spec.kind);
        if (spec.need === 'required') {
          const err = await prepare(method, partial).then(
            () => undefined,
            (e: unknown) => e,
          );
          expect(PromaxError.isInstance(err), `${spec.kind} missing: a PromaxError`).toBe(true);
          expect((err as PromaxError).code).toBe('MISSING_INPUT');
          expect((err as PromaxError).message).toContain(inputs.lookedFor?.[spec.kind] ?? '');
        } else {
          const p = await prepare(method, partial);
          expect(p.report.notes.length, `${spec.kind} missing: the skip is stated`).toBeGreaterThan(0);
          expect(p.report.used[spec.kind]).toBeUndefined();
        }
      }
    });

    it('adds finite terms that change the model gradient (agreeing with a finite difference)', async () => {
      const p = await prepare(definition.create(options.settings));
      expect(p.report.active.length).toBeGreaterThan(0);
      const aug = p.usesAugmentedView ? inputs.aug : undefined;
      const t = await harness.trainable({ seed, aug, methods: [{ id: definition.id, prepared: p }] });
      const base = await harness.trainable({ seed });
      const batch = harness.sampleTriples(new Rng(seed));
      const withMethod = await t.computeGradients(batch);
      const alone = await base.computeGradients(batch);
      const added = Object.keys(withMethod.losses).filter((k) => !(k in alone.losses));
      expect(added.length, 'the method adds named loss terms').toBeGreaterThan(0);
      for (const k of added) expect(Number.isFinite(withMethod.losses[k]), `${k} is finite`).toBe(true);
      const modelParams = model.doDeclareParameters({ numUsers: data.numUsers, numItems: data.numItems });
      const changed = modelParams.some(
        (s) =>
          !bitsEqual(withMethod.grads.get(s.name) as Float32Array, alone.grads.get(s.name) as Float32Array),
      );
      expect(changed, 'the method changes the model gradient').toBe(true);
      let norm2 = 0;
      for (const [name, g] of withMethod.grads) {
        expect(
          g.every((v) => Number.isFinite(v)),
          `${name}: finite gradient`,
        ).toBe(true);
        for (const v of g) norm2 += v * v;
      }
      for (const s of p.parameters ?? []) {
        const g = withMethod.grads.get(s.name) as Float32Array;
        expect(
          g.some((v) => v !== 0),
          `method parameter ${s.name}: non-zero gradient`,
        ).toBe(true);
      }
      const tol = options.gradientCheckTolerance ?? 0.05;
      if (tol === false) return;
      const names = [...withMethod.grads.keys()];
      const grads = new Map(names.map((n) => [n, (withMethod.grads.get(n) as Float32Array).slice()]));
      const saved = new Map(names.map((n) => [n, t.store.get(n).slice()]));
      const norm = Math.sqrt(norm2);
      const h = 1e-3 / Math.sqrt(names.length);
      const shifted = async (sign: number) => {
        for (const n of names) {
          const p0 = saved.get(n) as Float32Array;
          const g = grads.get(n) as Float32Array;
          t.store.get(n).set(p0.map((v, i) => v + (sign * h * g[i]) / norm));
        }
        return (await t.computeGradients(batch, { redraw: false })).losses.loss;
      };
      const fd = ((await shifted(1)) - (await shifted(-1))) / (2 * h);
      expect(Math.abs(fd - norm) / norm, `finite difference ${fd} vs gradient norm ${norm}`).toBeLessThan(
        tol,
      );
    });

    it.skipIf(!definition.zeroWeightSettings)(
      'with zero weights trains the base model bit for bit',
      async () => {
        const p = await prepare(definition.create(definition.zeroWeightSettings));
        const aug = p.usesAugmentedView ? inputs.aug : undefined;
        const t = await harness.trainable({
          seed,
          aug,
          lr: 0.01,
          methods: [{ id: definition.id, prepared: p }],
        });
        const base = await harness.trainable({ seed, lr: 0.01 });
        const rng = new Rng(seed + 3);
        for (let step = 0; step < 4; step++) {
          const batch = harness.sampleTriples(rng);
          await t.trainBatch(batch);
          await base.trainBatch(batch);
        }
        for (const s of model.doDeclareParameters({ numUsers: data.numUsers, numItems: data.numItems })) {
          expect(
            bitsEqual(t.store.get(s.name), base.store.get(s.name)),
            `${s.name} follows the base trajectory`,
          ).toBe(true);
        }
      },
    );

    it('changes inference scores exactly when it has a scoring hook', async () => {
      const p = await prepare(definition.create(options.settings));
      const aug = p.usesAugmentedView ? inputs.aug : undefined;
      const t = await harness.trainable({ seed, aug, methods: [{ id: definition.id, prepared: p }] });
      const base = await harness.trainable({ seed });
      const a = await t.embed();
      const b = await base.embed();
      const same = bitsEqual(a.users.data, b.users.data) && bitsEqual(a.items.data, b.items.data);
      expect(
        same,
        p.doScore ? 'doScore changes the final vectors' : 'no doScore: the model scores alone',
      ).toBe(!p.doScore);
      for (const m of [a.users, a.items]) expect(m.data.every((v) => Number.isFinite(v))).toBe(true);
    });
  });
}
