import { type MethodInputs, PromaxError, Rng } from '@promax/core';
import {
  bpr64,
  m64,
  mlp64,
  rows64,
  sampledFiniteDifferences,
  sslCon64,
  toFloat64,
  transpose64,
} from '@promax/loss/test';
import { createModelTrainable, type PreparedMethod, resolvePluginSettings } from '@promax/pipeline';
import {
  createMockRecommenderModel,
  describeRecommenderMethod,
  gaussianMatrix,
  tinyDataset,
} from '@promax/testkit';
import { describe, expect, it } from 'vitest';
import { createRlmrecGen, rlmrecGenMethodDefinition } from './index.js';

describeRecommenderMethod('rlmrec-gen', rlmrecGenMethodDefinition, {
  settings: { maskRatio: 0.2, hidden: 6 },
});

const NU = 9;
const NI = 11;
const D = 5;
const d = 3;
const data = tinyDataset({ numUsers: NU, numItems: NI });
const rng = new Rng(33);
const userProfiles = gaussianMatrix(rng, NU, D);
const itemProfiles = gaussianMatrix(rng, NI, D);
const batch = {
  users: Int32Array.of(0, 2, 2, 5, 8, 1, 4),
  pos: Int32Array.of(1, 4, 7, 7, 0, 10, 3),
  neg: Int32Array.of(3, 1, 9, 2, 6, 4, 8),
};

interface Draw {
  masked: bigint[];
}

async function trainable(
  settings: Record<string, unknown>,
  inputs: MethodInputs = { userProfiles, itemProfiles },
) {
  const p = await createRlmrecGen({ hidden: 4, ...settings }).doPrepare({
    dataset: { name: 'tiny', numUsers: NU, numItems: NI, train: data.train },
    model: {
      modelId: 'lightgcn',
      capabilities: { usesGraph: false, hasAuxiliaryLoss: false, hasStochasticInputs: false },
      embeddingSize: d,
      encodesViews: true,
    },
    inputs,
    seed: 5,
  });
  const draws: Draw[] = [];
  const prepared: PreparedMethod = {
    ...p,
    feedsForBatch: async (b) => {
      const f = (await p.feedsForBatch?.(b)) ?? {};
      draws.push({ masked: Array.from(f['rlmrec-gen.masked'] as BigInt64Array) });
      return f;
    },
  };
  const t = await createModelTrainable({
    model: createMockRecommenderModel({ embeddingSize: d, usesGraph: false }),
    data: { numUsers: NU, numItems: NI, train: data.train },
    seed: 6,
    l2: 0,
    methods: [{ id: 'rlmrec-gen', prepared }],
  });
  return { t, draws, prepared: p };
}

/** BPR on the masked tables + w·ssl_con(dec(E′[M]), S_all[M]; τ), float64 from §2.2. */
function reference(p: Record<string, Float64Array>, masked: number[], w: number, tau: number) {
  const token = p['rlmrec-gen.mask_token'];
  const all = m64(NU + NI, d, [...p.user_emb, ...p.item_emb]);
  for (const node of masked) all.data.set(token, node * d);
  const zu = rows64(
    all,
    Array.from({ length: NU }, (_, k) => k),
  );
  const zi = rows64(
    all,
    Array.from({ length: NI }, (_, k) => NU + k),
  );
  const bpr = bpr64(rows64(zu, batch.users), rows64(zi, batch.pos), rows64(zi, batch.neg));
  const H = p['rlmrec-gen.decoder.b1'].length;
  const decoded = mlp64(
    rows64(all, masked),
    transpose64(m64(H, d, p['rlmrec-gen.decoder.w1'])),
    p['rlmrec-gen.decoder.b1'],
    m64(H, D, p['rlmrec-gen.decoder.w2']),
    p['rlmrec-gen.decoder.b2'],
  );
  const sAll = m64(NU + NI, D, [...userProfiles.data, ...itemProfiles.data]);
  const recon = w * sslCon64(decoded, rows64(sAll, masked), tau);
  return { bpr, recon, total: bpr + recon };
}

describe('rlmrec-gen', () => {
  it('masks ⌊N·ratio⌋ distinct nodes and equals the float64 reference, gradients included', async () => {
    const { t, draws, prepared } = await trainable({
      maskRatio: 0.25,
      reconWeight: 0.3,
      reconTemperature: 0.4,
    });
    expect(prepared.report.details?.masked).toBe(5);
    // The token starts at 0 and still gets a gradient through the masked rows.
    expect(Array.from(t.store.get('rlmrec-gen.mask_token'))).toEqual([0, 0, 0]);
    const { losses, grads } = await t.computeGradients(batch);
    const masked = draws[0].masked.map(Number);
    expect(new Set(masked).size).toBe(5);
    expect(masked.every((n) => n >= 0 && n < NU + NI)).toBe(true);
    const names = [...grads.keys()];
    const params = toFloat64(Object.fromEntries(names.map((n) => [n, t.store.get(n)])));
    const ref = reference(params, masked, 0.3, 0.4);
    expect(losses.bpr).toBeUndefined();
    expect(Math.abs(losses.masked_bpr - ref.bpr) / ref.bpr).toBeLessThan(1e-5);
    expect(Math.abs(losses.recon - ref.recon) / ref.recon).toBeLessThan(1e-5);
    await t.computeGradients(batch, { redraw: false });
    expect(draws[1].masked).toEqual(draws[0].masked);
    const fd = sampledFiniteDifferences((q) => reference(q, masked, 0.3, 0.4).total, params, 6);
    for (const { name, index, fd: want } of fd) {
      const got = (grads.get(name) as Float32Array)[index];
      expect(Math.abs(got - want), `${name}[${index}]`).toBeLessThan(1e-4 + 1e-3 * Math.abs(want));
    }
    // Masked ID rows get no gradient from anything (their value is the token's).
    const maskedUser = masked.find((n) => n < NU);
    if (maskedUser !== undefined) {
      const g = grads.get('user_emb') as Float32Array;
      expect(Array.from(g.subarray(maskedUser * d, (maskedUser + 1) * d), Math.abs)).toEqual([0, 0, 0]);
    }
    await t.computeGradients(batch);
    expect(draws[2].masked).not.toEqual(draws[0].masked);
    await t.release();
  });

  it('presets follow *_gene.yml per dataset and base; bad inputs are named', async () => {
    const s = resolvePluginSettings(rlmrecGenMethodDefinition, { dataset: 'yelp' }).settings as never;
    const m = createRlmrecGen(s).settings;
    expect([m.maskRatio, m.reconWeight, m.reconTemperature]).toEqual([0.05, 0.01, 0.1]);
    expect(m.perModel.simgcl).toEqual({ maskRatio: 0.01, reconWeight: 0.01, reconTemperature: 0.05 });
    expect(rlmrecGenMethodDefinition.unsupportedReason?.({ modelId: 'mf' } as never)).toMatch(/lightgcn/);
    const err = await trainable({}, { userProfiles, itemProfiles: gaussianMatrix(rng, NI + 1, D) }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(PromaxError.isInstance(err) && err.code).toBe('SHAPE_MISMATCH');
    expect(String(err)).toMatch(/item profile embeddings have 12 rows but the dataset has 11/);
  });
});
