import { PromaxError } from '@promax/core';
import { describe, expect, it } from 'vitest';
import { PROMAX_PRESETS, promaxPresetName, promaxSettingsSchema, resolvePromaxSettings } from './settings.js';

describe('ProMax settings', () => {
  it('defaults follow method.md and the released code (τ = 0.2, no mask, no top-k, clip [0.1, 1], separate whitening, InfoNCE ε 1e-5)', () => {
    expect(promaxSettingsSchema.parse({})).toEqual({
      sdr: {
        enabled: true,
        lambda1: 0.5,
        tauP: 0.2,
        tauQ: 0.2,
        maskTrain: false,
        topK: null,
        teacher: 'dense',
        sparseK: 256,
        sparseNegatives: 256,
        weightClip: [0.1, 1],
        form: 'exact',
        memoryBudgetBytes: 2 ** 30,
      },
      s2dr: { enabled: true, lambda2: 0.1, tauS: 0.2, infoNceEpsilon: 1e-5 },
      preprocess: { mode: 'separate', dim: null, eps: 0 },
    });
  });

  it('per-dataset presets of §6', () => {
    const amazon = resolvePromaxSettings('amazon-book');
    expect([amazon.sdr.lambda1, amazon.s2dr.lambda2, amazon.s2dr.tauS]).toEqual([1.5, 0.05, 0.2]);
    const yelp = resolvePromaxSettings('yelp');
    expect([yelp.sdr.lambda1, yelp.s2dr.lambda2, yelp.s2dr.tauS]).toEqual([0.5, 0.1, 0.2]);
    const steam = resolvePromaxSettings('Steam');
    expect([steam.sdr.lambda1, steam.s2dr.lambda2, steam.s2dr.tauS]).toEqual([0.5, 0.1, 0.5]);
    expect(resolvePromaxSettings('amazon_book').sdr.lambda1).toBe(1.5);
    expect(promaxPresetName('dbbook')).toBeUndefined();
    expect(resolvePromaxSettings('dbbook').sdr.lambda1).toBe(0.5);
    expect(resolvePromaxSettings(null).s2dr.lambda2).toBe(0.1);
    expect(Object.keys(PROMAX_PRESETS)).toEqual(['amazon-book', 'yelp', 'steam']);
  });

  it('overrides merge deeply over the preset', () => {
    const s = resolvePromaxSettings('steam', {
      sdr: { maskTrain: true, topK: 100 },
      s2dr: { lambda2: 0.2 },
      preprocess: { mode: 'joint', dim: 16 },
    });
    expect(s.sdr).toMatchObject({ lambda1: 0.5, maskTrain: true, topK: 100 });
    expect(s.s2dr).toMatchObject({ lambda2: 0.2, tauS: 0.5 });
    expect(s.preprocess).toEqual({ mode: 'joint', dim: 16, eps: 0 });
  });

  it('unknown keys and bad values are INVALID_CONFIG errors naming every path', () => {
    const bad = (o: unknown) => () => resolvePromaxSettings('yelp', o);
    expect(bad({ sdr: { lamda1: 1 } })).toThrow(PromaxError);
    expect(bad({ sdr: { lamda1: 1 } })).toThrow(/sdr/);
    expect(bad({ extra: {} })).toThrow(/extra|Unrecognized/);
    try {
      resolvePromaxSettings('yelp', { sdr: { tauP: 0, weightClip: [0.9, 0.1] }, s2dr: { lambda2: -1 } });
      expect.unreachable();
    } catch (e) {
      expect(PromaxError.isInstance(e) && e.code).toBe('INVALID_CONFIG');
      const issues = ((e as PromaxError).details?.issues ?? []) as { path: string }[];
      const paths = issues.map((i) => i.path);
      expect(paths).toEqual(expect.arrayContaining(['sdr.tauP', 'sdr.weightClip', 's2dr.lambda2']));
    }
    expect(bad({ preprocess: { mode: 'pca' } })).toThrow(/preprocess.mode/);
    expect(bad([])).toThrow(/object/);
  });
});
