import { PromaxError } from '@promax/core';
import { sglDefinition, sglPresets } from '@promax/model-sgl';
import { simGclDefinition, simGclPresets } from '@promax/model-simgcl';
import { resolvePluginSettings } from '@promax/pipeline';
import { describe, expect, it } from 'vitest';
import { resolveRunConfig, runConfigToRaw } from './run-config.js';
import { checkRunConfig } from './run-training.js';

const cwd = process.cwd();

describe('model settings presets (resolved once, by canonical dataset name)', () => {
  it('applies the preset named like the dataset beneath the user settings', () => {
    const c = resolvePluginSettings(sglDefinition, { dataset: 'yelp' });
    expect(c.preset).toBe('yelp');
    expect(c.settings).toMatchObject({ dropRate: 0.2, lambdaSsl: 0.001, temperature: 0.1, layers: 3 });
    const own = resolvePluginSettings(sglDefinition, { dataset: 'yelp', overrides: { lambdaSsl: 0.05 } });
    expect(own.settings).toMatchObject({ dropRate: sglPresets.yelp.dropRate, lambdaSsl: 0.05 });
    const steam = resolvePluginSettings(simGclDefinition, { dataset: 'steam' });
    expect(steam.settings).toMatchObject(simGclPresets.steam);
  });

  it('matches a dataset alias (amazon_book) to its canonical preset, as the ProMax preset always did', async () => {
    const r = await checkRunConfig(
      resolveRunConfig({ flags: { dataset: 'amazon_book', model: 'sgl', methods: ['promax'] } }),
      cwd,
    );
    expect(r.model.preset).toBe('amazon-book');
    expect(r.methods[0].preset).toBe('amazon-book');
    expect(r.label).toBe('sgl+promax');
  });

  it('uses no preset for a model without one, an unregistered folder, or modelPreset none; names a chosen one', () => {
    const { lightGcnDefinition } = { lightGcnDefinition: { ...sglDefinition, id: 'x', presets: undefined } };
    expect(resolvePluginSettings(lightGcnDefinition, { dataset: 'amazon-book' }).preset).toBeNull();
    const dir = resolvePluginSettings(sglDefinition, { dataset: 'my-split' });
    expect(dir.preset).toBeNull();
    expect(dir.settings).toMatchObject({ dropRate: 0.1, lambdaSsl: 0.1 });
    const chosen = resolvePluginSettings(sglDefinition, { dataset: 'my-split', preset: 'yelp' });
    expect(chosen.preset).toBe('yelp');
    expect(chosen.settings).toMatchObject({ lambdaSsl: 0.001 });
    const none = resolvePluginSettings(sglDefinition, { dataset: 'yelp', preset: 'none' });
    expect(none.preset).toBeNull();
    expect(none.settings).toMatchObject({ dropRate: 0.1, lambdaSsl: 0.1, temperature: 0.2 });
  });

  it('rejects an unknown preset naming the available ones', () => {
    try {
      resolvePluginSettings(simGclDefinition, { dataset: 'yelp', preset: 'gowalla' });
      expect.unreachable();
    } catch (e) {
      expect(PromaxError.isInstance(e) && e.code).toBe('INVALID_CONFIG');
      expect(String(e)).toMatch(/no settings preset 'gowalla'.*amazon-book, yelp, steam, or none/);
    }
  });

  it('round-trips through the raw form (what a child run or a finished-run check reads)', () => {
    const c = resolveRunConfig({
      flags: { dataset: 'yelp', model: 'sgl', seed: 7, threads: 1 },
      sets: [
        'modelSettings.temperature=0.3',
        'promax.enabled=true',
        'methodSettings.promax.s2dr.lambda2=0.2',
      ],
    });
    expect(c.methods).toEqual(['promax']);
    const back = resolveRunConfig({ flags: runConfigToRaw(c) });
    expect(back).toEqual(c);
  });

  it('refuses a method listed twice and settings of a method that does not run', () => {
    expect(() => resolveRunConfig({ flags: { methods: ['promax', 'promax'] } })).toThrow(/listed twice/);
    expect(() => resolveRunConfig({ sets: ['methodSettings.promax.s2dr.lambda2=0.2'] })).toThrow(
      /settings for method 'promax', which this run does not use/,
    );
    // in a sweep (reproduce's base run beside its +promax runs) they are dropped from the base run only
    const sets = ['methodSettings.promax.s2dr.lambda2=0.2'];
    expect(resolveRunConfig({ sets, sweepMethods: ['promax'] }).methodSettings).toEqual({});
    expect(
      resolveRunConfig({ flags: { methods: ['promax'] }, sets, sweepMethods: ['promax'] }).methodSettings,
    ).toEqual({ promax: { s2dr: { lambda2: 0.2 } } });
    expect(() => resolveRunConfig({ sets, sweepMethods: ['kar'] })).toThrow(/which this run does not use/);
  });
});

describe('--protocol', () => {
  it('rlmrec sets seed 2023, patience 5, LightGCN layers 0..L and edge keep 0.8 beneath explicit values; prorec changes nothing', () => {
    const r = resolveRunConfig({ flags: { model: 'lightgcn', protocol: 'rlmrec' } });
    expect(r.protocol).toBe('rlmrec');
    expect(r.seed).toBe(2023);
    expect(r.trainer).toEqual({ patience: 5 });
    expect(r.modelSettings).toEqual({ layerCombination: 'sum0', edgeKeepRate: 0.8 });
    const own = resolveRunConfig({
      flags: { model: 'lightgcn', protocol: 'rlmrec', seed: 7 },
      sets: ['trainer.patience=9', 'modelSettings.layerCombination=mean', 'modelSettings.edgeKeepRate=1'],
    });
    expect([
      own.seed,
      own.trainer.patience,
      own.modelSettings.layerCombination,
      own.modelSettings.edgeKeepRate,
    ]).toEqual([7, 9, 'mean', 1]);
    expect(resolveRunConfig({ flags: { model: 'sgl', protocol: 'rlmrec' } }).modelSettings).toEqual({
      edgeKeepRate: 0.8,
    });
    for (const model of ['mf', 'simgcl', 'gccf']) {
      expect(resolveRunConfig({ flags: { model, protocol: 'rlmrec' } }).modelSettings).toEqual({});
    }
    const p = resolveRunConfig({ flags: { model: 'lightgcn' } });
    expect([p.protocol, p.seed, p.trainer, p.modelSettings]).toEqual(['prorec', 2025, {}, {}]);
    expect(() => resolveRunConfig({ flags: { protocol: 'rlmrek' } })).toThrow(/protocol/);
  });
});
