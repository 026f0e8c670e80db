import { csrHas, Rng } from '@promax/core';
import { describeRecommenderModel, ModelHarness, propagateReference, tinyDataset } from '@promax/testkit';
import { describe, expect, it } from 'vitest';
import { createSgl, dropEdges, SGL_VIEWS, sglDefinition } from './index.js';

describeRecommenderModel('sgl', () => createSgl({ embeddingSize: 8 }));
// RLMRec's SGL views (Â ⊙ M per step): the gradient check holds the step's masks fixed.
describeRecommenderModel('sgl (edgeKeepRate 0.8)', () => createSgl({ embeddingSize: 8, edgeKeepRate: 0.8 }));

/** Mean over rows of −log softmax_j(cos(x_r, y_j)/τ)[r] in float64 (the in-batch InfoNCE). */
function infoNceF64(x: Float64Array[], y: Float64Array[], tau: number): number {
  const unit = (v: Float64Array) => {
    const n = Math.max(Math.hypot(...v), 1e-12); // F.normalize: a node that lost every entry stays 0
    return v.map((c) => c / n);
  };
  const xs = x.map(unit);
  const ys = y.map(unit);
  const dot = (a: Float64Array, b: Float64Array) => a.reduce((acc, c, k) => acc + c * b[k], 0);
  let total = 0;
  for (let r = 0; r < xs.length; r++) {
    const logits = ys.map((yy) => dot(xs[r], yy) / tau);
    const m = Math.max(...logits);
    total += m + Math.log(logits.reduce((acc, l) => acc + Math.exp(l - m), 0)) - logits[r];
  }
  return total / xs.length;
}

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

  it("with edgeKeepRate < 1 contrasts RLMRec's views Â ⊙ M₁, Â ⊙ M₂ (drawn every step, unscaled); BPR and inference stay on the full graph", async () => {
    const data = tinyDataset();
    const model = createSgl({ embeddingSize: 4, edgeKeepRate: 0.6, lambdaSsl: 0.5, temperature: 0.3 });
    expect(model.doDeclareStochasticInputs()).toEqual(
      SGL_VIEWS.map((name) => ({ kind: 'edge-mask', name, schedule: 'step', keepRate: 0.6 })),
    );
    const h = new ModelHarness(model, data.train);
    const t = await h.trainable({ seed: 7 });
    const batch = h.sampleTriples(new Rng(2));
    const users = t.store.get('user_emb').slice();
    const items = t.store.get('item_emb').slice();
    const nu = data.numUsers;
    /** Σ_{l=1..3} (Â ⊙ M)^l E rows, float64. */
    const encode = (edgeMask?: Float32Array): Float64Array[] => {
      const layers = propagateReference(data.train, users, items, 4, { layers: 3, edgeMask }).slice(1);
      return layers[0].map((_, v) =>
        layers.reduce((acc, e) => acc.map((x, c) => x + e[v][c]), new Float64Array(4)),
      );
    };
    const sslOver = (m1: Float32Array, m2: Float32Array): number => {
      const [a, b] = [encode(m1), encode(m2)];
      const uu = [...new Set(batch.users)].sort((x, y) => x - y);
      const ii = [...new Set(batch.pos)].sort((x, y) => x - y);
      const su = infoNceF64(
        uu.map((u) => a[u]),
        uu.map((u) => b[u]),
        0.3,
      );
      const si = infoNceF64(
        ii.map((i) => a[nu + i]),
        ii.map((i) => b[nu + i]),
        0.3,
      );
      return 0.5 * (su + si);
    };
    const first = await t.computeGradients(batch);
    const masks = t.stochasticTensors();
    const [m1, m2] = SGL_VIEWS.map((name) => masks[`${name}.A`]);
    expect(m1.length).toBe(2 * data.train.indptr[nu]);
    expect(m1).not.toEqual(m2);
    expect(first.losses.ssl).toBeCloseTo(sslOver(m1, m2), 5);
    const rescaled = sslOver(
      m1.map((v) => v / 0.6),
      m2.map((v) => v / 0.6),
    );
    expect(Math.abs(first.losses.ssl - rescaled)).toBeGreaterThan(1e-4);
    // BPR over the full graph: the keep-1 model (same seed, same tables) has the same BPR term.
    const full = new ModelHarness(
      createSgl({ embeddingSize: 4, lambdaSsl: 0.5, temperature: 0.3 }),
      data.train,
    );
    const plain = await full.trainable({ seed: 7 });
    expect(first.losses.bpr).toBeCloseTo((await plain.computeGradients(batch)).losses.bpr, 6);
    // New masks at the next step; inference over the full graph.
    await t.computeGradients(batch);
    expect(t.stochasticTensors()[`${SGL_VIEWS[0]}.A`]).not.toEqual(m1);
    const [a, b] = [await t.embed(), await plain.embed()];
    expect(Array.from(a.users.data)).toEqual(Array.from(b.users.data));
    await h.release();
    await full.release();
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
      edgeKeepRate: 1,
    });
  });

  it("carries RLMRec's per-dataset presets, each a valid settings object", () => {
    expect(sglDefinition.presets?.yelp).toEqual({ dropRate: 0.2, lambdaSsl: 0.001, temperature: 0.1 });
    for (const preset of Object.values(sglDefinition.presets ?? {}))
      expect(() => createSgl(preset)).not.toThrow();
  });
});
