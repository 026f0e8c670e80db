import { Rng } from '@promax/core';
import { describe, expect, it } from 'vitest';
import { jacobiEigen } from '../testing/reference.js';
import { symmetricTopEigen } from './symmetric-eigen.js';

function randomSymmetric(rng: Rng, n: number): Float64Array {
  const a = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = i; j < n; j++) {
      const v = rng.nextNormal();
      a[i * n + j] = v;
      a[j * n + i] = v;
    }
  }
  return a;
}

/** Q diag(values) Qᵀ for a random orthogonal Q (Gram–Schmidt of a Gaussian matrix). */
function withSpectrum(rng: Rng, values: readonly number[]): Float64Array {
  const n = values.length;
  const q = Float64Array.from({ length: n * n }, () => rng.nextNormal());
  for (let j = 0; j < n; j++) {
    for (let p = 0; p < j; p++) {
      let d = 0;
      for (let i = 0; i < n; i++) d += q[j * n + i] * q[p * n + i];
      for (let i = 0; i < n; i++) q[j * n + i] -= d * q[p * n + i];
    }
    let s = 0;
    for (let i = 0; i < n; i++) s += q[j * n + i] ** 2;
    for (let i = 0; i < n; i++) q[j * n + i] /= Math.sqrt(s);
  }
  const a = new Float64Array(n * n);
  for (let i = 0; i < n; i++)
    for (let k = 0; k < n; k++)
      for (let j = 0; j < n; j++) a[i * n + k] += q[j * n + i] * values[j] * q[j * n + k];
  return a;
}

function check(a: Float64Array, n: number, k: number): { values: Float64Array; vectors: Float64Array } {
  const r = symmetricTopEigen(a, n, k);
  const scale = Math.max(1e-300, ...Array.from(a, Math.abs));
  for (let j = 0; j < k; j++) {
    // Residual ‖A v − λ v‖ and orthonormality.
    let res = 0;
    for (let i = 0; i < n; i++) {
      let av = 0;
      for (let t = 0; t < n; t++) av += a[i * n + t] * r.vectors[j * n + t];
      res += (av - r.values[j] * r.vectors[j * n + i]) ** 2;
    }
    expect(Math.sqrt(res)).toBeLessThan(1e-12 * n * scale);
    for (let p = 0; p <= j; p++) {
      let d = 0;
      for (let i = 0; i < n; i++) d += r.vectors[j * n + i] * r.vectors[p * n + i];
      expect(Math.abs(d - (p === j ? 1 : 0))).toBeLessThan(1e-12);
    }
    if (j > 0) expect(r.values[j]).toBeLessThanOrEqual(r.values[j - 1]);
  }
  return r;
}

describe('symmetricTopEigen (Householder + bisection + inverse iteration)', () => {
  it('matches cyclic Jacobi on random symmetric matrices', () => {
    const rng = new Rng(1);
    for (const [n, k] of [
      [1, 1],
      [2, 2],
      [3, 1],
      [12, 5],
      [40, 40],
    ]) {
      const a = randomSymmetric(rng, n);
      const r = check(a, n, k);
      const ref = jacobiEigen(a, n);
      for (let j = 0; j < k; j++) {
        expect(Math.abs(r.values[j] - ref.values[j])).toBeLessThan(1e-12 * Math.abs(ref.values[0]) * n);
        let d = 0;
        for (let i = 0; i < n; i++) d += r.vectors[j * n + i] * ref.vectors[j * n + i];
        expect(Math.abs(Math.abs(d) - 1)).toBeLessThan(1e-9);
      }
    }
  });

  it('handles repeated and clustered eigenvalues, zero blocks and diagonal input', () => {
    const rng = new Rng(2);
    const r1 = check(withSpectrum(rng, [5, 3, 3, 3, 1, 1e-9, 0, 0, -2, 3 + 1e-13]), 10, 6);
    expect(Array.from(r1.values.subarray(0, 5)).map((v) => +v.toFixed(9))).toEqual([5, 3, 3, 3, 3]);
    const diag = new Float64Array(36);
    [4, 0, 7, 7, 1, 2].forEach((v, i) => {
      diag[i * 6 + i] = v;
    });
    const r2 = check(diag, 6, 3);
    expect(Array.from(r2.values).map((v) => +v.toFixed(12))).toEqual([7, 7, 4]);
    check(new Float64Array(25), 5, 2);
  });

  it('is deterministic and fixes signs (largest-magnitude entry positive)', () => {
    const rng = new Rng(3);
    const a = randomSymmetric(rng, 30);
    const r1 = symmetricTopEigen(a, 30, 8);
    const r2 = symmetricTopEigen(a, 30, 8);
    expect(Buffer.from(r1.vectors.buffer).equals(Buffer.from(r2.vectors.buffer))).toBe(true);
    for (let j = 0; j < 8; j++) {
      const v = r1.vectors.subarray(j * 30, (j + 1) * 30);
      const big = v.reduce((best, x) => (Math.abs(x) > Math.abs(best) ? x : best), 0);
      expect(big).toBeGreaterThan(0);
    }
  });

  it('does not modify its input and rejects bad k', () => {
    const a = randomSymmetric(new Rng(4), 6);
    const copy = Float64Array.from(a);
    symmetricTopEigen(a, 6, 3);
    expect(Array.from(a)).toEqual(Array.from(copy));
    expect(() => symmetricTopEigen(a, 6, 7)).toThrow(RangeError);
    expect(() => symmetricTopEigen(a, 5, 1)).toThrow(RangeError);
  });
});
