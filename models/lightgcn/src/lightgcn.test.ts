import { PromaxError, Rng } from '@promax/core';
import {
  describeRecommenderModel,
  type HarnessTrainableOptions,
  ModelHarness,
  propagateReference,
  tinyDataset,
} from '@promax/testkit';
import { describe, expect, it } from 'vitest';
import { createLightGcn, LIGHTGCN_EDGE_MASK, lightGcnDefinition } from './index.js';

describeRecommenderModel('lightgcn', () => createLightGcn({ embeddingSize: 8 }));
// RLMRec's per-step edge dropout: the gradient check holds the step's mask fixed.
describeRecommenderModel('lightgcn (edgeKeepRate 0.8)', () =>
  createLightGcn({ embeddingSize: 8, edgeKeepRate: 0.8 }),
);

type TrainableMethod = NonNullable<HarnessTrainableOptions['methods']>[number];

const softplus = (x: number) => (x > 0 ? x + Math.log1p(Math.exp(-x)) : Math.log1p(Math.exp(x)));

describe('lightgcn', () => {
  const data = tinyDataset({ numUsers: 9, numItems: 7, groups: 3, itemsPerUser: 2 });

  for (const layerCombination of ['sum', 'mean', 'sum0'] as const) {
    it(`encodes like a float64 propagation (${layerCombination})`, async () => {
      const model = createLightGcn({ embeddingSize: 4, layers: 3, layerCombination });
      const h = new ModelHarness(model, data.train);
      const store = await h.initStore(3);
      const { a, b } = await h.encode(store, data.train, data.other);
      await h.release();
      for (const [graph, out] of [
        [data.train, a],
        [data.other, b],
      ] as const) {
        const layers = propagateReference(graph, store.get('user_emb'), store.get('item_emb'), 4, {
          layers: 3,
        });
        const used = layerCombination === 'sum' ? layers.slice(1) : layers;
        const scale = layerCombination === 'mean' ? 1 / 4 : 1;
        const got = [...(out.users.data as Float32Array), ...(out.items.data as Float32Array)];
        let err = 0;
        for (let v = 0; v < 16; v++) {
          for (let c = 0; c < 4; c++) {
            const want = used.reduce((s, e) => s + e[v][c], 0) * scale;
            err = Math.max(err, Math.abs(got[v * 4 + c] - want));
          }
        }
        expect(err).toBeLessThan(1e-6);
      }
    });
  }

  it('declares a per-step edge mask only when edgeKeepRate < 1', () => {
    expect(createLightGcn().doDeclareStochasticInputs()).toEqual([]);
    expect(createLightGcn({ edgeKeepRate: 0.8 }).doDeclareStochasticInputs()).toEqual([
      { kind: 'edge-mask', name: LIGHTGCN_EDGE_MASK, schedule: 'step', keepRate: 0.8 },
    ]);
    for (const edgeKeepRate of [0, -0.1, 1.2])
      expect(() => createLightGcn({ edgeKeepRate })).toThrow(/edgeKeepRate/);
  });

  it("trains over the step's Â ⊙ M (float64 reference, unscaled) and evaluates over the full graph", async () => {
    const model = createLightGcn({
      embeddingSize: 4,
      layers: 2,
      layerCombination: 'sum0',
      edgeKeepRate: 0.7,
    });
    const h = new ModelHarness(model, data.train);
    const t = await h.trainable({ seed: 3 });
    const batch = h.sampleTriples(new Rng(1));
    const users = t.store.get('user_emb').slice();
    const items = t.store.get('item_emb').slice();
    const bprOver = (edgeMask?: ArrayLike<number>): number => {
      const layers = propagateReference(data.train, users, items, 4, { layers: 2, edgeMask });
      const z = layers[0].map((_, v) =>
        layers.reduce((acc, e) => acc.map((x, c) => x + e[v][c]), new Float64Array(4)),
      );
      const dot = (a: Float64Array, b: Float64Array) => a.reduce((acc, x, c) => acc + x * b[c], 0);
      let bpr = 0;
      for (let k = 0; k < batch.users.length; k++) {
        const u = z[batch.users[k]];
        bpr += softplus(dot(u, z[9 + batch.neg[k]]) - dot(u, z[9 + batch.pos[k]]));
      }
      return bpr / batch.users.length;
    };
    const first = await t.computeGradients(batch);
    const m1 = t.stochasticTensors()[`${LIGHTGCN_EDGE_MASK}.A`];
    expect(m1.length).toBe(2 * data.train.indptr[9]);
    expect(first.losses.bpr).toBeCloseTo(bprOver(m1), 6);
    expect(Math.abs(first.losses.bpr - bprOver())).toBeGreaterThan(1e-5);
    expect(Math.abs(first.losses.bpr - bprOver(m1.map((v) => v / 0.7)))).toBeGreaterThan(1e-5);
    // The next step draws a new mask.
    const second = await t.computeGradients(batch);
    const m2 = t.stochasticTensors()[`${LIGHTGCN_EDGE_MASK}.A`];
    expect(m2).not.toEqual(m1);
    expect(second.losses.bpr).toBeCloseTo(bprOver(m2), 6);
    // Evaluation: the full graph, bit for bit the keep-1 model with the same parameters.
    const full = new ModelHarness(
      createLightGcn({ embeddingSize: 4, layers: 2, layerCombination: 'sum0' }),
      data.train,
    );
    const plain = await full.trainable({ seed: 3 });
    const [a, b] = [await t.embed(), await plain.embed()];
    expect(Array.from(a.users.data)).toEqual(Array.from(b.users.data));
    expect(Array.from(a.items.data)).toEqual(Array.from(b.items.data));
    await h.release();
    await full.release();
  });

  it("gives every training encoding of a view the step's mask, and A′ its own (RLMRec-Con/Gen, ProMax)", async () => {
    const model = createLightGcn({ embeddingSize: 4, layers: 2, edgeKeepRate: 0.5 });
    const h = new ModelHarness(model, data.train);
    // extra = Σ encodeWith(same tables)(A) − Σ encode(A): 0 when both see the same Â ⊙ M.
    const probe: TrainableMethod = {
      id: 'probe',
      prepared: {
        report: { used: {}, active: ['same', 'aug'], notes: [] },
        release: async () => {},
        usesAugmentedView: true,
        doLoss: (ctx) => {
          const { g } = ctx;
          const a = ctx.encode('original');
          const b = ctx.encodeWith({ user_emb: g.mul(ctx.params.user_emb, 1) });
          const aug = ctx.encode('augmented');
          return {
            same: g.sub(g.reduceSum(b.users), g.reduceSum(a.users)),
            aug: g.mul(g.reduceSum(aug.users), 1e-3),
          };
        },
      },
    };
    const t = await h.trainable({ seed: 2, aug: data.other, methods: [probe] });
    const r = await t.computeGradients(h.sampleTriples(new Rng(4)));
    expect(Math.abs(r.losses.same)).toBeLessThan(1e-5);
    const masks = t.stochasticTensors();
    expect(Object.keys(masks).sort()).toEqual([`${LIGHTGCN_EDGE_MASK}.A`, `${LIGHTGCN_EDGE_MASK}.A_aug`]);
    expect(masks[`${LIGHTGCN_EDGE_MASK}.A_aug`].length).toBe(2 * data.other.indptr[9]);
    await h.release();
  });

  it('defaults to the reference configuration and rejects unknown settings', () => {
    expect(lightGcnDefinition.defaults).toEqual({
      embeddingSize: 32,
      layers: 3,
      layerCombination: 'sum',
      edgeKeepRate: 1,
    });
    expect(createLightGcn().settings).toEqual(lightGcnDefinition.defaults);
    let error: unknown;
    try {
      createLightGcn({ layer: 2 } as never);
    } catch (e) {
      error = e;
    }
    expect(PromaxError.isInstance(error) && error.code).toBe('INVALID_CONFIG');
    expect(String(error)).toMatch(/layer/);
    // every issue is listed, with its key path
    const many = (() => {
      try {
        createLightGcn({ layers: 0, layerCombination: 'max' } as never);
      } catch (e) {
        return String(e);
      }
    })();
    expect(many).toMatch(/invalid lightgcn settings: layers: .*; layerCombination: /);
  });
});
