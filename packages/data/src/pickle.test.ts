import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type CsrMatrix, type NdArray, PromaxError } from '@promax/core';
import { afterAll, describe, expect, it } from 'vitest';
import { locateData } from './data-dir.js';
import { PickleBuilder, pythonUnavailable, runPython, tempDir } from './fixtures.test-util.js';
import { loadEmbeddings, readSparseMatrix } from './loaders.js';
import { type PickledArray, type PickledSparse, parsePickle, readPickle } from './pickle.js';

function failure(fn: () => unknown): PromaxError {
  try {
    fn();
  } catch (e) {
    if (PromaxError.isInstance(e)) return e;
    throw e;
  }
  throw new Error('expected a PromaxError');
}

const f32bytes = (v: number[]): Uint8Array => new Uint8Array(Float32Array.from(v).buffer);
const i32bytes = (v: number[]): Uint8Array => new Uint8Array(Int32Array.from(v).buffer);
const sameCsr = (a: CsrMatrix, b: CsrMatrix): void => {
  expect([a.rows, a.cols]).toEqual([b.rows, b.cols]);
  expect(
    Buffer.from(a.indptr.buffer, a.indptr.byteOffset, a.indptr.byteLength).equals(
      Buffer.from(b.indptr.buffer, b.indptr.byteOffset, b.indptr.byteLength),
    ),
  ).toBe(true);
  expect(a.indices.length).toBe(b.indices.length);
  expect(
    Buffer.from(a.indices.buffer, a.indices.byteOffset, a.indices.byteLength).equals(
      Buffer.from(b.indices.buffer, b.indices.byteOffset, b.indices.byteLength),
    ),
  ).toBe(true);
};

describe('restricted pickle reader: hand-made pickles', () => {
  it('rebuilds an ndarray from _reconstruct + BUILD (bool or int dtype flags, any byte order)', () => {
    for (const intFlags of [false, true]) {
      const bytes = new PickleBuilder()
        .proto(4)
        .ndarray(f32bytes([1, 2, 3, 4, 5, 6]), [2, 3], 'f4', '<', false, intFlags)
        .stop()
        .toBytes();
      const v = parsePickle(bytes) as PickledArray;
      expect(v.kind).toBe('ndarray');
      expect(v.array.shape).toEqual([2, 3]);
      expect(Array.from(v.array.data as Float32Array)).toEqual([1, 2, 3, 4, 5, 6]);
    }
    const be = new Uint8Array([0, 0, 0, 1, 0, 0, 0, 2]); // big-endian int32 1, 2
    const v = parsePickle(
      new PickleBuilder().proto(2).ndarray(be, [2], 'i4', '>').stop().toBytes(),
    ) as PickledArray;
    expect(Array.from(v.array.data as Int32Array)).toEqual([1, 2]);
    const f = parsePickle(
      new PickleBuilder()
        .proto(3)
        .ndarray(i32bytes([1, 4, 2, 5, 3, 6]), [2, 3], 'i4', '<', true)
        .stop()
        .toBytes(),
    ) as PickledArray;
    expect(Array.from(f.array.data as Int32Array)).toEqual([1, 2, 3, 4, 5, 6]); // Fortran → C
  });

  it('rebuilds a scipy csr_matrix from NEWOBJ + BUILD state dict', () => {
    const b = new PickleBuilder()
      .proto(4)
      .stackGlobal('scipy.sparse._csr', 'csr_matrix')
      .emptyTuple()
      .newobj()
      .emptyDict()
      .mark();
    b.str('_shape').int(2).int(3).tupleN(2);
    b.str('data').ndarray(new Uint8Array(new Float64Array([1, 2, 1]).buffer), [3], 'f8');
    b.str('indices').ndarray(i32bytes([2, 0, 1]), [3], 'i4');
    b.str('indptr').ndarray(i32bytes([0, 2, 3]), [3], 'i4');
    b.setitems().build().stop();
    const v = parsePickle(b.toBytes()) as PickledSparse;
    expect(v).toMatchObject({
      kind: 'sparse',
      format: 'csr',
      className: 'scipy.sparse._csr.csr_matrix',
      shape: [2, 3],
    });
    expect(Array.from((v.indices as NdArray).data as Int32Array)).toEqual([2, 0, 1]);
  });

  it('refuses any other global with UNSAFE_PICKLE naming it, and runs nothing', () => {
    const tmp = tempDir();
    const marker = join(tmp.dir, 'pwned');
    try {
      // pickle.loads of this would run os.system('touch <marker>')
      const evil = new PickleBuilder()
        .proto(2)
        .global('os', 'system')
        .str(`touch ${marker}`)
        .tupleN(1)
        .reduce()
        .stop()
        .toBytes();
      const e = failure(() => parsePickle(evil, 'evil.pkl'));
      expect(e.code).toBe('UNSAFE_PICKLE');
      expect(e.message).toMatch(
        /'os\.system'.*only numpy arrays and scipy\.sparse coo\/csr matrices are accepted/,
      );
      expect(e.message).toMatch(/evil\.pkl/);
      expect(e.file).toBe('evil.pkl');
      expect(existsSync(marker)).toBe(false);
      const e2 = failure(() =>
        parsePickle(new PickleBuilder().proto(4).stackGlobal('builtins', 'eval').stop().toBytes()),
      );
      expect([e2.code, e2.details?.global]).toEqual(['UNSAFE_PICKLE', 'builtins.eval']);
      // a look-alike of an allowed module is still refused
      const e3 = failure(() =>
        parsePickle(new PickleBuilder().proto(4).stackGlobal('numpy', 'load').stop().toBytes()),
      );
      expect(e3.details?.global).toBe('numpy.load');
      // extension codes and persistent ids name objects indirectly
      expect(failure(() => parsePickle(new PickleBuilder().proto(2).op(0x82, 1).stop().toBytes())).code).toBe(
        'UNSAFE_PICKLE',
      );
      expect(
        failure(() => parsePickle(new PickleBuilder().proto(2).str('x').op(0x51).stop().toBytes())).code,
      ).toBe('UNSAFE_PICKLE');
    } finally {
      tmp.cleanup();
    }
  });

  it('gives INVALID_FILE naming the file for truncated or garbage input', () => {
    const good = new PickleBuilder()
      .proto(4)
      .ndarray(f32bytes([1, 2]), [2], 'f4')
      .stop()
      .toBytes();
    for (const cut of [1, 10, good.length - 20, good.length - 1]) {
      const e = failure(() => parsePickle(good.subarray(0, cut), 'cut.pkl'));
      expect(e.code).toBe('INVALID_FILE');
      expect(e.message).toMatch(/cut\.pkl/);
    }
    const e = failure(() => parsePickle(new PickleBuilder().proto(4).op(0xff).toBytes(), 'junk.pkl'));
    expect(e.message).toMatch(/unknown pickle opcode 0xff/);
    const deep = new Uint8Array(2 + 1 + 200_000 + 1).fill(0x85); // ((((None,),),)…) 200k deep
    deep.set([0x80, 4, 0x4e]);
    deep[deep.length - 1] = 0x2e;
    expect(failure(() => parsePickle(deep, 'deep.pkl')).message).toMatch(/nests too deeply/);
    const shapeLie = new PickleBuilder()
      .proto(4)
      .ndarray(f32bytes([1, 2]), [5], 'f4')
      .stop()
      .toBytes();
    expect(failure(() => parsePickle(shapeLie, 's.pkl')).message).toMatch(/needs 20 bytes, found 8/);
  });
});

const raw = locateData('prorec_raw');
const amazon = locateData('amazon_book');
describe('restricted pickle reader: ProRec fixtures', () => {
  if (!raw.path || !amazon.path)
    console.warn(`skipping ProRec pickle fixtures: ${raw.reason ?? amazon.reason}`);
  const skip = !raw.path || !amazon.path;
  it.skipIf(skip)(
    'trn_mat.pkl (coo) and new_trn_rag_mat.pkl (csr, int dtype flags) decode to exactly the npz splits',
    () => {
      const dir = raw.path as string;
      const trn = readSparseMatrix(join(dir, 'amazon', 'trn_mat.pkl'));
      expect(trn.report).toMatchObject({
        format: 'coo',
        sourceDtype: 'float64',
        stored: 120464,
        duplicates: 0,
      });
      sameCsr(trn.matrix, readSparseMatrix(join(amazon.path as string, 'trn_mat.npz')).matrix);
      const aug = readSparseMatrix(join(dir, 'amazon', 'new_trn_rag_mat.pkl'));
      expect(aug.report).toMatchObject({ format: 'csr', stored: 144663 });
      sameCsr(aug.matrix, readSparseMatrix(join(amazon.path as string, 'aug_trn_mat.npz')).matrix);
      const v = readPickle(join(dir, 'amazon', 'trn_mat.pkl')) as PickledSparse;
      expect(v.className).toBe('scipy.sparse._coo.coo_matrix');
      expect(v.shape).toEqual([11000, 9332]);
    },
  );

  it.skipIf(!raw.path)('both embedding pickles give the expected (5, 8) float32 values', () => {
    const dir = raw.path as string;
    const meta = JSON.parse(readFileSync(join(dir, 'sample_emb_np.json'), 'utf8')) as { values: number[][] };
    for (const f of ['sample_emb_np.pkl', 'sample_emb_np_np1.pkl']) {
      const m = loadEmbeddings(join(dir, f));
      expect([m.rows, m.cols]).toEqual([5, 8]);
      expect(Array.from(m.data)).toEqual(meta.values.flat());
      expect(m.data[8 * 4 + 7]).toBe(4.75);
    }
  });

  it.skipIf(!raw.path)('a truncated real pickle is INVALID_FILE naming the file', () => {
    const tmp = tempDir();
    try {
      const p = join(tmp.dir, 'trn_mat.pkl');
      writeFileSync(p, readFileSync(join(raw.path as string, 'amazon', 'trn_mat.pkl')).subarray(0, 500_000));
      const e = failure(() => readSparseMatrix(p));
      expect(e.code).toBe('INVALID_FILE');
      expect(e.file).toBe(p);
      const g = join(tmp.dir, 'garbage.pkl');
      writeFileSync(
        g,
        Uint8Array.from({ length: 300 }, (_, i) => (i * 37 + 11) % 256),
      );
      const e2 = failure(() => readSparseMatrix(g));
      expect([e2.code, e2.file]).toEqual(['INVALID_FILE', g]);
    } finally {
      tmp.cleanup();
    }
  });
});

describe('restricted pickle reader vs Python pickle', () => {
  const reason = pythonUnavailable();
  if (reason) console.warn(`skipping Python pickle cross-checks: ${reason}`);
  const tmp = tempDir();
  afterAll(tmp.cleanup);
  it.skipIf(reason)('reads numpy arrays and scipy coo/csr matrices/arrays pickled with protocols 2–5', () => {
    runPython(
      `
import sys, pickle, numpy as np, scipy.sparse as sp
d = sys.argv[1]
a = (np.arange(12).reshape(3, 4) * 0.5 - 1).astype('<f4')
objs = {
  'f4': a, 'f8be': a.astype('>f8'), 'i8F': np.asfortranarray(np.arange(12).reshape(3, 4).astype('i8')),
  'b1': np.array([True, False, True]), 'u1': np.arange(5, dtype='u1'),
  'coo': sp.coo_matrix(([1.0, 2.0, 1.0], ([0, 2, 2], [1, 0, 0])), shape=(3, 4)),
  'csr': sp.csr_matrix(np.eye(3, 4)), 'csr_array': sp.csr_array(np.eye(3, 4)), 'coo_array': sp.coo_array(np.eye(3, 4)),
}
for p in (2, 3, 4, 5):
    for k, o in objs.items():
        with open(f'{d}/{k}-{p}.pkl', 'wb') as f:
            pickle.dump(o, f, protocol=p)
class Evil:
    def __reduce__(self):
        import os
        return (os.system, ('touch ' + d + '/pwned',))
with open(f'{d}/evil.pkl', 'wb') as f:
    pickle.dump({'x': [1, Evil()]}, f, protocol=4)
`,
      [tmp.dir],
    );
    for (const p of [2, 3, 4, 5]) {
      const at = (k: string): string => join(tmp.dir, `${k}-${p}.pkl`);
      const f4 = loadEmbeddings(at('f4'));
      expect(Array.from(f4.data), `protocol ${p}`).toEqual(Array.from({ length: 12 }, (_, i) => i * 0.5 - 1));
      expect(Array.from(loadEmbeddings(at('f8be')).data)).toEqual(Array.from(f4.data));
      const i8 = readPickle(at('i8F')) as PickledArray;
      expect(i8.array.dtype).toBe('int64');
      expect(Array.from(i8.array.data as BigInt64Array, Number)).toEqual(
        Array.from({ length: 12 }, (_, i) => i),
      );
      expect(Array.from((readPickle(at('b1')) as PickledArray).array.data as Uint8Array)).toEqual([1, 0, 1]);
      expect(Array.from((readPickle(at('u1')) as PickledArray).array.data as Uint8Array)).toEqual([
        0, 1, 2, 3, 4,
      ]);
      const coo = readSparseMatrix(at('coo'), { binarize: false });
      expect(Array.from(coo.matrix.indptr)).toEqual([0, 1, 1, 2]);
      expect(Array.from(coo.matrix.data as Float32Array)).toEqual([1, 3]); // duplicates at (2,0) summed
      expect(coo.report.duplicates).toBe(1);
      for (const k of ['csr', 'csr_array', 'coo_array']) {
        const m = readSparseMatrix(at(k));
        expect(Array.from(m.matrix.indices), `${k} protocol ${p}`).toEqual([0, 1, 2]);
      }
    }
    const e = failure(() => readPickle(join(tmp.dir, 'evil.pkl')));
    expect(e.code).toBe('UNSAFE_PICKLE');
    expect(e.message).toMatch(/'posix\.system'|'os\.system'|'nt\.system'/);
    expect(existsSync(join(tmp.dir, 'pwned'))).toBe(false);
  });
});
