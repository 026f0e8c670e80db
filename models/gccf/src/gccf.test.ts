import { describeRecommenderModel, ModelHarness, propagateReference, tinyDataset } from '@promax/testkit';
import { describe, expect, it } from 'vitest';
import { createGccf, gccfDefinition } from './index.js';

describeRecommenderModel('gccf', () => createGccf({ embeddingSize: 8 }));
describeRecommenderModel('gccf (layer transforms)', () =>
  createGccf({ embeddingSize: 8, layerTransform: true }),
);

describe('gccf', () => {
  it('concatenates the layers of a self-loop propagation (float64 reference)', async () => {
    const data = tinyDataset({ numUsers: 9, numItems: 7, groups: 3, itemsPerUser: 2 });
    const d = 3;
    const h = new ModelHarness(createGccf({ embeddingSize: d, layers: 2 }), data.train);
    const store = await h.initStore(5);
    const { a } = await h.encode(store, data.train, data.train);
    await h.release();
    expect(a.users.shape).toEqual([9, 3 * d]);
    const layers = propagateReference(data.train, store.get('user_emb'), store.get('item_emb'), d, {
      layers: 2,
      selfLoops: true,
    });
    const got = [...(a.users.data as Float32Array), ...(a.items.data as Float32Array)];
    let err = 0;
    for (let v = 0; v < 16; v++) {
      for (let l = 0; l <= 2; l++) {
        for (let c = 0; c < d; c++)
          err = Math.max(err, Math.abs(got[v * 3 * d + l * d + c] - layers[l][v][c]));
      }
    }
    expect(err).toBeLessThan(1e-6);
  });

  it('asks for self-loop normalisation by default', () => {
    expect(gccfDefinition.defaults).toEqual({
      embeddingSize: 32,
      layers: 2,
      selfLoops: true,
      layerTransform: false,
    });
    expect(createGccf().graphNormalization.selfLoops).toBe(true);
    expect(createGccf({ selfLoops: false }).graphNormalization.selfLoops).toBe(false);
  });
});
