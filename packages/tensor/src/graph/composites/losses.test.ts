import { Rng } from '@promax/core';
import { describe, expect, it } from 'vitest';
import { compileTraining } from '../../compile/program.js';
import { ParameterStore } from '../../train/parameter-store.js';
import { GraphBuilder } from '../builder.js';

/** Closed forms derived by hand, in float64, against the compiled programs. */

function randn(rng: Rng, n: number, scale = 1): Float32Array {
  return Float32Array.from({ length: n }, () => rng.nextNormal() * scale);
}

function expectClose(got: ArrayLike<number>, want: ArrayLike<number>, rel = 2e-4): void {
  expect(got.length).toBe(want.length);
  let num = 0;
  let den = 0;
  for (let i = 0; i < want.length; i++) {
    num += (got[i] - want[i]) ** 2;
    den += want[i] ** 2;
  }
  expect(Math.sqrt(num)).toBeLessThanOrEqual(rel * Math.max(Math.sqrt(den), 1e-6));
}

const sigmoid = (x: number): number => 1 / (1 + Math.exp(-x));

describe('composite losses: values and gradients against closed forms', () => {
  it('l2Normalize: x/‖x‖ with ∂ = (I − x̂x̂ᵀ)/‖x‖; a zero row maps to 0 with the clamped gradient 1/eps, not NaN', async () => {
    const g = new GraphBuilder();
    const x = g.param('x', [3, 4]);
    const w = g.input('w', 'float32', [3, 4]);
    const loss = g.reduceSum(g.mul(g.l2Normalize(x), w));
    const program = await compileTraining({ graph: g, loss });
    const rng = new Rng(5);
    const store = new ParameterStore();
    const xv = store.set('x', [3, 4], randn(rng, 12));
    xv.fill(0, 4, 8); // row 1 is zero
    const wv = randn(rng, 12);
    const r = await program.run({ w: { data: wv, dims: [3, 4] } }, store);
    const grad = r.grads.get('x') as Float32Array;
    expect(grad.every(Number.isFinite)).toBe(true);
    const want: number[] = [];
    let value = 0;
    for (const row of [0, 1, 2]) {
      const v = Array.from(xv.subarray(row * 4, row * 4 + 4));
      const ww = Array.from(wv.subarray(row * 4, row * 4 + 4));
      const n = Math.max(Math.hypot(...v), 1e-12);
      const dot = v.reduce((a, c, k) => a + (c / n) * ww[k], 0);
      value += dot;
      for (let k = 0; k < 4; k++) want.push((ww[k] - (v[k] / n) * dot) / n);
    }
    expect(r.loss).toBeCloseTo(value, 5);
    expectClose(grad.subarray(0, 4), want.slice(0, 4));
    expectClose(grad.subarray(8, 12), want.slice(8, 12));
    expectClose(grad.subarray(4, 8), want.slice(4, 8), 1e-3);
  });

  it('BPR: mean log(1 + e^(n−p)); ∂/∂p = −σ(n−p)/B, ∂/∂n = σ(n−p)/B', async () => {
    const B = 7;
    const g = new GraphBuilder();
    const loss = g.bprLoss(g.param('pos', [B]), g.param('neg', [B]));
    const program = await compileTraining({ graph: g, loss });
    const rng = new Rng(1);
    const store = new ParameterStore();
    const pos = store.set('pos', [B], randn(rng, B, 3));
    const neg = store.set('neg', [B], randn(rng, B, 3));
    const r = await program.run({}, store);
    let want = 0;
    const dp: number[] = [];
    const dn: number[] = [];
    for (let k = 0; k < B; k++) {
      const d = neg[k] - pos[k];
      want += Math.log1p(Math.exp(d)) / B;
      dp.push(-sigmoid(d) / B);
      dn.push(sigmoid(d) / B);
    }
    expect(r.loss).toBeCloseTo(want, 5);
    expectClose(r.grads.get('pos') as Float32Array, dp);
    expectClose(r.grads.get('neg') as Float32Array, dn);
  });

  it('soft-target cross-entropy: Σ_rows −Σ p log softmax(s); ∂/∂s = (Σp)·softmax(s) − p', async () => {
    const [m, n] = [4, 9];
    const g = new GraphBuilder();
    const s = g.param('s', [m, n]);
    const p = g.input('p', 'float32', [m, n]);
    const loss = g.reduceSum(g.softCrossEntropy(s, p));
    const program = await compileTraining({ graph: g, loss });
    const rng = new Rng(2);
    const store = new ParameterStore();
    const sv = store.set('s', [m, n], randn(rng, m * n, 2));
    // Unnormalised targets on purpose: the (Σp) factor must appear.
    const pv = Float32Array.from({ length: m * n }, () => rng.nextFloat());
    const r = await program.run({ p: pv }, store);
    let want = 0;
    const grad: number[] = [];
    for (let i = 0; i < m; i++) {
      const row = Array.from(sv.subarray(i * n, i * n + n));
      const mx = Math.max(...row);
      const lse = mx + Math.log(row.reduce((a, v) => a + Math.exp(v - mx), 0));
      const sp = Array.from(pv.subarray(i * n, i * n + n)).reduce((a, v) => a + v, 0);
      for (let j = 0; j < n; j++) {
        const q = Math.exp(row[j] - lse);
        want -= pv[i * n + j] * (row[j] - lse);
        grad.push(sp * q - pv[i * n + j]);
      }
    }
    expect(r.loss).toBeCloseTo(want, 4);
    expectClose(r.grads.get('s') as Float32Array, grad);
  });

  it('InfoNCE (cosine, in-batch negatives): value and gradients through the L2 normalisation', async () => {
    const [B, d, tau] = [6, 5, 0.2];
    const g = new GraphBuilder();
    const loss = g.infoNce(g.param('x', [B, d]), g.param('y', [B, d]), tau);
    const program = await compileTraining({ graph: g, loss });
    const rng = new Rng(3);
    const store = new ParameterStore();
    const x = store.set('x', [B, d], randn(rng, B * d));
    const y = store.set('y', [B, d], randn(rng, B * d));
    const r = await program.run({}, store);

    const unit = (v: Float32Array) => {
      const rows: number[][] = [];
      const norms: number[] = [];
      for (let k = 0; k < B; k++) {
        const row = Array.from(v.subarray(k * d, k * d + d));
        const nrm = Math.hypot(...row);
        norms.push(nrm);
        rows.push(row.map((a) => a / nrm));
      }
      return { rows, norms };
    };
    const xh = unit(x);
    const yh = unit(y);
    const dot = (a: number[], b: number[]) => a.reduce((s, v, i) => s + v * b[i], 0);
    // Q = softmax over rows of S = x̂ŷᵀ/τ; L = mean_k (lse_k − S_kk).
    const Q: number[][] = [];
    let want = 0;
    for (let k = 0; k < B; k++) {
      const srow = yh.rows.map((yr) => dot(xh.rows[k], yr) / tau);
      const lse = Math.log(srow.reduce((a, v) => a + Math.exp(v), 0));
      want += (lse - srow[k]) / B;
      Q.push(srow.map((v) => Math.exp(v - lse)));
    }
    // ∂L/∂x̂_k = (Σ_m Q_km ŷ_m − ŷ_k)/(Bτ); ∂L/∂ŷ_m = (Σ_k Q_km x̂_k − x̂_m)/(Bτ);
    // through x̂ = x/‖x‖: ∂L/∂x = (g − x̂ (x̂·g)) / ‖x‖.
    const back = (h: { rows: number[][]; norms: number[] }, gh: number[][]) =>
      gh.flatMap((gk, k) => {
        const c = dot(h.rows[k], gk);
        return gk.map((v, j) => (v - h.rows[k][j] * c) / h.norms[k]);
      });
    const gx = xh.rows.map((_, k) =>
      Array.from(
        { length: d },
        (_, j) => (yh.rows.reduce((a, ym, m) => a + Q[k][m] * ym[j], 0) - yh.rows[k][j]) / (B * tau),
      ),
    );
    const gy = yh.rows.map((_, m) =>
      Array.from(
        { length: d },
        (_, j) => (xh.rows.reduce((a, xk, k) => a + Q[k][m] * xk[j], 0) - xh.rows[m][j]) / (B * tau),
      ),
    );
    expect(r.loss).toBeCloseTo(want, 5);
    expectClose(r.grads.get('x') as Float32Array, back(xh, gx));
    expectClose(r.grads.get('y') as Float32Array, back(yh, gy));
  });

  it('softCrossEntropy with ε = 1e-8 equals the ε-free form up to ε-sized terms', async () => {
    const g = new GraphBuilder();
    const s = g.cosineSimilarity(g.param('a', [5, 4]), g.param('b', [8, 4]), 5);
    const p = g.softmax(g.param('t', [5, 8]));
    const exact = g.reduceSum(g.softCrossEntropy(s, p));
    const eps = g.reduceSum(g.softCrossEntropy(s, p, { epsilon: 1e-8 }));
    const program = await compileTraining({ graph: g, loss: exact, outputs: { eps } });
    const store = new ParameterStore().initialize(g, new Rng(4));
    const r = await program.run({}, store);
    expect(Math.abs((r.outputs.eps.data[0] as number) - r.loss)).toBeLessThan(1e-5 * Math.abs(r.loss));
  });
});
