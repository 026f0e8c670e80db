import { describe, expect, it } from 'vitest';
import { entropyWeight, teacherEntropy } from './entropy-weight.js';

describe('entropy weight w = clip(1 − H/log N, 0.1, 1)', () => {
  it('uniform p → H = log N → 1 − 1 = 0, clipped up to 0.1', () => {
    const n = 9332;
    const p = new Float64Array(n).fill(1 / n);
    expect(teacherEntropy(p)).toBeCloseTo(Math.log(n), 10);
    expect(entropyWeight(teacherEntropy(p), n)).toBe(0.1);
  });

  it('one-hot p → H = 0 → w = 1', () => {
    const p = new Float64Array(50);
    p[17] = 1;
    expect(teacherEntropy(p)).toBe(0);
    expect(entropyWeight(0, 50)).toBe(1);
  });

  it('hand-computed middle cases', () => {
    // Half on two of four items: H = log 2, w = 1 − log 2 / log 4 = 0.5.
    const h = teacherEntropy([0.5, 0.5, 0, 0]);
    expect(h).toBeCloseTo(Math.LN2, 14);
    expect(entropyWeight(h, 4)).toBeCloseTo(0.5, 14);
    // [0.7, 0.1, 0.1, 0.1] over N = 8: H = −0.7 ln 0.7 − 0.3 ln 0.1 = 0.940448…, w = 1 − H/ln 8 = 0.547740…
    const h2 = teacherEntropy([0.7, 0.1, 0.1, 0.1]);
    expect(h2).toBeCloseTo(-0.7 * Math.log(0.7) - 0.3 * Math.log(0.1), 14);
    expect(entropyWeight(h2, 8)).toBeCloseTo(1 - h2 / Math.log(8), 14);
    expect(entropyWeight(h2, 8)).toBeCloseTo(0.54774, 5);
  });

  it('custom clip bounds', () => {
    expect(entropyWeight(Math.log(10), 10, [0.25, 0.9])).toBe(0.25);
    expect(entropyWeight(0, 10, [0.25, 0.9])).toBe(0.9);
    expect(entropyWeight(Math.log(10), 10, [0, 1])).toBe(0);
  });

  it('clamps p at 1e-12 inside the log (as the reference code)', () => {
    expect(teacherEntropy([1e-20, 1 - 1e-20])).toBeCloseTo(-1e-20 * Math.log(1e-12), 30);
  });
});
