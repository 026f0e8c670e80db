import { PromaxError } from '@promax/core';
import { describeRecommenderModel, ModelHarness, propagateReference, tinyDataset } from '@promax/testkit';
import { describe, expect, it } from 'vitest';
import { createLightGcn, lightGcnDefinition } from './index.js';

describeRecommenderModel('lightgcn', () => createLightGcn({ embeddingSize: 8 }));

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

  it('defaults to the reference configuration and rejects unknown settings', () => {
    expect(lightGcnDefinition.defaults).toEqual({ embeddingSize: 32, layers: 3, layerCombination: 'sum' });
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
