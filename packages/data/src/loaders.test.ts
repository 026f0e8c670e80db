import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PromaxError } from '@promax/core';
import { afterAll, describe, expect, it } from 'vitest';
import { tempDir } from './fixtures.test-util.js';
import { loadEmbeddings, loadSparseMatrix, readSparseMatrix, saveEmbeddings } from './loaders.js';
import { encodeNpy } from './npy.js';
import { encodeNpz } from './npz.js';
import { saveSparseMatrix } from './scipy-sparse.js';

function failure(fn: () => unknown): PromaxError {
  try {
    fn();
  } catch (e) {
    if (PromaxError.isInstance(e)) return e;
    throw e;
  }
  throw new Error('expected a PromaxError');
}

describe('readSparseMatrix / loadSparseMatrix / loadEmbeddings', () => {
  const tmp = tempDir();
  afterAll(tmp.cleanup);
  const at = (f: string): string => join(tmp.dir, f);

  it('reads a dense 0/1 (or counts) .npy as binary CSR', () => {
    writeFileSync(
      at('dense.npy'),
      encodeNpy({ dtype: 'uint8', shape: [2, 3], data: Uint8Array.from([0, 1, 2, 1, 0, 0]) }),
    );
    const { matrix, report } = readSparseMatrix(at('dense.npy'));
    expect(Array.from(matrix.indptr)).toEqual([0, 2, 3]);
    expect(Array.from(matrix.indices)).toEqual([1, 2, 0]);
    expect(matrix.data).toBeUndefined();
    expect(report).toMatchObject({ format: 'dense', nonBinary: 1, binarized: true });
    const kept = readSparseMatrix(at('dense.npy'), { binarize: false });
    expect(Array.from(kept.matrix.data as Float32Array)).toEqual([1, 2, 1]);
  });

  it('round-trips a CSR through saveSparseMatrix', () => {
    const m = {
      rows: 3,
      cols: 4,
      indptr: Int32Array.from([0, 1, 1, 3]),
      indices: Int32Array.from([3, 0, 2]),
    };
    saveSparseMatrix(at('m.npz'), m);
    expect(readSparseMatrix(at('m.npz')).matrix).toEqual({ ...m, data: undefined });
    expect(loadSparseMatrix(at('m.npz'))).toEqual({ ...m, data: undefined }); // the CSR alone
  });

  it('reads embeddings from .npy, single-array .npz and by key; float64 → float32', () => {
    const data = Float64Array.from({ length: 6 }, (_, i) => i / 4);
    writeFileSync(at('e.npy'), encodeNpy({ dtype: 'float64', shape: [3, 2], data }));
    writeFileSync(at('e.npz'), encodeNpz({ emb: { dtype: 'float64', shape: [3, 2], data } }));
    writeFileSync(
      at('two.npz'),
      encodeNpz({
        a: { dtype: 'float32', shape: [1, 1], data: Float32Array.of(1) },
        b: { dtype: 'float64', shape: [3, 2], data },
      }),
    );
    for (const m of [
      loadEmbeddings(at('e.npy')),
      loadEmbeddings(at('e.npz')),
      loadEmbeddings(at('two.npz'), { key: 'b' }),
    ]) {
      expect(m.rows).toBe(3);
      expect(m.cols).toBe(2);
      expect(m.data).toBeInstanceOf(Float32Array);
      expect(Array.from(m.data)).toEqual([0, 0.25, 0.5, 0.75, 1, 1.25]);
    }
    const e = failure(() => loadEmbeddings(at('two.npz')));
    expect(e.code).toBe('INVALID_ARGUMENT');
    expect(e.message).toMatch(/2 arrays in the npz \(keys: a, b\)/);
    saveEmbeddings(at('s.npy'), loadEmbeddings(at('e.npy')));
    expect(Array.from(loadEmbeddings(at('s.npy')).data)).toEqual([0, 0.25, 0.5, 0.75, 1, 1.25]);
  });

  it('refuses NaN/Inf embeddings with NON_FINITE naming the file, row and column', () => {
    const data = new Float32Array(16);
    data[2 * 4 + 1] = Number.NaN;
    data[3 * 4 + 3] = Number.POSITIVE_INFINITY;
    writeFileSync(at('nan.npy'), encodeNpy({ dtype: 'float32', shape: [4, 4], data }));
    const e = failure(() => loadEmbeddings(at('nan.npy')));
    expect(e.code).toBe('NON_FINITE');
    expect(e.message).toMatch(/2 non-finite values; the first is NaN at row 2, column 1/);
    expect(e.file).toBe(at('nan.npy'));
    expect(e.details).toEqual({ row: 2, col: 1, count: 2 });
  });

  it('refuses 1-D embeddings, unknown formats and missing files clearly', () => {
    writeFileSync(at('v.npy'), encodeNpy({ dtype: 'float32', shape: [4], data: new Float32Array(4) }));
    expect(failure(() => loadEmbeddings(at('v.npy'))).message).toMatch(
      /expected a 2-D numeric embedding array, found float32 of shape \(4\)/,
    );
    writeFileSync(at('x.bin'), 'hello');
    expect(failure(() => readSparseMatrix(at('x.bin'))).code).toBe('UNSUPPORTED_FORMAT');
    const nf = failure(() => readSparseMatrix(at('nope.npz')));
    expect([nf.code, nf.file]).toEqual(['FILE_NOT_FOUND', at('nope.npz')]);
    writeFileSync(at('bad.npz'), 'PK not really');
    const bad = failure(() => readSparseMatrix(at('bad.npz')));
    expect([bad.code, bad.file]).toEqual(['INVALID_FILE', at('bad.npz')]);
  });
});
