import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type CsrMatrix, csrNnz, type NdArray, type PromaxError } from '@promax/core';
import { afterAll, describe, expect, it } from 'vitest';
import { locateData } from './data-dir.js';
import { pythonUnavailable, runPython, tempDir } from './fixtures.test-util.js';
import { readSparseMatrix } from './loaders.js';
import { encodeNpz, parseNpz, readNpz } from './npz.js';
import { encodeScipyCsrNpz, scipySparsePartsFromNpz, sparsePartsToCsr } from './scipy-sparse.js';

const dense = (m: CsrMatrix): number[][] => {
  const out = Array.from({ length: m.rows }, () => new Array<number>(m.cols).fill(0));
  for (let r = 0; r < m.rows; r++) {
    for (let k = m.indptr[r]; k < m.indptr[r + 1]; k++) out[r][m.indices[k]] = m.data ? m.data[k] : 1;
  }
  return out;
};
const i32 = (a: number[]): NdArray => ({ dtype: 'int32', shape: [a.length], data: Int32Array.from(a) });
const f64 = (a: number[]): NdArray => ({ dtype: 'float64', shape: [a.length], data: Float64Array.from(a) });

describe('.npz archives', () => {
  it('round-trip several arrays, compressed or stored, keeping order', () => {
    const arrays = new Map([
      ['x', f64([1, 2, 3])],
      ['y', i32([7])],
    ]);
    for (const compress of [true, false]) {
      const back = parseNpz(encodeNpz(arrays, { compress }));
      expect([...back.keys()]).toEqual(['x', 'y']);
      expect(Array.from((back.get('x') as NdArray).data as Float64Array)).toEqual([1, 2, 3]);
    }
  });
});

describe('scipy.sparse npz → CSR', () => {
  it('canonicalises coo with duplicates and zeros, summing like SciPy before binarising', () => {
    const parts = {
      format: 'coo' as const,
      shape: [3, 4] as const,
      row: i32([2, 0, 0, 2, 1, 0]),
      col: i32([1, 3, 1, 1, 0, 3]),
      data: f64([1, 2, 1, 1, 0, -2]),
    };
    const valued = sparsePartsToCsr(parts, 'mem', { binarize: false });
    // (0,3): 2 + -2 = 0 → dropped; (2,1): 1+1 = 2; (1,0) stored zero → dropped
    expect(dense(valued.matrix)).toEqual([
      [0, 1, 0, 0],
      [0, 0, 0, 0],
      [0, 2, 0, 0],
    ]);
    expect(valued.report).toMatchObject({
      stored: 6,
      duplicates: 2,
      zerosDropped: 2,
      nonBinary: 1,
      format: 'coo',
    });
    const bin = sparsePartsToCsr(parts, 'mem');
    expect(bin.matrix.data).toBeUndefined();
    expect(Array.from(bin.matrix.indptr)).toEqual([0, 1, 1, 2]);
    expect(Array.from(bin.matrix.indices)).toEqual([1, 1]);
  });

  it('sorts unsorted csr rows and reads csc', () => {
    const csr = sparsePartsToCsr(
      {
        format: 'csr',
        shape: [2, 3],
        indptr: i32([0, 3, 4]),
        indices: i32([2, 0, 1, 1]),
        data: f64([1, 1, 1, 1]),
      },
      'mem',
    );
    expect(Array.from(csr.matrix.indices)).toEqual([0, 1, 2, 1]);
    const csc = sparsePartsToCsr(
      // 2×3 matrix [[1,0,1],[0,1,0]] stored by column
      {
        format: 'csc',
        shape: [2, 3],
        indptr: i32([0, 1, 2, 3]),
        indices: i32([0, 1, 0]),
        data: f64([1, 1, 1]),
      },
      'mem',
    );
    expect(dense(csc.matrix)).toEqual([
      [1, 0, 1],
      [0, 1, 0],
    ]);
  });

  it('refuses out-of-range ids and broken indptr, naming the file', () => {
    const err = (fn: () => unknown): PromaxError => {
      try {
        fn();
      } catch (e) {
        return e as PromaxError;
      }
      throw new Error('expected an error');
    };
    const e1 = err(() =>
      sparsePartsToCsr(
        { format: 'coo', shape: [2, 2], row: i32([0, 5]), col: i32([0, 1]), data: f64([1, 1]) },
        'bad.npz',
      ),
    );
    expect(e1.code).toBe('ID_OUT_OF_RANGE');
    expect(e1.message).toMatch(/entry 1 = \(5, 1\) lies outside the 2×2 matrix.*bad\.npz/);
    const e2 = err(() =>
      sparsePartsToCsr(
        { format: 'csr', shape: [2, 2], indptr: i32([0, 2, 1]), indices: i32([0, 1]), data: f64([1, 1]) },
        'bad.npz',
      ),
    );
    expect(e2.code).toBe('INVALID_FILE');
    expect(e2.message).toMatch(/indptr decreases at row 1/);
    const e3 = err(() =>
      scipySparsePartsFromNpz(new Map([['format', { dtype: 'bytes', shape: [], data: ['dia'] }]]), 'dia.npz'),
    );
    expect(e3.code).toBe('UNSUPPORTED_FORMAT');
  });

  it('writes the layout scipy.sparse.save_npz uses and reads it back', () => {
    const m: CsrMatrix = {
      rows: 3,
      cols: 5,
      indptr: Int32Array.from([0, 2, 2, 3]),
      indices: Int32Array.from([1, 4, 0]),
    };
    const arrays = parseNpz(encodeScipyCsrNpz(m));
    expect([...arrays.keys()]).toEqual(['indices', 'indptr', 'format', 'shape', 'data']);
    expect(arrays.get('format')).toEqual({ dtype: 'bytes', shape: [], data: ['csr'] });
    const back = sparsePartsToCsr(scipySparsePartsFromNpz(arrays, 'mem'), 'mem');
    expect(back.matrix).toEqual({ ...m, data: undefined });
  });

  const amazon = locateData('amazon_book');
  if (!amazon.path) console.warn(`skipping amazon_book npz tests: ${amazon.reason}`);
  it.skipIf(!amazon.path)('reads the amazon_book splits with the README counts, fast', () => {
    const dir = amazon.path as string;
    const t0 = performance.now();
    const got = ['trn_mat', 'val_mat', 'tst_mat', 'aug_trn_mat'].map((f) =>
      readSparseMatrix(join(dir, `${f}.npz`)),
    );
    const ms = performance.now() - t0;
    expect(got.map((g) => csrNnz(g.matrix))).toEqual([120464, 40290, 40106, 144663]);
    for (const g of got) {
      expect([g.matrix.rows, g.matrix.cols]).toEqual([11000, 9332]);
      expect(g.report).toMatchObject({ format: 'csr', sourceDtype: 'float32', duplicates: 0, nonBinary: 0 });
      expect(g.matrix.data).toBeUndefined();
    }
    expect(ms).toBeLessThan(1000);
    const raw = readNpz(join(dir, 'trn_mat.npz'));
    expect((raw.get('shape') as NdArray).dtype).toBe('int64');
    expect(Array.from((raw.get('indptr') as NdArray).data as Int32Array).slice(0, 5)).toEqual([
      0, 3, 31, 52, 78,
    ]);
  });

  describe('interoperates with SciPy', () => {
    const reason = pythonUnavailable();
    if (reason) console.warn(`skipping SciPy cross-checks: ${reason}`);
    const tmp = tempDir();
    afterAll(tmp.cleanup);
    it.skipIf(reason)(
      'scipy.sparse.load_npz reads our CSR (compressed and stored); we read csr/csc/coo SciPy writes',
      () => {
        const m: CsrMatrix = {
          rows: 4,
          cols: 6,
          indptr: Int32Array.from([0, 2, 2, 5, 6]),
          indices: Int32Array.from([0, 5, 1, 2, 3, 4]),
          data: Float32Array.from([1, 2.5, 1, 1, -3, 1]),
        };
        writeFileSync(join(tmp.dir, 'ours_c.npz'), encodeScipyCsrNpz(m));
        writeFileSync(
          join(tmp.dir, 'ours_s.npz'),
          encodeScipyCsrNpz({ ...m, data: undefined }, { compress: false }),
        );
        const out = runPython(
          `
import sys, json, numpy as np, scipy.sparse as sp
d = sys.argv[1]
res = {}
for name in ['ours_c', 'ours_s']:
    m = sp.load_npz(f'{d}/{name}.npz')
    res[name] = [m.format, list(m.shape), m.toarray().tolist()]
rng = np.random.default_rng(0)
a = sp.random(30, 20, density=0.2, format='coo', random_state=1)
a = sp.coo_matrix((np.r_[a.data, [1.0, 1.0]], (np.r_[a.row, [3, 3]], np.r_[a.col, [4, 4]])), shape=(30, 20))
sp.save_npz(f'{d}/coo.npz', a)
sp.save_npz(f'{d}/csc.npz', a.tocsc(), compressed=False)
sp.save_npz(f'{d}/csr.npz', a.tocsr())
res['dense'] = a.toarray().tolist()
print(json.dumps(res))
`,
          [tmp.dir],
        );
        const res = JSON.parse(out) as Record<string, unknown[]>;
        expect(res.ours_c).toEqual(['csr', [4, 6], dense(m)]);
        expect(res.ours_s[2]).toEqual(dense({ ...m, data: undefined }));
        const want = (res.dense as number[][]).map((row) => row.map((v) => Math.fround(v)));
        for (const f of ['coo', 'csc', 'csr']) {
          const got = readSparseMatrix(join(tmp.dir, `${f}.npz`), { binarize: false });
          expect(got.report.format).toBe(f);
          expect(dense(got.matrix)).toEqual(want);
          if (f === 'coo') expect(got.report.duplicates).toBeGreaterThanOrEqual(1);
        }
        expect(readFileSync(join(tmp.dir, 'csc.npz'))[8]).toBe(0); // stored (method 0) member
      },
    );
  });
});
