import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type DType, type NdArray, PromaxError } from '@promax/core';
import { afterAll, describe, expect, it } from 'vitest';
import type { NpyArray } from './dtype.js';
import { pythonUnavailable, runPython, tempDir } from './fixtures.test-util.js';
import { encodeNpy, parseNpy, parseNpyHeader } from './npy.js';

function code(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    if (PromaxError.isInstance(e)) return `${e.code}: ${e.message}`;
    throw e;
  }
  return 'no error';
}

const samples: NdArray[] = [
  { dtype: 'float32', shape: [2, 3], data: Float32Array.from([1.5, -2, 3.25, 0, 1e-8, -1e30]) },
  { dtype: 'float64', shape: [4], data: Float64Array.from([Math.PI, -0, 1e300, -7]) },
  { dtype: 'int32', shape: [2, 2, 2], data: Int32Array.from([1, -2, 3, -4, 2147483647, -2147483648, 0, 9]) },
  { dtype: 'int64', shape: [3], data: BigInt64Array.from([1n, -(2n ** 40n), 2n ** 62n]) },
  { dtype: 'bool', shape: [3], data: Uint8Array.from([1, 0, 1]) },
  { dtype: 'uint8', shape: [2], data: Uint8Array.from([0, 255]) },
  { dtype: 'int8', shape: [2], data: Int8Array.from([-128, 127]) },
  { dtype: 'int16', shape: [2], data: Int16Array.from([-30000, 30000]) },
  { dtype: 'uint16', shape: [1, 2], data: Uint16Array.from([1, 65535]) },
  { dtype: 'uint32', shape: [2], data: Uint32Array.from([0, 4294967295]) },
  { dtype: 'float64', shape: [], data: Float64Array.from([42]) },
  { dtype: 'float32', shape: [0, 5], data: new Float32Array(0) },
];

describe('.npy', () => {
  for (const a of samples) {
    for (const byteOrder of ['<', '>'] as const) {
      it(`round-trips ${a.dtype} ${JSON.stringify(a.shape)} ${byteOrder}`, () => {
        const bytes = encodeNpy(a, { byteOrder });
        const h = parseNpyHeader(bytes);
        expect(h.dataOffset % 64).toBe(0); // NumPy aligns data to 64 bytes
        expect(h.shape).toEqual(a.shape);
        const back = parseNpy(bytes) as NdArray;
        expect(back.dtype).toBe(a.dtype);
        expect(back.shape).toEqual(a.shape);
        expect(Array.from(back.data as ArrayLike<number | bigint>)).toEqual(
          Array.from(a.data as ArrayLike<number | bigint>),
        );
      });
    }
  }

  it('writes versions 2 and 3 and strings', () => {
    for (const version of [2, 3] as const) {
      const bytes = encodeNpy(samples[0], { version });
      expect(bytes[6]).toBe(version);
      expect(Array.from((parseNpy(bytes) as NdArray).data as Float32Array)).toEqual(
        Array.from(samples[0].data as Float32Array),
      );
    }
    const s: NpyArray = { dtype: 'unicode', shape: [2], data: ['héllo', 'x'] };
    expect(parseNpy(encodeNpy(s))).toEqual(s);
    const b: NpyArray = { dtype: 'bytes', shape: [], data: ['csr'] };
    expect(parseNpy(encodeNpy(b))).toEqual(b);
  });

  it('converts Fortran order to C order', () => {
    // hand-made header: a 2×3 int32 matrix [[1,2,3],[4,5,6]] stored column-major
    const header = "{'descr': '<i4', 'fortran_order': True, 'shape': (2, 3), }";
    const pad = 64 - ((10 + header.length + 1) % 64);
    const text = `${header}${' '.repeat(pad)}\n`;
    const bytes = new Uint8Array(10 + text.length + 24);
    bytes.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0, text.length & 0xff, text.length >> 8]);
    for (let i = 0; i < text.length; i++) bytes[10 + i] = text.charCodeAt(i);
    new Int32Array(bytes.buffer, 10 + text.length, 6).set([1, 4, 2, 5, 3, 6]);
    const a = parseNpy(bytes) as NdArray;
    expect(Array.from(a.data as Int32Array)).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it('refuses bad files with the file named', () => {
    expect(code(() => parseNpy(new TextEncoder().encode('not numpy at all'), 'x.npy'))).toMatch(
      /^INVALID_FILE: .*magic.*file x\.npy/,
    );
    const good = encodeNpy(samples[0]);
    expect(code(() => parseNpy(good.subarray(0, good.length - 4), 'cut.npy'))).toMatch(
      /^INVALID_FILE: array data truncated.*needs 24 bytes, found 20.*cut\.npy/,
    );
    expect(code(() => parseNpy(good.subarray(0, 20), 'cut.npy'))).toMatch(
      /^INVALID_FILE: truncated \.npy header/,
    );
    const v9 = good.slice();
    v9[6] = 9;
    expect(code(() => parseNpy(v9, 'v9.npy'))).toMatch(/^UNSUPPORTED_FORMAT: \.npy format version 9/);
    const obj = good.slice();
    const at = new TextDecoder('latin1').decode(obj).indexOf('<f4');
    obj.set([0x7c, 0x4f, 0x38], at); // '|O8'
    expect(code(() => parseNpy(obj, 'o.npy'))).toMatch(
      /^UNSUPPORTED_FORMAT: NumPy dtype '\|O8'.*object arrays/,
    );
  });

  describe('interoperates with NumPy', () => {
    const reason = pythonUnavailable();
    if (reason) console.warn(`skipping NumPy .npy cross-checks: ${reason}`);
    const tmp = tempDir();
    afterAll(tmp.cleanup);
    it.skipIf(reason)(
      'reads every dtype, byte order, memory order and version NumPy writes; NumPy reads ours',
      () => {
        const specs: [string, DType, string][] = [
          ['<f4', 'float32', 'C'],
          ['>f8', 'float64', 'F'],
          ['<i4', 'int32', 'F'],
          ['>i8', 'int64', 'C'],
          ['|b1', 'bool', 'C'],
          ['|u1', 'uint8', 'F'],
          ['<i2', 'int16', 'C'],
          ['>u4', 'uint32', 'C'],
        ];
        runPython(
          `
import sys, numpy as np
from numpy.lib import format as fmt
d = sys.argv[1]
specs = [s.split(':') for s in sys.argv[2:]]
for k, (descr, order) in enumerate(specs):
    a = (np.arange(2 * 3 * 4).reshape(2, 3, 4) % 7 - 2).astype(descr)
    a = np.asfortranarray(a) if order == 'F' else np.ascontiguousarray(a)
    with open(f'{d}/a{k}.npy', 'wb') as f:
        fmt.write_array(f, a, version=(1 + k % 3, 0))
`,
          [tmp.dir, ...specs.map(([d, , o]) => `${d}:${o}`)],
        );
        specs.forEach(([descr, dtype], k) => {
          const bytes = readFileSync(join(tmp.dir, `a${k}.npy`));
          expect(parseNpyHeader(bytes).version).toBe(1 + (k % 3));
          const a = parseNpy(bytes) as NdArray;
          expect(a.dtype, descr).toBe(dtype);
          expect(a.shape).toEqual([2, 3, 4]);
          const want = Array.from({ length: 24 }, (_, i) => (i % 7) - 2);
          const got = Array.from(a.data as ArrayLike<number | bigint>, Number);
          if (dtype === 'bool') expect(got).toEqual(want.map((v) => (v !== 0 ? 1 : 0)));
          else if (dtype === 'uint8' || dtype === 'uint32')
            expect(got).toEqual(want.map((v) => (v < 0 ? v + (dtype === 'uint8' ? 256 : 2 ** 32) : v)));
          else expect(got).toEqual(want);
        });
        // and NumPy reads what we write
        samples.forEach((a, k) => {
          writeFileSync(join(tmp.dir, `ours${k}.npy`), encodeNpy(a, { byteOrder: k % 2 ? '>' : '<' }));
        });
        const out = runPython(
          `
import sys, json, numpy as np
res = []
for k in range(int(sys.argv[2])):
    a = np.load(f'{sys.argv[1]}/ours{k}.npy')
    res.append([a.dtype.name, list(a.shape), [str(int(x)) if isinstance(x, bool) else str(x) for x in a.ravel().tolist()]])
print(json.dumps(res))
`,
          [tmp.dir, String(samples.length)],
        );
        const got = JSON.parse(out) as [string, number[], string[]][];
        samples.forEach((a, k) => {
          expect(got[k][0]).toBe(a.dtype);
          expect(got[k][1]).toEqual(a.shape);
          const vals = Array.from(a.data as ArrayLike<number | bigint>);
          expect(got[k][2].map(Number)).toEqual(vals.map((v) => Number(v)));
        });
      },
    );
  });
});
