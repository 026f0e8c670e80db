import { csrHas, Rng } from '@promax/core';
import { describeRecommenderModel, ModelHarness, tinyDataset } from '@promax/testkit';
import { describe, expect, it } from 'vitest';
import { createSgl, dropEdges, SGL_VIEWS, sglDefinition } from './index.js';

describeRecommenderModel('sgl', () => createSgl({ embeddingSize: 8 }));

describe('sgl', () => {
  it('drops each interaction with probability ρ, deterministically under a seed', () => {
    const data = tinyDataset({ numUsers: 200, numItems: 50, itemsPerUser: 10, groups: 5 });
    const a = dropEdges(data.train, 0.1, new Rng(3));
    const b = dropEdges(data.train, 0.1, new Rng(3));
    expect(Array.from(a.indices)).toEqual(Array.from(b.indices));
    const nnz = data.train.indptr[200];
    const kept = a.indptr[200];
    expect(kept / nnz).toBeGreaterThan(0.85);
    expect(kept / nnz).toBeLessThan(0.95);
    for (let u = 0; u < 200; u++) {
      for (let k = a.indptr[u]; k < a.indptr[u + 1]; k++)
        expect(csrHas(data.train, u, a.indices[k])).toBe(true);
    }
  });

  it('contrasts two views that differ from the full graph and from each other', async () => {
    const data = tinyDataset();
    const model = createSgl({ embeddingSize: 4, dropRate: 0.3 });
    const specs = model.doDeclareStochasticInputs();
    expect(specs.map((s) => [s.name, s.kind, s.schedule])).toEqual(
      SGL_VIEWS.map((n) => [n, 'graph', 'epoch']),
    );
    const h = new ModelHarness(model, data.train);
    const store = await h.initStore(1);
    const rng = new Rng(9);
    const [v1, v2] = specs.map((s) => (s.kind === 'graph' ? s.sample(data.train, rng) : data.train));
    const x = await h.encode(store, v1, v2);
    const full = await h.encode(store, data.train, data.train);
    const diff = (p: Float32Array, q: Float32Array) => p.some((v, i) => v !== q[i]);
    expect(diff(x.a.users.data as Float32Array, x.b.users.data as Float32Array)).toBe(true);
    expect(diff(x.a.users.data as Float32Array, full.a.users.data as Float32Array)).toBe(true);
    await h.release();
  });

  it('has the SGL paper defaults', () => {
    expect(sglDefinition.defaults).toEqual({
      embeddingSize: 32,
      layers: 3,
      layerCombination: 'sum',
      dropRate: 0.1,
      lambdaSsl: 0.1,
      temperature: 0.2,
      resample: 'epoch',
    });
  });

  it("carries RLMRec's per-dataset presets, each a valid settings object", () => {
    expect(sglDefinition.presets?.yelp).toEqual({ dropRate: 0.2, lambdaSsl: 0.001, temperature: 0.1 });
    for (const preset of Object.values(sglDefinition.presets ?? {}))
      expect(() => createSgl(preset)).not.toThrow();
  });
});
