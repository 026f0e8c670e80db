import { PromaxError, Rng } from '@promax/core';
import { compileTraining, GraphBuilder, ParameterStore } from '@promax/tensor';
import { describe, expect, it } from 'vitest';
import {
  finiteDifferences,
  type Mat64,
  mat64,
  relativeError,
  s2drReference,
  selectRows64,
} from '../testing/reference.js';
import { s2drLoss } from './s2dr-loss.js';
import { uniqueIds } from './unique-ids.js';

const NU = 5;
const NI = 7;
const D = 4;
// B = 6 triples with repeated users and items.
const USERS = Int32Array.of(0, 1, 1, 3, 4, 0);
const POS = Int32Array.of(2, 5, 2, 6, 0, 1);
const UB = uniqueIds(USERS);
const IB = uniqueIds(POS);

function randomMatrix(rng: Rng, rows: number, cols: number): Float32Array {
  return Float32Array.from({ length: rows * cols }, () => 2 * rng.nextFloat() - 1);
}

/**
 * A toy model with shared parameters: z = E (original view), z′ = E·M (augmented view, M a fed
 * mixing matrix standing in for propagation over A′), so gradients from both views meet in E.
 */
function build(lambda2: number, tauS: number, infoNceEpsilon = 0) {
  const g = new GraphBuilder();
  const eu = g.param('user_emb', [NU, D]);
  const ei = g.param('item_emb', [NI, D]);
  const mu = g.input('mix_u', 'float32', [D, D]);
  const mi = g.input('mix_i', 'float32', [D, D]);
  const zu2 = g.matmul(eu, mu);
  const zi2 = g.matmul(ei, mi);
  const users = g.input('users', 'int32', ['B']);
  const pos = g.input('pos', 'int32', ['B']);
  const ub = g.input('batch_users', 'int32', ['U']);
  const ib = g.input('batch_items', 'int32', ['I']);
  const terms = s2drLoss(g, {
    zU: g.gather(eu, ub),
    zUAug: g.gather(zu2, ub),
    zI: g.gather(ei, ib),
    zIAug: g.gather(zi2, ib),
    zUBatch: g.gather(eu, users),
    zIBatch: g.gather(ei, pos),
    zUAugBatch: g.gather(zu2, users),
    zIAugBatch: g.gather(zi2, pos),
    tauS,
    lambda2,
    infoNceEpsilon,
  });
  return { g, terms };
}

function fixture(seed: number) {
  const rng = new Rng(seed);
  const eu = randomMatrix(rng, NU, D);
  const ei = randomMatrix(rng, NI, D);
  // Near-identity mixes: the augmented view is a perturbation of the original one.
  const mix = (): Float32Array =>
    Float32Array.from(
      { length: D * D },
      (_, k) => (k % (D + 1) === 0 ? 1 : 0) + 0.4 * (rng.nextFloat() - 0.5),
    );
  return { eu, ei, mu: mix(), mi: mix() };
}

function mulMix(e: Mat64, m: Float32Array): Mat64 {
  const out = mat64(e.rows, D);
  for (let r = 0; r < e.rows; r++) {
    for (let c = 0; c < D; c++) {
      let s = 0;
      for (let k = 0; k < D; k++) s += e.data[r * D + k] * m[k * D + c];
      out.data[r * D + c] = s;
    }
  }
  return out;
}

function reference(
  f: ReturnType<typeof fixture>,
  eu: Mat64,
  ei: Mat64,
  lambda2: number,
  tauS: number,
  infoNceEpsilon = 0,
) {
  const zu2 = mulMix(eu, f.mu);
  const zi2 = mulMix(ei, f.mi);
  return s2drReference({
    zU: selectRows64(eu, UB),
    zUAug: selectRows64(zu2, UB),
    zI: selectRows64(ei, IB),
    zIAug: selectRows64(zi2, IB),
    zUBatch: selectRows64(eu, USERS),
    zIBatch: selectRows64(ei, POS),
    zUAugBatch: selectRows64(zu2, USERS),
    zIAugBatch: selectRows64(zi2, POS),
    tauS,
    lambda2,
    infoNceEpsilon,
  });
}

async function run(f: ReturnType<typeof fixture>, lambda2: number, tauS: number, infoNceEpsilon = 0) {
  const { g, terms } = build(lambda2, tauS, infoNceEpsilon);
  const store = new ParameterStore();
  store.set('user_emb', [NU, D], Float32Array.from(f.eu));
  store.set('item_emb', [NI, D], Float32Array.from(f.ei));
  const program = await compileTraining({
    graph: g,
    loss: terms.loss,
    outputs: { user: terms.user, item: terms.item, cross: terms.cross },
    params: ['user_emb', 'item_emb'],
  });
  const r = await program.run(
    { users: USERS, pos: POS, batch_users: UB, batch_items: IB, mix_u: f.mu, mix_i: f.mi },
    store,
  );
  const scalar = (k: string): number => (r.outputs[k].data as Float32Array)[0];
  return {
    loss: r.loss,
    user: scalar('user'),
    item: scalar('item'),
    cross: scalar('cross'),
    grads: new Map([...r.grads].map(([k, v]) => [k, Float64Array.from(v)])),
  };
}

describe('s2drLoss', () => {
  it('uses the unique ids of a batch with repeats', () => {
    expect(Array.from(UB)).toEqual([0, 1, 3, 4]);
    expect(Array.from(IB)).toEqual([0, 1, 2, 5, 6]);
    const out = new Int32Array(10);
    const view = uniqueIds(Int32Array.of(3, 3, -1, 2), out);
    expect(Array.from(view)).toEqual([-1, 2, 3]);
    expect(view.buffer).toBe(out.buffer);
    expect(uniqueIds(new Int32Array(0)).length).toBe(0);
  });

  for (const [tauS, eps] of [
    [0.2, 0],
    [0.5, 0],
    [0.2, 1e-5],
  ] as const) {
    it(`τs = ${tauS}, ε = ${eps}: loss and components equal the float64 formulas of §4`, async () => {
      const f = fixture(5);
      const got = await run(f, 0.05, tauS, eps);
      const want = reference(f, mat64(NU, D, f.eu), mat64(NI, D, f.ei), 0.05, tauS, eps);
      expect(got.user).toBeCloseTo(want.user, 5);
      expect(got.item).toBeCloseTo(want.item, 5);
      expect(got.cross).toBeCloseTo(want.cross, 5);
      expect(Math.abs(got.loss - want.loss)).toBeLessThan(1e-5 * want.loss);
    });

    it(`τs = ${tauS}, ε = ${eps}: gradients (both views, through L2 normalisation) match float64 central differences`, async () => {
      for (const seed of [5, 9]) {
        const f = fixture(seed);
        const got = await run(f, 0.1, tauS, eps);
        const eu = mat64(NU, D, f.eu);
        const ei = mat64(NI, D, f.ei);
        const fn = (): number => reference(f, eu, ei, 0.1, tauS, eps).loss;
        expect(
          relativeError(got.grads.get('user_emb') as Float64Array, finiteDifferences(fn, eu.data)),
        ).toBeLessThan(1e-3);
        expect(
          relativeError(got.grads.get('item_emb') as Float64Array, finiteDifferences(fn, ei.data)),
        ).toBeLessThan(1e-3);
      }
    });
  }

  it('the ε option changes L_u and L_i only', async () => {
    const f = fixture(5);
    const a = await run(f, 1, 0.2, 0);
    const b = await run(f, 1, 0.2, 1e-5);
    expect(b.cross).toBe(a.cross);
    expect(b.user).toBeLessThan(a.user);
    expect(b.item).toBeLessThan(a.item);
  });

  it('λ2 = 0 gives zero loss, zero components and no gradient', async () => {
    const f = fixture(5);
    const got = await run(f, 0, 0.2);
    expect([got.loss, got.user, got.item, got.cross]).toEqual([0, 0, 0, 0]);
    for (const g of got.grads.values()) expect(g.every((v) => v === 0)).toBe(true);
  });

  it('rejects mismatched views', () => {
    const g = new GraphBuilder();
    const a = g.input('a', 'float32', ['B', D]);
    const b = g.input('b', 'float32', ['C', D]);
    const c = g.input('c', 'float32', ['B', D + 1]);
    const base = {
      zU: a,
      zUAug: a,
      zI: a,
      zIAug: a,
      zUBatch: a,
      zIBatch: a,
      zUAugBatch: a,
      zIAugBatch: a,
      lambda2: 1,
      tauS: 0.2,
      infoNceEpsilon: 0,
    };
    expect(() => s2drLoss(g, { ...base, zUAug: b })).toThrow(PromaxError);
    expect(() => s2drLoss(g, { ...base, zIAugBatch: c })).toThrow(/zIAugBatch/);
    expect(() => s2drLoss(g, { ...base, tauS: -1 })).toThrow(/tauS/);
    expect(() => s2drLoss(g, base)).not.toThrow();
  });
});
