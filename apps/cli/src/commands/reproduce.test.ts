import { pairedTTest, wilcoxonSignedRank } from '@promax/eval';
import { describe, expect, it } from 'vitest';
import { pairedBySeed, pairedCell } from './reproduce.js';

const runs = (values: Record<number, number>) =>
  Object.entries(values).map(([seed, v]) => ({ seed: Number(seed), test: { 'recall@20': v } }));

describe('reproduce: paired p-values', () => {
  it('pairs runs by seed, whatever their order, and skips seeds one arm lacks', () => {
    const base = runs({ 1: 0.1, 2: 0.12, 3: 0.11, 4: 0.2 });
    const treated = runs({ 3: 0.125, 1: 0.11, 2: 0.128 });
    const p = pairedBySeed(base, treated, 'recall@20');
    expect(p?.n).toBe(3);
    expect(p?.p_value).toBeCloseTo(pairedTTest([0.125, 0.11, 0.128], [0.11, 0.1, 0.12]).pValue, 14);
    expect(p?.wilcoxon_p).toBeNull();
    expect(pairedBySeed(base, runs({ 9: 0.1 }), 'recall@20')).toBeUndefined();
  });

  it('adds Wilcoxon from 5 seeds on and prints both', () => {
    const base = runs({ 1: 0.1, 2: 0.12, 3: 0.11, 4: 0.13, 5: 0.1 });
    const treated = runs({ 1: 0.11, 2: 0.125, 3: 0.118, 4: 0.131, 5: 0.104 });
    const p = pairedBySeed(base, treated, 'recall@20');
    const w = wilcoxonSignedRank([0.11, 0.125, 0.118, 0.131, 0.104], [0.1, 0.12, 0.11, 0.13, 0.1]);
    expect(p?.wilcoxon_p).toBeCloseTo(w.pValue, 14);
    expect(p?.wilcoxon_p).toBeCloseTo(0.0625, 14); // 5 positive differences, exact: 2/32
    expect(pairedCell(p)).toMatch(/^p = 0\.0\d\d, W p = 0\.063$/);
  });
});
