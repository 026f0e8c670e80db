import { PromaxError, Rng } from '@promax/core';
import { compileTraining, GraphBuilder, ParameterStore } from '@promax/tensor';
import { describe, expect, it } from 'vitest';
import {
  finiteDifferences,
  type Mat64,
  mat64,
  relativeError,
  sdrReference,
  selectRows64,
  teacherReference,
} from '../testing/reference.js';
import { type SdrForm, sdrInputs, sdrLoss } from './sdr-loss.js';

const NU = 5;
const NI = 7;
const D = 4;
const BATCH_USERS = Int32Array.of(0, 2, 3, 4); // U_B: unique, sorted
const TAU = 0.2;

function randomMatrix(rng: Rng, rows: number, cols: number, scale = 1): Float32Array {
  return Float32Array.from({ length: rows * cols }, () => scale * (2 * rng.nextFloat() - 1));
}

function fixture(seed = 3) {
  const rng = new Rng(seed);
  const eu = randomMatrix(rng, NU, D);
  const ei = randomMatrix(rng, NI, D);
  const profiles = teacherReference(
    mat64(NU, 3, randomMatrix(rng, NU, 3)),
    mat64(NI, 3, randomMatrix(rng, NI, 3)),
    { tauP: TAU },
  );
  const teacherRows = selectRows64(profiles.p, BATCH_USERS);
  const teacher = Float32Array.from(teacherRows.data);
  const weights = Float32Array.from(BATCH_USERS, (u) => profiles.weights[u]);
  return { eu, ei, teacher, weights };
}

function build(
  form: SdrForm,
  lambda1: number,
  options: { epsilon?: number; base?: boolean; tauQ?: number } = {},
) {
  const g = new GraphBuilder();
  const eu = g.param('user_emb', [NU, D]);
  const ei = g.param('item_emb', [NI, D]);
  const inputs = sdrInputs(g, NI);
  const zUsers = g.gather(eu, inputs.users);
  const sdr = sdrLoss(g, {
    zUsers,
    zItems: ei,
    teacher: inputs.teacher,
    weights: inputs.weights,
    tauQ: options.tauQ ?? TAU,
    lambda1,
    form,
    epsilon: options.epsilon,
  });
  const base = g.mul(g.sumSquares(zUsers), 0.01);
  const loss = options.base ? g.add(base, sdr.loss) : sdr.loss;
  return { g, loss, sdr };
}

async function run(
  form: SdrForm,
  lambda1: number,
  f: ReturnType<typeof fixture>,
  options: { epsilon?: number; base?: boolean; tauQ?: number } = {},
) {
  const { g, loss, sdr } = build(form, lambda1, options);
  const store = new ParameterStore();
  store.set('user_emb', [NU, D], Float32Array.from(f.eu));
  store.set('item_emb', [NI, D], Float32Array.from(f.ei));
  const program = await compileTraining({
    graph: g,
    loss,
    outputs: { wce: sdr.weightedCrossEntropy },
    params: ['user_emb', 'item_emb'],
  });
  const result = await program.run(
    { 'sdr.users': BATCH_USERS, 'sdr.teacher': f.teacher, 'sdr.weights': f.weights },
    store,
  );
  const grads = new Map([...result.grads].map(([k, v]) => [k, Float64Array.from(v)]));
  return { loss: result.loss, wce: (result.outputs.wce.data as Float32Array)[0], grads };
}

function reference(
  f: ReturnType<typeof fixture>,
  eu: Mat64,
  ei: Mat64,
  lambda1: number,
  epsilon: number,
  tauQ = TAU,
): number {
  return sdrReference({
    zUsers: selectRows64(eu, BATCH_USERS),
    zItems: ei,
    teacher: mat64(BATCH_USERS.length, NI, f.teacher),
    weights: f.weights,
    tauQ,
    lambda1,
    epsilon,
  });
}

describe('sdrLoss', () => {
  for (const [form, epsilon] of [
    ['exact', 1e-8],
    ['logSoftmax', 0],
  ] as const) {
    it(`${form}: value equals the float64 formula of §4`, async () => {
      const f = fixture();
      const got = await run(form, 1.5, f);
      const want = reference(f, mat64(NU, D, f.eu), mat64(NI, D, f.ei), 1.5, epsilon);
      expect(Math.abs(got.loss - want)).toBeLessThan(1e-5 * Math.abs(want));
      expect(got.wce).toBeCloseTo(want / 1.5, 5);
    });

    it(`${form}: gradients through the L2 normalisation match float64 central differences`, async () => {
      for (const seed of [3, 8]) {
        const f = fixture(seed);
        const got = await run(form, 1.5, f);
        const eu = mat64(NU, D, f.eu);
        const ei = mat64(NI, D, f.ei);
        const fn = (): number => reference(f, eu, ei, 1.5, epsilon);
        const fdU = finiteDifferences(fn, eu.data);
        const fdI = finiteDifferences(fn, ei.data);
        expect(relativeError(got.grads.get('user_emb') as Float64Array, fdU)).toBeLessThan(1e-3);
        expect(relativeError(got.grads.get('item_emb') as Float64Array, fdI)).toBeLessThan(1e-3);
        // Users outside U_B get no gradient.
        const gu = got.grads.get('user_emb') as Float64Array;
        expect(Array.from(gu.subarray(1 * D, 2 * D))).toEqual([0, 0, 0, 0]);
      }
    });
  }

  it('the +1e-8 of the exact form changes value and gradient only marginally here', async () => {
    const f = fixture();
    const exact = await run('exact', 1, f);
    const plain = await run('logSoftmax', 1, f);
    expect(Math.abs(exact.loss - plain.loss)).toBeLessThan(1e-5);
    expect(
      relativeError(exact.grads.get('user_emb') as Float64Array, plain.grads.get('user_emb') as Float64Array),
    ).toBeLessThan(1e-4);
  });

  it('exact: honours the +1e-8 where q ≪ 1e-8 (τq = 0.02, row-max-shifted softmax)', async () => {
    const f = fixture(6);
    const tauQ = 0.02;
    const exact = await run('exact', 1, f, { tauQ });
    const plain = await run('logSoftmax', 1, f, { tauQ });
    const eu = mat64(NU, D, f.eu);
    const ei = mat64(NI, D, f.ei);
    const withEps = reference(f, eu, ei, 1, 1e-8, tauQ);
    const noEps = reference(f, eu, ei, 1, 0, tauQ);
    // Here ε matters: the two formulas differ a lot, and each form matches its own formula.
    expect(noEps - withEps).toBeGreaterThan(1);
    expect(Math.abs(exact.loss - withEps)).toBeLessThan(1e-4 * withEps);
    expect(Math.abs(plain.loss - noEps)).toBeLessThan(1e-4 * noEps);
    const fd = finiteDifferences(() => reference(f, eu, ei, 1, 1e-8, tauQ), eu.data);
    expect(relativeError(exact.grads.get('user_emb') as Float64Array, fd)).toBeLessThan(1e-3);
  });

  it('λ1 = 0 gives a zero loss and adds no gradient', async () => {
    const f = fixture();
    const alone = await run('exact', 0, f);
    expect(alone.loss).toBe(0);
    expect(alone.wce).toBe(0);
    for (const g of alone.grads.values()) expect(g.every((v) => v === 0)).toBe(true);
    const withBase = await run('exact', 0, f, { base: true });
    // Only the base term 0.01·Σ‖z_u‖² remains: gradient 0.02·z_u on the batch users.
    const gu = withBase.grads.get('user_emb') as Float64Array;
    for (const u of BATCH_USERS)
      for (let c = 0; c < D; c++) expect(gu[u * D + c]).toBeCloseTo(0.02 * f.eu[u * D + c], 6);
    expect(withBase.grads.get('item_emb')?.every((v) => v === 0) ?? true).toBe(true);
  });

  it('rejects mismatched shapes and bad hyper-parameters with PromaxErrors', () => {
    const g = new GraphBuilder();
    const eu = g.param('user_emb', [NU, D]);
    const ei = g.param('item_emb', [NI, D]);
    const inputs = sdrInputs(g, NI + 1);
    const zUsers = g.gather(eu, inputs.users);
    const call = (over: Partial<Parameters<typeof sdrLoss>[1]>) => () =>
      sdrLoss(g, {
        zUsers,
        zItems: ei,
        teacher: inputs.teacher,
        weights: inputs.weights,
        lambda1: 1,
        tauQ: 0.2,
        form: 'exact',
        ...over,
      });
    expect(call({})).toThrow(PromaxError);
    expect(call({})).toThrow(/axis 1 of 'teacher'/);
    const ok = sdrInputs(g, NI, { prefix: 'b.', usersDim: 'Bv' });
    expect(
      call({ teacher: ok.teacher, weights: ok.weights, zUsers: g.gather(eu, ok.users), tauQ: 0 }),
    ).toThrow(/tauQ/);
    expect(
      call({ teacher: ok.teacher, weights: ok.weights, zUsers: g.gather(eu, ok.users), lambda1: -1 }),
    ).toThrow(/lambda1/);
    expect(call({ teacher: ok.teacher, weights: inputs.weights, zUsers: g.gather(eu, ok.users) })).toThrow(
      /'weights'/,
    );
    const other = new GraphBuilder();
    expect(call({ zItems: other.param('x', [NI, D]) })).toThrow(/another graph/);
  });
});
