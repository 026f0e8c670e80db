import { type Matrix, type MethodInputs, PromaxError, Rng } from '@promax/core';
import {
  bpr64,
  m64,
  mlp64,
  rlmrecInfoNce64,
  rows64,
  sampledFiniteDifferences,
  toFloat64,
  transpose64,
} from '@promax/loss/test';
import { createModelTrainable, resolvePluginSettings } from '@promax/pipeline';
import {
  createMockRecommenderModel,
  describeRecommenderMethod,
  gaussianMatrix,
  tinyDataset,
} from '@promax/testkit';
import { describe, expect, it } from 'vitest';
import { createRlmrecCon, rlmrecConMethodDefinition } from './index.js';

describeRecommenderMethod('rlmrec-con', rlmrecConMethodDefinition, { settings: { kdWeight: 0.5 } });

const NU = 10;
const NI = 12;
const D = 6;
const d = 4;
const data = tinyDataset({ numUsers: NU, numItems: NI });
const rng = new Rng(5);
const userProfiles = gaussianMatrix(rng, NU, D);
const itemProfiles = gaussianMatrix(rng, NI, D);
// Repeated users, repeated items, and an item that is a positive in one triple and a negative in another.
const batch = {
  users: Int32Array.of(0, 1, 1, 3, 4, 7, 9),
  pos: Int32Array.of(2, 5, 2, 6, 0, 1, 11),
  neg: Int32Array.of(3, 2, 8, 9, 10, 4, 3),
};

async function trainable(
  settings: Record<string, unknown>,
  inputs: MethodInputs = { userProfiles, itemProfiles },
) {
  const model = createMockRecommenderModel({ embeddingSize: d, usesGraph: false });
  const prepared = await createRlmrecCon(settings).doPrepare({
    dataset: { name: 'tiny', numUsers: NU, numItems: NI, train: data.train },
    model: { modelId: 'lightgcn', capabilities: model.capabilities, embeddingSize: d, encodesViews: true },
    inputs,
    seed: 3,
  });
  const t = await createModelTrainable({
    model,
    data: { numUsers: NU, numItems: NI, train: data.train },
    seed: 9,
    l2: 0,
    methods: [{ id: 'rlmrec-con', prepared }],
  });
  return { t, prepared };
}

/** BPR + (w/B)·[InfoNCE_R users vs all users + pos vs batch pos + neg vs batch neg], from the spec. */
function reference(p: Record<string, Float64Array>, w: number, tau: number): { total: number; kd: number } {
  const H = p['rlmrec-con.mlp.b1'].length;
  const f = (s: Matrix) =>
    mlp64(
      m64(s.rows, s.cols, s.data),
      transpose64(m64(H, D, p['rlmrec-con.mlp.w1'])),
      p['rlmrec-con.mlp.b1'],
      m64(H, d, p['rlmrec-con.mlp.w2']),
      p['rlmrec-con.mlp.b2'],
    );
  const zu = m64(NU, d, p.user_emb);
  const zi = m64(NI, d, p.item_emb);
  const pu = f(userProfiles);
  const pi = f(itemProfiles);
  const B = batch.users.length;
  const kd =
    (w / B) *
    (rlmrecInfoNce64(rows64(zu, batch.users), rows64(pu, batch.users), pu, tau) +
      rlmrecInfoNce64(rows64(zi, batch.pos), rows64(pi, batch.pos), rows64(pi, batch.pos), tau) +
      rlmrecInfoNce64(rows64(zi, batch.neg), rows64(pi, batch.neg), rows64(pi, batch.neg), tau));
  const bpr = bpr64(rows64(zu, batch.users), rows64(zi, batch.pos), rows64(zi, batch.neg));
  return { total: bpr + kd, kd };
}

describe('rlmrec-con', () => {
  it('its KD term equals the float64 reference of baselines.md §2.1, and so do its gradients', async () => {
    const { t, prepared } = await trainable({ kdWeight: 0.7, kdTemperature: 0.3 });
    expect(prepared.report.details?.mlp).toEqual([D, 5, d]);
    const { losses, grads } = await t.computeGradients(batch);
    const names = [...grads.keys()];
    const params = toFloat64(Object.fromEntries(names.map((n) => [n, t.store.get(n)])));
    const ref = reference(params, 0.7, 0.3);
    expect(losses.kd).toBeGreaterThan(0);
    expect(Math.abs(losses.kd - ref.kd) / ref.kd).toBeLessThan(1e-5);
    expect(Math.abs(losses.loss - ref.total) / ref.total).toBeLessThan(1e-5);
    const fd = sampledFiniteDifferences((p) => reference(p, 0.7, 0.3).total, params, 8);
    expect(fd.length).toBeGreaterThan(40);
    for (const { name, index, fd: want } of fd) {
      const got = (grads.get(name) as Float32Array)[index];
      expect(Math.abs(got - want), `${name}[${index}]`).toBeLessThan(1e-4 + 1e-3 * Math.abs(want));
    }
    // Profiles are constants: only the MLP and the ID tables get gradients.
    expect(names.sort()).toEqual(
      [
        'item_emb',
        'rlmrec-con.mlp.b1',
        'rlmrec-con.mlp.b2',
        'rlmrec-con.mlp.w1',
        'rlmrec-con.mlp.w2',
        'user_emb',
      ].sort(),
    );
    await t.release();
  });

  it("sizes f to GCCF's concatenated layers (1536 → 816 → 96 for d 32, L 2)", async () => {
    const p = await createRlmrecCon({}).doPrepare({
      dataset: { name: 'tiny', numUsers: NU, numItems: NI, train: data.train },
      model: {
        modelId: 'gccf',
        capabilities: { usesGraph: true, hasAuxiliaryLoss: false, hasStochasticInputs: false },
        embeddingSize: 32,
        outputSize: 96,
        encodesViews: true,
      },
      inputs: { userProfiles: gaussianMatrix(rng, NU, 1536), itemProfiles: gaussianMatrix(rng, NI, 1536) },
      seed: 1,
    });
    expect(p.report.details?.mlp).toEqual([1536, 816, 96]);
    expect(p.parameters?.map((s) => s.shape)).toEqual([[816, 1536], [816], [816, 96], [96]]);
  });

  it('presets follow the released *_plus.yml per dataset and base model', () => {
    const on = (dataset: string, model: string) => {
      const s = resolvePluginSettings(rlmrecConMethodDefinition, { dataset }).settings as never;
      const m = createRlmrecCon(s).settings;
      const own = m.perModel[model] ?? {};
      return [own.kdWeight ?? m.kdWeight, own.kdTemperature ?? m.kdTemperature];
    };
    expect(on('amazon-book', 'lightgcn')).toEqual([1e-2, 0.2]);
    expect(on('steam', 'lightgcn')).toEqual([1e-3, 0.1]);
    expect(on('yelp', 'gccf')).toEqual([1e-3, 0.2]);
    expect(on('amazon_book', 'sgl')).toEqual([1e-2, 0.5]);
    expect(on('steam', 'simgcl')).toEqual([1e-2, 0.2]);
  });

  it('runs on the RLMRec bases only, and names bad profile inputs', async () => {
    const why = (modelId: string) =>
      rlmrecConMethodDefinition.unsupportedReason?.({
        modelId,
        capabilities: { usesGraph: true, hasAuxiliaryLoss: false, hasStochasticInputs: false },
        embeddingSize: 32,
        encodesViews: true,
      });
    for (const m of ['lightgcn', 'gccf', 'sgl', 'simgcl']) expect(why(m)).toBeUndefined();
    expect(why('mf')).toMatch(/lightgcn, gccf, sgl, simgcl/);
    const fails = async (inputs: MethodInputs, code: string, text: RegExp) => {
      const err = await trainable({}, inputs).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(PromaxError.isInstance(err) && err.code).toBe(code);
      expect(String(err)).toMatch(text);
    };
    await fails(
      { lookedFor: { profileEmbeddings: '/d/usr_emb_np.pkl' } },
      'MISSING_INPUT',
      /usr_emb_np\.pkl/,
    );
    await fails(
      { userProfiles: gaussianMatrix(rng, NU - 1, D), itemProfiles },
      'SHAPE_MISMATCH',
      /9 rows but the dataset has 10/,
    );
    await fails({ userProfiles, itemProfiles: gaussianMatrix(rng, NI, D + 1) }, 'SHAPE_MISMATCH', /7 wide/);
    const nan = gaussianMatrix(rng, NI, D);
    nan.data[3 * D + 2] = Number.NaN;
    await fails({ userProfiles, itemProfiles: nan }, 'INVALID_DATA', /row 3/);
  });
});
