import { Rng } from '@promax/core';
import { describe, expect, it } from 'vitest';
import { GraphBuilder } from '../graph/builder.js';
import { constantInit, fans, xavierNormal, xavierUniform } from './init.js';
import { ParameterStore } from './parameter-store.js';

describe('ParameterStore and initialisers', () => {
  it('initialises every graph parameter from the seeded Rng, deterministically', () => {
    const g = new GraphBuilder();
    g.param('a', [100, 20]);
    g.param('b', [20]);
    const s1 = new ParameterStore().initialize(g, new Rng(9), { a: xavierUniform(), b: constantInit(0.5) });
    const s2 = new ParameterStore().initialize(g, new Rng(9), { a: xavierUniform(), b: constantInit(0.5) });
    expect(s1.get('a')).toEqual(s2.get('a'));
    const bound = Math.sqrt(6 / 120);
    expect(Math.max(...s1.get('a').map(Math.abs))).toBeLessThanOrEqual(bound);
    expect(Math.max(...s1.get('a').map(Math.abs))).toBeGreaterThan(0.9 * bound);
    expect(Array.from(s1.get('b')).every((v) => v === 0.5)).toBe(true);
    expect(s1.size()).toBe(2020);
  });

  it('Xavier-normal has the PyTorch standard deviation', () => {
    const out = new Float32Array(200 * 300);
    xavierNormal()(out, [200, 300], new Rng(1));
    const std = Math.sqrt(out.reduce((a, v) => a + v * v, 0) / out.length);
    expect(std).toBeCloseTo(Math.sqrt(2 / 500), 3);
    expect(fans([8, 4, 3, 3])).toEqual({ fanIn: 36, fanOut: 72 });
  });

  it('keeps existing values, checks shapes, snapshots and loads', () => {
    const g = new GraphBuilder();
    g.param('w', [2, 2]);
    const store = new ParameterStore();
    store.set('w', [2, 2], Float32Array.of(1, 2, 3, 4));
    store.initialize(g, new Rng(1));
    expect(Array.from(store.get('w'))).toEqual([1, 2, 3, 4]);
    const snap = store.snapshot();
    store.get('w')[0] = 9;
    store.load(snap);
    expect(store.get('w')[0]).toBe(1);
    const bad = new ParameterStore();
    bad.set('w', [4]);
    expect(() => bad.initialize(g, new Rng(1))).toThrow(/\[4\] in the store but \[2, 2\] in the graph/);
    expect(() => store.get('nope')).toThrow(/no parameter named 'nope'/);
  });

  it('feeds parameters to onnxruntime without copying', () => {
    const store = new ParameterStore();
    const w = store.set('w', [3]);
    const t = store.tensor('w');
    expect(t.data).toBe(w);
    expect(store.tensor('w')).toBe(t);
  });
});
