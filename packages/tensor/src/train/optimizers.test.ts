import { describe, expect, it } from 'vitest';
import { Adam, Sgd } from './optimizers.js';
import { ParameterStore } from './parameter-store.js';

/** torch.optim.Adam's update written out in float64 (non-amsgrad). */
function adamReference(
  p0: number[],
  grads: number[][],
  o: { lr: number; b1: number; b2: number; eps: number; wd: number; decoupled: boolean },
): number[] {
  const p = [...p0];
  const m = p.map(() => 0);
  const v = p.map(() => 0);
  grads.forEach((g, step) => {
    const t = step + 1;
    for (let i = 0; i < p.length; i++) {
      if (o.decoupled) p[i] *= 1 - o.lr * o.wd;
      const gi = g[i] + (o.decoupled ? 0 : o.wd * p[i]);
      m[i] = o.b1 * m[i] + (1 - o.b1) * gi;
      v[i] = o.b2 * v[i] + (1 - o.b2) * gi * gi;
      const mhat = m[i] / (1 - o.b1 ** t);
      const vhat = v[i] / (1 - o.b2 ** t);
      p[i] -= (o.lr * mhat) / (Math.sqrt(vhat) + o.eps);
    }
  });
  return p;
}

const grads = [
  [0.5, -1, 2, 0],
  [0.25, -0.5, -2, 1e-3],
  [1, 1, 1, 1],
];

describe('optimisers', () => {
  for (const [label, opts] of [
    ['Adam', { lr: 0.01, b1: 0.9, b2: 0.999, eps: 1e-8, wd: 0, decoupled: false }],
    ['Adam with L2 weight decay', { lr: 0.01, b1: 0.8, b2: 0.99, eps: 1e-6, wd: 0.1, decoupled: false }],
    ['AdamW (decoupled decay)', { lr: 0.01, b1: 0.9, b2: 0.999, eps: 1e-8, wd: 0.5, decoupled: true }],
  ] as const) {
    it(`${label} follows PyTorch's update (bias-corrected)`, () => {
      const store = new ParameterStore();
      const p0 = [1, -2, 0.5, 3];
      store.set('w', [4], Float32Array.from(p0));
      const adam = new Adam({
        lr: opts.lr,
        beta1: opts.b1,
        beta2: opts.b2,
        eps: opts.eps,
        weightDecay: opts.wd,
        decoupledWeightDecay: opts.decoupled,
      });
      for (const g of grads) adam.step(store, new Map([['w', Float32Array.from(g)]]));
      const want = adamReference(p0, grads, opts);
      const got = store.get('w');
      for (let i = 0; i < 4; i++) expect(got[i]).toBeCloseTo(want[i], 6);
      expect(adam.steps('w')).toBe(3);
    });
  }

  it('Adam updates in place and leaves parameters without gradients alone', () => {
    const store = new ParameterStore();
    const w = store.set('w', [2], Float32Array.of(1, 1));
    const frozen = store.set('frozen', [2], Float32Array.of(5, 5));
    const adam = new Adam({ lr: 0.1 });
    adam.step(store, new Map([['w', Float32Array.of(1, -1)]]));
    expect(store.get('w')).toBe(w);
    // First Adam step moves each coordinate by lr·sign(g) (up to ε).
    expect(w[0]).toBeCloseTo(0.9, 6);
    expect(w[1]).toBeCloseTo(1.1, 6);
    expect(Array.from(frozen)).toEqual([5, 5]);
    expect(adam.steps('frozen')).toBe(0);
  });

  it('SGD with momentum and L2 decay (torch.optim.SGD semantics)', () => {
    const store = new ParameterStore();
    store.set('w', [1], Float32Array.of(1));
    const sgd = new Sgd({ lr: 0.1, momentum: 0.9, weightDecay: 0.01 });
    let p = 1;
    let b = 0;
    for (const [k, g] of [0.5, -0.25, 1].entries()) {
      sgd.step(store, new Map([['w', Float32Array.of(g)]]));
      const gi = g + 0.01 * p;
      b = k === 0 ? gi : 0.9 * b + gi;
      p -= 0.1 * b;
    }
    expect(store.get('w')[0]).toBeCloseTo(p, 6);
  });

  it('rejects gradients of the wrong size', () => {
    const store = new ParameterStore();
    store.set('w', [3]);
    expect(() => new Adam().step(store, new Map([['w', new Float32Array(2)]]))).toThrow(
      /gradient of 'w' has 2 values/,
    );
  });
});

describe('lazy row updates', () => {
  it('skips rows without gradient and updates the others like dense Adam', () => {
    const dense = new ParameterStore();
    const lazy = new ParameterStore();
    const init = Float32Array.from({ length: 12 }, (_, i) => i / 10);
    dense.set('e', [4, 3], init.slice());
    lazy.set('e', [4, 3], init.slice());
    const a = new Adam({ lr: 0.1 });
    const b = new Adam({ lr: 0.1, lazyRows: true });
    const g = new Float32Array(12);
    g.set([1, -2, 0.5], 3); // only row 1
    a.step(dense, new Map([['e', g]]));
    b.step(lazy, new Map([['e', g]]));
    expect(Array.from(lazy.get('e'))).toEqual(Array.from(dense.get('e')));
    const row1 = Array.from(lazy.get('e').subarray(3, 6));
    // Second step touches row 2 only: dense Adam still moves row 1 (momentum), lazy does not.
    const g2 = new Float32Array(12);
    g2.set([1, 1, 1], 6);
    a.step(dense, new Map([['e', g2]]));
    b.step(lazy, new Map([['e', g2]]));
    expect(Array.from(lazy.get('e').subarray(3, 6))).toEqual(row1);
    expect(dense.get('e')[3]).not.toBeCloseTo(lazy.get('e')[3], 6);
    expect(Array.from(lazy.get('e').subarray(6, 9))).toEqual(Array.from(dense.get('e').subarray(6, 9)));
    expect(Array.from(lazy.get('e').subarray(0, 3))).toEqual(Array.from(init.subarray(0, 3)));
  });
});
