import { Rng } from '@promax/core';
import {
  describeRecommenderModel,
  ModelHarness,
  normalizedAdjacencyF64,
  storeOf,
  tinyDataset,
} from '@promax/testkit';
import { describe, expect, it } from 'vitest';
import { createSimGcl, fillUniform, simGclDefinition, simGclNoiseName } from './index.js';

describeRecommenderModel('simgcl', () => createSimGcl({ embeddingSize: 8 }));

type Rows = Float64Array[];

function infoNce(x: Rows, y: Rows, tau: number): number {
  const norm = (v: Float64Array) => {
    const n = Math.max(Math.hypot(...v), 1e-12);
    return v.map((c) => c / n);
  };
  const xs = x.map(norm);
  const ys = y.map(norm);
  let total = 0;
  for (let k = 0; k < xs.length; k++) {
    const logits = ys.map((yv) => xs[k].reduce((s, c, j) => s + c * yv[j], 0) / tau);
    const m = Math.max(...logits);
    const lse = m + Math.log(logits.reduce((s, l) => s + Math.exp(l - m), 0));
    total += lse - logits[k];
  }
  return total / xs.length;
}

describe('simgcl', () => {
  it('computes λ·(InfoNCE users + InfoNCE items) between two perturbed views (float64 reference)', async () => {
    const data = tinyDataset({ numUsers: 9, numItems: 7, groups: 3, itemsPerUser: 2 });
    const d = 4;
    const L = 2;
    const settings = { embeddingSize: d, layers: L, lambdaCl: 0.7, temperature: 0.3, eps: 0.1 };
    const h = new ModelHarness(createSimGcl(settings), data.train);
    const t = await h.trainable({ seed: 11 });
    const store = storeOf(t.getState());
    const triples = h.sampleTriples(new Rng(4));
    const r = await t.computeGradients(triples);
    const drawn = t.stochasticTensors();
    const noise = Object.fromEntries(Object.entries(drawn).map(([k, v]) => [k, { data: v }]));
    await h.release();

    const a = normalizedAdjacencyF64(data.train);
    const n = 16;
    const e0: Rows = [];
    const U = store.get('user_emb');
    const I = store.get('item_emb');
    for (let u = 0; u < 9; u++) e0.push(Float64Array.from(U.subarray(u * d, u * d + d)));
    for (let i = 0; i < 7; i++) e0.push(Float64Array.from(I.subarray(i * d, i * d + d)));
    const view = (v: number): Rows => {
      let x = e0;
      const sum: Rows = Array.from({ length: n }, () => new Float64Array(d));
      for (let l = 1; l <= L; l++) {
        const nz = noise[simGclNoiseName(v, l)].data;
        const next: Rows = Array.from({ length: n }, (_, r0) => {
          const out = new Float64Array(d);
          for (let w = 0; w < n; w++)
            if (a[r0][w] !== 0) for (let c = 0; c < d; c++) out[c] += a[r0][w] * x[w][c];
          const row = Array.from(nz.subarray(r0 * d, r0 * d + d));
          const len = Math.max(Math.hypot(...row), 1e-12);
          for (let c = 0; c < d; c++) out[c] += 0.1 * Math.sign(out[c]) * (row[c] / len);
          return out;
        });
        x = next;
        for (let r0 = 0; r0 < n; r0++) for (let c = 0; c < d; c++) sum[r0][c] += x[r0][c];
      }
      return sum;
    };
    const v1 = view(1);
    const v2 = view(2);
    const uu = [...new Set(triples.users)].sort((p, q) => p - q);
    const ui = [...new Set(triples.pos)].sort((p, q) => p - q);
    const want =
      0.7 *
      (infoNce(
        uu.map((u) => v1[u]),
        uu.map((u) => v2[u]),
        0.3,
      ) +
        infoNce(
          ui.map((i) => v1[9 + i]),
          ui.map((i) => v2[9 + i]),
          0.3,
        ));
    const got = r.losses.cl;
    expect(Math.abs(got - want)).toBeLessThan(1e-5 * Math.max(1, want));
  });

  it('draws U(0,1) noise deterministically from the Rng, every layer of both views', () => {
    const x = new Float32Array(1000);
    const y = new Float32Array(1000);
    fillUniform(x, new Rng(1));
    fillUniform(y, new Rng(1));
    expect(Array.from(x)).toEqual(Array.from(y));
    expect(x.every((v) => v >= 0 && v < 1)).toBe(true);
    const mean = x.reduce((s, v) => s + v, 0) / x.length;
    expect(Math.abs(mean - 0.5)).toBeLessThan(0.05);
    const specs = createSimGcl({ layers: 3 }).doDeclareStochasticInputs({ numUsers: 5, numItems: 4 });
    expect(specs.map((s) => s.name)).toEqual(
      [1, 2].flatMap((v) => [1, 2, 3].map((l) => simGclNoiseName(v, l))),
    );
    expect(specs.every((s) => s.kind === 'tensor' && s.schedule === 'step' && s.shape[0] === 9)).toBe(true);
  });

  it("defaults to RLMRec's Amazon-book/Yelp configuration and carries per-dataset presets", () => {
    expect(simGclDefinition.defaults).toEqual({
      embeddingSize: 32,
      layers: 3,
      layerCombination: 'sum',
      lambdaCl: 0.1,
      temperature: 0.2,
      eps: 0.9,
    });
    expect(Object.keys(simGclDefinition.presets ?? {})).toEqual(['amazon-book', 'yelp', 'steam']);
    for (const preset of Object.values(simGclDefinition.presets ?? {})) {
      expect(() => createSimGcl(preset)).not.toThrow();
    }
  });
});
