import { PromaxError } from '@promax/core';
import { sglPresets } from '@promax/model-sgl';
import { simGclPresets } from '@promax/model-simgcl';
import { describe, expect, it } from 'vitest';
import { resolveRunConfig, runConfigToRaw } from './run-config.js';

describe('model settings presets', () => {
  it('applies the preset named like the dataset beneath the user settings', () => {
    const c = resolveRunConfig({ flags: { dataset: 'yelp', model: 'sgl' } });
    expect(c.modelPreset).toBe('yelp');
    expect(c.modelSettings).toMatchObject({ dropRate: 0.2, lambdaSsl: 0.001, temperature: 0.1, layers: 3 });
    const own = resolveRunConfig({
      flags: { dataset: 'yelp', model: 'sgl' },
      sets: ['modelSettings.lambdaSsl=0.05'],
    });
    expect(own.modelSettings).toMatchObject({ dropRate: sglPresets.yelp.dropRate, lambdaSsl: 0.05 });
    const steam = resolveRunConfig({ flags: { dataset: 'steam', model: 'simgcl' } });
    expect(steam.modelSettings).toMatchObject(simGclPresets.steam);
  });

  it('uses no preset for a model without one, a folder dataset, or modelPreset none; names a chosen one', () => {
    expect(resolveRunConfig({ flags: { dataset: 'amazon-book', model: 'lightgcn' } }).modelPreset).toBeNull();
    const dir = resolveRunConfig({ flags: { dataset: '/data/my-split', model: 'sgl' } });
    expect(dir.modelPreset).toBeNull();
    expect(dir.modelSettings).toMatchObject({ dropRate: 0.1, lambdaSsl: 0.1 });
    const chosen = resolveRunConfig({
      flags: { dataset: '/data/my-split', model: 'sgl' },
      sets: ['modelPreset=yelp'],
    });
    expect(chosen.modelPreset).toBe('yelp');
    expect(chosen.modelSettings).toMatchObject({ lambdaSsl: 0.001 });
    const none = resolveRunConfig({ flags: { dataset: 'yelp', model: 'sgl' }, sets: ['modelPreset=none'] });
    expect(none.modelPreset).toBeNull();
    expect(none.modelSettings).toMatchObject({ dropRate: 0.1, lambdaSsl: 0.1, temperature: 0.2 });
  });

  it('rejects an unknown preset naming the available ones', () => {
    try {
      resolveRunConfig({ flags: { dataset: 'yelp', model: 'simgcl' }, sets: ['modelPreset=gowalla'] });
      expect.unreachable();
    } catch (e) {
      expect(PromaxError.isInstance(e) && e.code).toBe('INVALID_CONFIG');
      expect(String(e)).toMatch(/no settings preset 'gowalla'.*amazon-book, yelp, steam, or none/);
    }
  });

  it('round-trips through the raw form (what a child run or a finished-run check reads)', () => {
    const c = resolveRunConfig({
      flags: { dataset: 'yelp', model: 'sgl', seed: 7, threads: 1 },
      sets: ['modelSettings.temperature=0.3', 'promax.enabled=true'],
    });
    const back = resolveRunConfig({ flags: runConfigToRaw(c) });
    expect(back).toEqual(c);
  });
});
