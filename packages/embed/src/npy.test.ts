import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeNpyFloat32, encodeNpyFloat32 } from './npy.js';

describe('npy float32', () => {
  it('writes a NumPy 1.0 header padded to 64 bytes and little-endian data', () => {
    const bytes = encodeNpyFloat32(Float32Array.from([1, -2.5, 3, 4, 5, 6]), [2, 3]);
    expect(Array.from(bytes.subarray(0, 8))).toEqual([0x93, 78, 85, 77, 80, 89, 1, 0]);
    const headerLen = (bytes[8] as number) | ((bytes[9] as number) << 8);
    expect((10 + headerLen) % 64).toBe(0);
    const header = new TextDecoder().decode(bytes.subarray(10, 10 + headerLen));
    expect(header.startsWith("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }")).toBe(true);
    expect(header.endsWith('\n')).toBe(true);
    const dv = new DataView(bytes.buffer, bytes.byteOffset + 10 + headerLen);
    expect(dv.getFloat32(4, true)).toBe(-2.5);
  });

  it('round-trips, including 1-d and empty arrays', () => {
    const a = Float32Array.from({ length: 12 }, (_, i) => i * 0.25 - 1);
    expect(decodeNpyFloat32(encodeNpyFloat32(a, [3, 4]))).toEqual({ shape: [3, 4], data: a });
    expect(decodeNpyFloat32(encodeNpyFloat32(a, [12])).shape).toEqual([12]);
    expect(decodeNpyFloat32(encodeNpyFloat32(new Float32Array(0), [0, 384])).shape).toEqual([0, 384]);
  });

  it('rejects a shape that does not match the data, and truncated files', () => {
    expect(() => encodeNpyFloat32(new Float32Array(5), [2, 3])).toThrow(
      /array has 5 elements but shape \(2, 3\)/,
    );
    const bytes = encodeNpyFloat32(new Float32Array(6), [2, 3]);
    expect(() => decodeNpyFloat32(bytes.subarray(0, bytes.length - 4))).toThrow(/needs 24/);
  });

  it('reads a file written by NumPy when a Python with numpy is available', async () => {
    const { spawnSync } = await import('node:child_process');
    const dir = mkdtempSync(join(tmpdir(), 'promax-npy-'));
    try {
      const file = join(dir, 'x.npy');
      const py = spawnSync('python3', [
        '-c',
        `import numpy as np; np.save(${JSON.stringify(file)}, (np.arange(6, dtype='<f4') * 0.5).reshape(2, 3))`,
      ]);
      if (py.status !== 0) {
        console.log('skipping NumPy interop check: python3 with numpy is not available');
        return;
      }
      const npy = decodeNpyFloat32(new Uint8Array(readFileSync(file)));
      expect(npy.shape).toEqual([2, 3]);
      expect(Array.from(npy.data)).toEqual([0, 0.5, 1, 1.5, 2, 2.5]);
      // and NumPy reads ours byte-identically
      const ours = encodeNpyFloat32(npy.data, [2, 3]);
      expect(Buffer.from(ours).equals(readFileSync(file))).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
