import { closestKey, editDistance, PromaxError, parseSettings as validateConfig } from '@promax/core';
import { describe, expect, it } from 'vitest';
import * as z from 'zod';
import { applyOverrides, getByPath, parseConfigValue, setByPath } from './config-validation.js';
import { parseConfig } from './trainer-config.js';

function caught(fn: () => unknown): PromaxError {
  try {
    fn();
  } catch (e) {
    if (PromaxError.isInstance(e)) return e;
    throw e;
  }
  throw new Error('expected a PromaxError');
}

describe('parseConfig (trainer settings)', () => {
  it('applies the method.md §6 defaults', () => {
    expect(parseConfig({})).toEqual({
      batchSize: 4096,
      lr: 1e-3,
      l2: 1e-6,
      maxEpochs: 1000,
      evalEvery: 3,
      patience: 20,
      ks: [5, 10, 20],
      selectMetric: 'recall@20',
      seed: 2025,
      checkpoint: 'best',
      testSplit: true,
    });
    expect(parseConfig(undefined).batchSize).toBe(4096);
  });

  it('names an unknown key and suggests the closest valid one', () => {
    const e = caught(() => parseConfig({ lrr: 0.01 }, { source: 'run.json' }));
    expect(e.code).toBe('INVALID_CONFIG');
    expect(e.field).toBe('lrr');
    expect(e.message).toMatch(/run\.json/);
    expect(e.message).toMatch(/unknown key "lrr" — did you mean "lr"\?/);
    expect(e.fix).toMatch(/rename "lrr" to "lr"/);
    const issues = e.details?.issues as { path: string; suggestion?: string }[];
    expect(issues[0]).toMatchObject({ path: 'lrr', suggestion: 'lr' });
    expect(caught(() => parseConfig({ batch_size: 1 })).message).toMatch(/did you mean "batchSize"/);
    expect(caught(() => parseConfig({ patiense: 1 })).message).toMatch(/did you mean "patience"/);
    expect(caught(() => parseConfig({ evalevery: 1 })).message).toMatch(/did you mean "evalEvery"/);
    expect(caught(() => parseConfig({ max_epoch: 1 })).message).toMatch(/did you mean "maxEpochs"/);
  });

  it('names the key path and the expected type for wrong values', () => {
    const e = caught(() => parseConfig({ lr: '0.01' }));
    expect(e.field).toBe('lr');
    expect(e.message).toMatch(/lr: expected number, got string "0\.01"/);
    const k = caught(() => parseConfig({ ks: [5, 'ten'] }));
    expect(k.field).toBe('ks[1]');
    expect(k.message).toMatch(/ks\[1\]: expected number, got string "ten"/);
    expect(caught(() => parseConfig({ checkpoint: 'always' })).message).toMatch(
      /checkpoint: expected one of "best" \| "end" \| "none", got string "always"/,
    );
    expect(caught(() => parseConfig({ batchSize: 0 })).field).toBe('batchSize');
    expect(caught(() => parseConfig({ selectMetric: 'auc' })).field).toBe('selectMetric');
    expect(caught(() => parseConfig({ selectMetric: 'ndcg@50' })).message).toMatch(/K = 50 in ks/);
    expect(parseConfig({ selectMetric: 'ndcg@50', ks: [10, 50] }).selectMetric).toBe('ndcg@50');
  });

  it('reports every issue at once', () => {
    const e = caught(() => parseConfig({ lr: -1, seed: 1.5, foo: 1 }));
    expect(e.details?.issues).toHaveLength(3);
    expect(e.message).toMatch(/lr:.*seed:.*foo/s);
  });
});

describe('validateConfig (any schema)', () => {
  const schema = z.strictObject({
    model: z
      .strictObject({ dim: z.number().default(32), layers: z.number().default(3) })
      .default({ dim: 32, layers: 3 }),
    trainer: z.strictObject({ lr: z.number().default(1e-3) }).default({ lr: 1e-3 }),
  });

  it('suggests keys at nested levels and names the full path', () => {
    const e = caught(() => validateConfig(schema, { model: { dims: 64 } }, { source: '--set' }));
    expect(e.field).toBe('model.dims');
    expect(e.message).toMatch(
      /invalid config in --set: model\.dims: unknown key "dims" — did you mean "dim"\?/,
    );
    expect(e.message).toMatch(/Valid keys: dim, layers/);
    expect(e.fix).toMatch(/rename "model.dims" to "model.dim"/);
    expect(caught(() => validateConfig(schema, { trainr: {} })).message).toMatch(/did you mean "trainer"/);
  });

  it('returns the parsed value with defaults', () => {
    expect(validateConfig(schema, { model: { dim: 64 } })).toEqual({
      model: { dim: 64, layers: 3 },
      trainer: { lr: 1e-3 },
    });
  });
});

describe('edit distance and closest key', () => {
  it('counts insertions, deletions, substitutions and transpositions', () => {
    expect(editDistance('', 'abc')).toBe(3);
    expect(editDistance('kitten', 'sitting')).toBe(3);
    expect(editDistance('lr', 'rl')).toBe(1);
    expect(editDistance('same', 'same')).toBe(0);
  });
  it('prefers case/separator-insensitive matches', () => {
    expect(closestKey('Batch-Size', ['seed', 'batchSize', 'patience'])).toBe('batchSize');
    expect(closestKey('x', [])).toBeUndefined();
  });
});

describe('--set overrides', () => {
  it('parses values', () => {
    expect(parseConfigValue('3')).toBe(3);
    expect(parseConfigValue('1e-3')).toBe(0.001);
    expect(parseConfigValue('-0.5')).toBe(-0.5);
    expect(parseConfigValue('true')).toBe(true);
    expect(parseConfigValue('false')).toBe(false);
    expect(parseConfigValue('null')).toBe(null);
    expect(parseConfigValue('[5,10,20]')).toEqual([5, 10, 20]);
    expect(parseConfigValue('5,10,20')).toEqual([5, 10, 20]);
    expect(parseConfigValue('{"a":[1]}')).toEqual({ a: [1] });
    expect(parseConfigValue('"2025"')).toBe('2025');
    expect(parseConfigValue('recall@20')).toBe('recall@20');
    expect(parseConfigValue('a,b')).toBe('a,b');
    expect(() => parseConfigValue('[1,', 'ks')).toThrow(/cannot parse/);
  });

  it('sets nested keys, creating objects and indexing arrays', () => {
    const o: Record<string, unknown> = { trainer: { lr: 1 }, ks: [5, 10] };
    setByPath(o, 'trainer.lr', '0.01');
    setByPath(o, 'model.lightgcn.layers', '2');
    setByPath(o, 'ks.1', '50');
    setByPath(o, 'name', 'true', { parse: false });
    expect(o).toEqual({
      trainer: { lr: 0.01 },
      model: { lightgcn: { layers: 2 } },
      ks: [5, 50],
      name: 'true',
    });
    applyOverrides(o, ['trainer.patience=5', 'selectMetric=ndcg@20', 'ks=[1,2]']);
    expect(o).toMatchObject({ trainer: { lr: 0.01, patience: 5 }, selectMetric: 'ndcg@20', ks: [1, 2] });
  });

  it('rejects bad paths', () => {
    expect(() => setByPath({ a: 1 }, 'a.b', '1')).toThrow(/"a" is a number/);
    expect(() => setByPath({}, 'a..b', '1')).toThrow(/invalid key path/);
    expect(() => setByPath({}, '__proto__.x', '1')).toThrow(/not allowed/);
    expect(() => setByPath({ a: [1] }, 'a.x', '1')).toThrow(/non-negative integer/);
    expect(() => applyOverrides({}, ['novalue'])).toThrow(/key=value/);
  });

  it('composes with validation: overrides feed the schema', () => {
    const raw = applyOverrides({}, ['batchSize=2048', 'ks=5,10,20,50']);
    expect(parseConfig(raw)).toMatchObject({ batchSize: 2048, ks: [5, 10, 20, 50] });
    expect(() => parseConfig(applyOverrides({}, ['batchsize=2048']))).toThrow(/did you mean "batchSize"/);
  });
});

describe('getByPath', () => {
  it('reads what setByPath writes, and undefined where the path leaves the objects', () => {
    const o = setByPath({}, 'sdr.lambda1', 0.5, { parse: false });
    expect(getByPath(o, 'sdr.lambda1')).toBe(0.5);
    expect(getByPath(o, 'sdr')).toEqual({ lambda1: 0.5 });
    expect(getByPath(o, 'sdr.lambda1.x')).toBeUndefined();
    expect(getByPath(o, 'perModel.gccf.kdWeight')).toBeUndefined();
    expect(getByPath(null, 'a')).toBeUndefined();
  });
});
