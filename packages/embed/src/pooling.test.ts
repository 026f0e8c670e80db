import { Rng } from '@promax/core';
import { describe, expect, it } from 'vitest';
import { l2NormalizeRowsImpl, meanPoolImpl } from './pooling.js';

describe('meanPoolImpl', () => {
  it('averages only the masked-in tokens (hand computation)', () => {
    // batch 2, seq 3, dim 2
    const h = Float32Array.from([1, 2, 3, 4, 100, 100, 5, 6, 7, 8, 9, 10]);
    const mask = BigInt64Array.from([1n, 1n, 0n, 1n, 1n, 1n]);
    expect(Array.from(meanPoolImpl(h, mask, 2, 3, 2))).toEqual([2, 3, 7, 8]);
  });

  it('matches a float64 reference on random data and writes into out', () => {
    const rng = new Rng(7);
    const [b, s, d] = [3, 5, 4];
    const h = Float32Array.from({ length: b * s * d }, () => rng.nextNormal());
    const mask = Int32Array.from({ length: b * s }, (_, i) => (i % s < 2 + (i % 3) ? 1 : 0));
    const out = new Float32Array(b * d);
    meanPoolImpl(h, mask, b, s, d, out);
    for (let i = 0; i < b; i++) {
      for (let k = 0; k < d; k++) {
        let sum = 0;
        let n = 0;
        for (let t = 0; t < s; t++) {
          if (mask[i * s + t]) {
            sum += h[(i * s + t) * d + k] as number;
            n++;
          }
        }
        expect(out[i * d + k]).toBeCloseTo(sum / n, 6);
      }
    }
  });

  it('gives zeros (not NaN) for an all-padding row', () => {
    const out = meanPoolImpl(Float32Array.from([1, 2]), Uint8Array.from([0]), 1, 1, 2);
    expect(Array.from(out)).toEqual([0, 0]);
  });
});

describe('l2NormalizeRowsImpl', () => {
  it('scales rows to unit norm and leaves zero rows at zero', () => {
    const x = Float32Array.from([3, 4, 0, 0]);
    l2NormalizeRowsImpl(x, 2, 2);
    expect(Array.from(x)).toEqual([0.6000000238418579, 0.800000011920929, 0, 0]);
  });
});
