import { type MethodInputs, PromaxError, Rng } from '@promax/core';
import { bpr64, type M64, m64, rows64, sampledFiniteDifferences, toFloat64 } from '@promax/loss/test';
import { createModelTrainable } from '@promax/pipeline';
import {
  createMockRecommenderModel,
  describeRecommenderMethod,
  gaussianMatrix,
  tinyDataset,
} from '@promax/testkit';
import { describe, expect, it } from 'vitest';
import { createKar, karMethodDefinition } from './index.js';

describeRecommenderMethod('kar', karMethodDefinition, { settings: { expertHidden: 6 } });
describeRecommenderMethod('kar on a model without a graph (MF)', karMethodDefinition, {
  settings: { expertHidden: 6, fusion: 'concat' },
  model: () => createMockRecommenderModel({ embeddingSize: 8, usesGraph: false }),
});

const NU = 9;
const NI = 11;
const D = 5;
const d = 3;
const S = 2;
const P = 3;
const h = 4;
const data = tinyDataset({ numUsers: NU, numItems: NI });
const rng = new Rng(8);
const userProfiles = gaussianMatrix(rng, NU, D);
const itemProfiles = gaussianMatrix(rng, NI, D);
const batch = {
  users: Int32Array.of(0, 2, 2, 5, 8, 1),
  pos: Int32Array.of(1, 4, 7, 7, 0, 10),
  neg: Int32Array.of(3, 1, 9, 2, 6, 4),
};

async function trainable(
  settings: Record<string, unknown>,
  inputs: MethodInputs = { userProfiles, itemProfiles },
) {
  const model = createMockRecommenderModel({ embeddingSize: d, usesGraph: false });
  const prepared = await createKar({
    sharedExperts: S,
    specificExperts: P,
    expertHidden: h,
    ...settings,
  }).doPrepare({
    dataset: { name: 'tiny', numUsers: NU, numItems: NI, train: data.train },
    model: { modelId: 'mf', capabilities: model.capabilities, embeddingSize: d, encodesViews: true },
    inputs,
    seed: 3,
  });
  const t = await createModelTrainable({
    model,
    data: { numUsers: NU, numItems: NI, train: data.train },
    seed: 4,
    l2: 0,
    methods: [{ id: 'kar', prepared }],
  });
  return { t, prepared };
}

/** HEA of KAR's layers.py for one tower, float64, from the spec (§4.1). */
function hea64(x: M64, p: Record<string, Float64Array>, tower: 'user' | 'item'): M64 {
  const out = m64(x.rows, d);
  const relu = (v: number) => Math.max(v, 0);
  for (let r = 0; r < x.rows; r++) {
    const logits: number[] = [];
    for (let e = 0; e < S + P; e++) {
      let v = p[`kar.${tower}.gate.b`][e];
      for (let k = 0; k < D; k++) v += x.data[r * D + k] * p[`kar.${tower}.gate.w`][e * D + k];
      logits.push(v);
    }
    const mx = Math.max(...logits);
    const ex = logits.map((v) => Math.exp(v - mx));
    const sum = ex.reduce((a, b) => a + b, 0);
    for (let e = 0; e < S + P; e++) {
      const [name, j] = e < S ? ['shared', e] : [tower, e - S];
      const hid: number[] = [];
      for (let c = 0; c < h; c++) {
        let v = p[`kar.${name}.b1`][j * h + c];
        for (let k = 0; k < D; k++) v += x.data[r * D + k] * p[`kar.${name}.w1`][(j * h + c) * D + k];
        hid.push(relu(v));
      }
      for (let o = 0; o < d; o++) {
        let v = p[`kar.${name}.b2`][j * d + o];
        for (let c = 0; c < h; c++) v += hid[c] * p[`kar.${name}.w2`][(j * h + c) * d + o];
        out.data[r * d + o] += (ex[e] / sum) * relu(v);
      }
    }
  }
  return out;
}

function fused64(p: Record<string, Float64Array>) {
  const au = hea64(m64(NU, D, userProfiles.data), p, 'user');
  const ai = hea64(m64(NI, D, itemProfiles.data), p, 'item');
  const users = m64(
    NU,
    d,
    p.user_emb.map((v, k) => v + au.data[k]),
  );
  const items = m64(
    NI,
    d,
    p.item_emb.map((v, k) => v + ai.data[k]),
  );
  return { users, items };
}

function reference(p: Record<string, Float64Array>): number {
  const { users, items } = fused64(p);
  return bpr64(rows64(users, batch.users), rows64(items, batch.pos), rows64(items, batch.neg));
}

describe('kar (adapted)', () => {
  it('trains BPR over z + HEA(profile) exactly as the float64 reference, gradients included', async () => {
    const { t, prepared } = await trainable({});
    expect(prepared.replacesBpr).toBe(true);
    const { losses, grads } = await t.computeGradients(batch);
    expect(losses.bpr).toBeUndefined();
    const names = [...grads.keys()];
    const params = toFloat64(Object.fromEntries(names.map((n) => [n, t.store.get(n)])));
    const ref = reference(params);
    expect(Math.abs(losses.kar - ref) / ref).toBeLessThan(1e-5);
    const fd = sampledFiniteDifferences(reference, params, 5);
    let nonZero = 0;
    for (const { name, index, fd: want } of fd) {
      const got = (grads.get(name) as Float32Array)[index];
      if (want !== 0) nonZero++;
      expect(Math.abs(got - want), `${name}[${index}]`).toBeLessThan(1e-4 + 1e-3 * Math.abs(want));
    }
    expect(nonZero).toBeGreaterThan(fd.length / 2);
    await t.release();
  });

  it('scores with the adaptor: embed() returns z + HEA(profile) over every row', async () => {
    const { t } = await trainable({});
    const e = await t.embed();
    const params = toFloat64(Object.fromEntries([...t.store.names()].map((n) => [n, t.store.get(n)])));
    const want = fused64(params);
    for (const [got, ref] of [
      [e.users, want.users],
      [e.items, want.items],
    ] as const) {
      expect([got.rows, got.cols]).toEqual([ref.rows, ref.cols]);
      for (let k = 0; k < ref.data.length; k++) expect(got.data[k]).toBeCloseTo(ref.data[k], 5);
    }
    await t.release();
  });

  it('is labelled as our adaptation and rejects bad profiles by name', async () => {
    expect(karMethodDefinition.adaptation).toMatch(/our adaptation/);
    expect(karMethodDefinition.description).toMatch(/adapted/);
    const bad = gaussianMatrix(rng, NU, D);
    bad.data[D * 4] = Number.POSITIVE_INFINITY;
    const err = await trainable({}, { userProfiles: bad, itemProfiles }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(PromaxError.isInstance(err) && err.code).toBe('INVALID_DATA');
    expect(String(err)).toMatch(/user profile embeddings row 4/);
  });
});
