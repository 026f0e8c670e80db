import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Matrix } from '@promax/core';
import { describe, expect, it } from 'vitest';
import { mat64, whiteningReference } from '../testing/reference.js';
import { syntheticProfiles } from '../testing/synthetic.js';
import { applyWhitening, fitWhitening, l2NormalizeRows } from './whitening.js';

/** Sample covariance (n − 1) of the rows of a float32 matrix, in float64. */
function covariance(m: Matrix): Float64Array {
  const { rows: n, cols: k, data } = m;
  const mean = new Float64Array(k);
  for (let r = 0; r < n; r++) for (let c = 0; c < k; c++) mean[c] += data[r * k + c] / n;
  const cov = new Float64Array(k * k);
  for (let r = 0; r < n; r++) {
    for (let i = 0; i < k; i++) {
      for (let j = 0; j < k; j++)
        cov[i * k + j] += ((data[r * k + i] - mean[i]) * (data[r * k + j] - mean[j])) / (n - 1);
    }
  }
  return cov;
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

function readFloat64(path: string): Float64Array {
  const b = readFileSync(path);
  return new Float64Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.length));
}

function numpyAvailable(): string | null {
  const r = spawnSync('python3', ['-c', 'import numpy; print(numpy.__version__)'], { encoding: 'utf8' });
  return r.status === 0
    ? null
    : `python3 with numpy not available (${(r.stderr || r.error?.message || 'unknown').trim().split('\n').pop()})`;
}

describe('fitWhitening / applyWhitening', () => {
  const x = syntheticProfiles({ rows: 300, dim: 12, seed: 1, rank: 12, decay: 0.8, offset: 3 });

  it('matches the §2 formula with an independent float64 (Jacobi) eigensolver', async () => {
    const w = await fitWhitening(x, { k: 5 });
    const ref = whiteningReference(mat64(x.rows, x.cols, x.data), 5);
    expect(maxAbsDiff(w.mean, ref.mean)).toBeLessThan(1e-12);
    for (let j = 0; j < 5; j++)
      expect(Math.abs(w.eigenvalues[j] / ref.eigenvalues[j] - 1)).toBeLessThan(1e-10);
    expect(maxAbsDiff(w.components, ref.components)).toBeLessThan(1e-9);
    expect(Array.from(w.scales)).toEqual(Array.from(w.eigenvalues, (s) => 1 / Math.sqrt(s)));
    const out = await applyWhitening(x, w, { normalize: false });
    expect(out.cols).toBe(5);
    expect(maxAbsDiff(out.data, ref.out.data)).toBeLessThan(1e-5);
    expect(w.explainedVariance).toBeGreaterThan(0.5);
    expect(w.explainedVariance).toBeLessThan(1);
  });

  it('whitened training rows have identity covariance in k dims; normalised rows have unit norm', async () => {
    const w = await fitWhitening(x, { k: 6 });
    const cov = covariance(await applyWhitening(x, w, { normalize: false }));
    const eye = Array.from({ length: 36 }, (_, i) => (i % 7 === 0 ? 1 : 0));
    expect(maxAbsDiff(cov, eye)).toBeLessThan(1e-5);
    const unit = await applyWhitening(x, w);
    for (let r = 0; r < unit.rows; r++) {
      let s = 0;
      for (let c = 0; c < 6; c++) s += unit.data[r * 6 + c] ** 2;
      expect(Math.sqrt(s)).toBeCloseTo(1, 6);
    }
  });

  it('is deterministic and independent of the block size', async () => {
    const a = await fitWhitening(x, { k: 4 });
    const b = await fitWhitening(x, { k: 4 });
    expect(Buffer.from(a.components.buffer).equals(Buffer.from(b.components.buffer))).toBe(true);
    const ya = await applyWhitening(x, a);
    const yb = await applyWhitening(x, b);
    expect(Buffer.from(ya.data.buffer).equals(Buffer.from(yb.data.buffer))).toBe(true);
    const c = await fitWhitening(x, { k: 4, blockRows: 7 });
    expect(maxAbsDiff(c.components, a.components)).toBeLessThan(1e-10);
    const yc = await applyWhitening(x, c, { blockRows: 7 });
    expect(maxAbsDiff(yc.data, ya.data)).toBeLessThan(1e-6);
  });

  it('a joint fit on stacked matrices equals a fit on the concatenation', async () => {
    const y = syntheticProfiles({ rows: 200, dim: 12, seed: 2, rank: 12 });
    const stacked: Matrix = { rows: 500, cols: 12, data: new Float32Array([...x.data, ...y.data]) };
    const joint = await fitWhitening([x, y], { k: 4 });
    const whole = await fitWhitening(stacked, { k: 4 });
    expect(joint.rows).toBe(500);
    expect(maxAbsDiff(joint.mean, whole.mean)).toBeLessThan(1e-12);
    expect(maxAbsDiff(joint.components, whole.components)).toBeLessThan(1e-10);
  });

  it('eps regularises: scales = 1/√(S + eps), and allows rank < k', async () => {
    const w = await fitWhitening(x, { k: 5, eps: 0.01 });
    for (let j = 0; j < 5; j++) expect(w.scales[j]).toBeCloseTo(1 / Math.sqrt(w.eigenvalues[j] + 0.01), 12);
    const low = syntheticProfiles({ rows: 100, dim: 10, seed: 3, rank: 3, noise: 0 });
    await expect(fitWhitening(low, { k: 5 })).rejects.toMatchObject({
      code: 'INVALID_DATA',
      details: { rank: 3, k: 5 },
    });
    const reg = await fitWhitening(low, { k: 5, eps: 1e-3 });
    expect(reg.scales[4]).toBeCloseTo(1 / Math.sqrt(1e-3), 3);
    await expect(fitWhitening(low, { k: 3 })).resolves.toBeDefined();
  });

  it('rejects degenerate inputs with PromaxErrors', async () => {
    const nan: Matrix = { ...x, data: Float32Array.from(x.data) };
    nan.data[17 * 12 + 3] = Number.NaN;
    await expect(fitWhitening(nan, { k: 3 })).rejects.toMatchObject({
      code: 'NON_FINITE',
      details: { row: 17, col: 3 },
    });
    const w = await fitWhitening(x, { k: 3 });
    await expect(applyWhitening(nan, w)).rejects.toMatchObject({ code: 'NON_FINITE', details: { row: 17 } });
    const same: Matrix = { rows: 20, cols: 4, data: new Float32Array(80).fill(0.3) };
    await expect(fitWhitening(same, { k: 2 })).rejects.toMatchObject({ code: 'INVALID_DATA' });
    await expect(fitWhitening(same, { k: 2 })).rejects.toThrow(/identical/);
    await expect(fitWhitening(x, { k: 13 })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', field: 'k' });
    await expect(fitWhitening(x, { k: 0 })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(
      fitWhitening({ rows: 1, cols: 4, data: new Float32Array(4) }, { k: 1 }),
    ).rejects.toMatchObject({ code: 'INVALID_DATA' });
    await expect(
      fitWhitening({ rows: 3, cols: 4, data: new Float32Array(11) }, { k: 1 }),
    ).rejects.toMatchObject({ code: 'SHAPE_MISMATCH' });
    await expect(fitWhitening({ rows: 4, cols: 12, data: new Float32Array(48) }, { k: 4 })).rejects.toThrow(
      /at most 3 directions/,
    );
    await expect(applyWhitening({ rows: 2, cols: 5, data: new Float32Array(10) }, w)).rejects.toMatchObject({
      code: 'SHAPE_MISMATCH',
    });
  });

  it('l2NormalizeRows keeps zero rows at zero (F.normalize)', () => {
    const out = l2NormalizeRows({ rows: 2, cols: 2, data: Float32Array.of(3, 4, 0, 0) });
    expect(Array.from(out.data)).toEqual([0.6, 0.8, 0, 0].map(Math.fround));
  });

  const noNumpy = numpyAvailable();
  if (noNumpy) console.log(`skipping the NumPy cross-check: ${noNumpy}`);
  it.skipIf(noNumpy !== null)(
    "agrees with the reference code's NumPy pca() (np.cov + np.linalg.svd)",
    async () => {
      const big = syntheticProfiles({
        rows: 1500,
        dim: 96,
        seed: 7,
        rank: 96,
        decay: 0.6,
        offset: 2,
        clusters: 8,
      });
      const k = 16;
      const dir = mkdtempSync(join(tmpdir(), 'promax-loss-'));
      try {
        writeFileSync(join(dir, 'x.bin'), big.data);
        const script = [
          'import numpy as np, sys',
          `x = np.fromfile(sys.argv[1] + '/x.bin', dtype=np.float32).reshape(${big.rows}, ${big.cols}).astype(np.float64)`,
          'mean = np.mean(x, axis=0)',
          'cov = np.cov(x - mean, rowvar=False)',
          'U, S, _ = np.linalg.svd(cov, full_matrices=False)',
          `P = U[..., :${k}].dot(np.diag(np.sqrt(1 / S)[:${k}]))`,
          "((x - mean).dot(P)).astype(np.float64).tofile(sys.argv[1] + '/y.bin')",
          `S[:${k}].tofile(sys.argv[1] + '/s.bin')`,
        ].join('\n');
        const r = spawnSync('python3', ['-c', script, dir], { encoding: 'utf8' });
        expect(r.status, r.stderr).toBe(0);
        const ref = readFloat64(join(dir, 'y.bin'));
        const s = readFloat64(join(dir, 's.bin'));
        const w = await fitWhitening(big, { k });
        for (let j = 0; j < k; j++) expect(Math.abs(w.eigenvalues[j] / s[j] - 1)).toBeLessThan(1e-9);
        const out = await applyWhitening(big, w, { normalize: false });
        // SVD signs are arbitrary: align each column by its sign, then compare.
        for (let j = 0; j < k; j++) {
          let dot = 0;
          for (let r2 = 0; r2 < big.rows; r2++) dot += out.data[r2 * k + j] * ref[r2 * k + j];
          const sign = Math.sign(dot);
          let err = 0;
          for (let r2 = 0; r2 < big.rows; r2++)
            err = Math.max(err, Math.abs(out.data[r2 * k + j] - sign * ref[r2 * k + j]));
          expect(err).toBeLessThan(1e-4);
        }
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  );
});
