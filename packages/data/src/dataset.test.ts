import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { type CsrMatrix, csrNnz, PromaxError } from '@promax/core';
import { afterAll, describe, expect, it } from 'vitest';
import { locateData } from './data-dir.js';
import { loadDatasetDir } from './dataset.js';
import { tempDir } from './fixtures.test-util.js';
import { encodeNpy } from './npy.js';
import { encodeScipyCsrNpz } from './scipy-sparse.js';

function failure(fn: () => unknown): PromaxError {
  try {
    fn();
  } catch (e) {
    if (PromaxError.isInstance(e)) return e;
    throw e;
  }
  throw new Error('expected a PromaxError');
}

/** CSR from per-user item lists. */
const csr = (rows: number[][], cols: number): CsrMatrix => {
  const indptr = new Int32Array(rows.length + 1);
  rows.forEach((r, u) => {
    indptr[u + 1] = indptr[u] + r.length;
  });
  return { rows: rows.length, cols, indptr, indices: Int32Array.from(rows.flat()) };
};

describe('loadDatasetDir', () => {
  const tmp = tempDir();
  afterAll(tmp.cleanup);
  let n = 0;
  /** A fresh folder holding the given files (CsrMatrix → scipy npz, string → text, Uint8Array → bytes). */
  const folder = (files: Record<string, CsrMatrix | string | Uint8Array>): string => {
    const dir = join(tmp.dir, `d${n++}`);
    mkdirSync(dir);
    for (const [name, v] of Object.entries(files)) {
      writeFileSync(
        join(dir, name),
        typeof v === 'string' || v instanceof Uint8Array ? v : encodeScipyCsrNpz(v),
      );
    }
    return dir;
  };
  const train = csr([[0, 1], [2], [], [3]], 5);
  const val = csr([[2], [], [0], []], 5);
  const test = csr([[3], [0], [1], [4]], 5);
  const emb = (rows: number, fill = 0.5): Uint8Array =>
    encodeNpy({ dtype: 'float32', shape: [rows, 2], data: new Float32Array(rows * 2).fill(fill) });

  it('loads the RLMRec layout with aug, embeddings and id maps, and reports what it found', () => {
    const aug = csr([[0, 1, 4], [2], [3], []], 5); // lacks train edge (3, 3)
    const dir = folder({
      'trn_mat.npz': train,
      'val_mat.npz': val,
      'tst_mat.npz': test,
      'aug_trn_mat.npz': aug,
      'usr_emb_np.npy': emb(4),
      'itm_emb_np.npy': emb(5),
      'user_mapper.jsonl': [0, 1, 2, 3]
        .map((u) => JSON.stringify({ uid: u, reviewerID: `U${u}` }))
        .join('\n'),
    });
    const ds = loadDatasetDir(dir, { name: 'tiny' });
    expect(ds).toMatchObject({ name: 'tiny', numUsers: 4, numItems: 5, sourceDir: dir });
    expect(ds.userIds).toEqual(['U0', 'U1', 'U2', 'U3']);
    expect(ds.itemIds).toBeUndefined();
    expect([ds.userEmb?.rows, ds.itemEmb?.rows]).toEqual([4, 5]);
    expect(csrNnz(ds.train)).toBe(4);
    expect(ds.report).toMatchObject({
      layout: 'rlmrec',
      usersWithoutTrain: 1,
      usersWithoutTrainExamples: [2],
      augMissingTrain: 1,
      augNewEdges: 2,
    });
    expect(ds.report.warnings.join('\n')).toMatch(
      /augmented matrix lacks 1 train edge \(e\.g\. user 3, item 3\)/,
    );
    expect(ds.report.warnings.join('\n')).toMatch(/1 user has no train items/);
    expect(ds.report.splits.val).toMatchObject({ nnz: 2, users: 2 });
    expect(Object.keys(ds.files).sort()).toEqual([
      'aug',
      'itemEmb',
      'test',
      'train',
      'userEmb',
      'userIds',
      'val',
    ]);
    const lean = loadDatasetDir(dir, { embeddings: false, aug: false, ids: false });
    expect([lean.userEmb, lean.aug, lean.userIds]).toEqual([undefined, undefined, undefined]);
  });

  it('refuses splits of different shapes (SHAPE_MISMATCH naming both files)', () => {
    const dir = folder({ 'trn_mat.npz': train, 'tst_mat.npz': csr([[1], [], [], []], 6) });
    const e = failure(() => loadDatasetDir(dir));
    expect(e.code).toBe('SHAPE_MISMATCH');
    expect(e.message).toMatch(
      /test is 4×6 but train is 4×5 \(users × items\): .*tst_mat\.npz vs .*trn_mat\.npz/,
    );
  });

  it('refuses overlapping splits (SPLIT_OVERLAP with count and example)', () => {
    const dir = folder({
      'trn_mat.npz': train,
      'val_mat.npz': val,
      'tst_mat.npz': csr([[1, 3], [2], [], [3]], 5),
    });
    const e = failure(() => loadDatasetDir(dir));
    expect(e.code).toBe('SPLIT_OVERLAP');
    expect(e.message).toMatch(/train and test share 3 \(user, item\) pairs, e\.g\. user 0, item 1/);
    expect(e.details).toMatchObject({ count: 3, example: [0, 1] });
    expect(loadDatasetDir(dir, { checkOverlap: false }).numUsers).toBe(4);
  });

  it('refuses embeddings with the wrong row count or non-finite values', () => {
    const rows = failure(() =>
      loadDatasetDir(folder({ 'trn_mat.npz': train, 'tst_mat.npz': test, 'itm_emb_np.npy': emb(4) })),
    );
    expect(rows.code).toBe('SHAPE_MISMATCH');
    expect(rows.message).toMatch(/item embeddings have 4 rows but the dataset has 5 items/);
    const nan = failure(() =>
      loadDatasetDir(
        folder({ 'trn_mat.npz': train, 'tst_mat.npz': test, 'usr_emb_np.npy': emb(4, Number.NaN) }),
      ),
    );
    expect(nan.code).toBe('NON_FINITE');
    expect(nan.message).toMatch(/row 0, column 0.*usr_emb_np\.npy/);
  });

  it('reports a missing train split clearly, and an unknown folder', () => {
    const e = failure(() =>
      loadDatasetDir(folder({ 'val_mat.npz': val, 'tst_mat.npz': test }), { name: 'steam' }),
    );
    expect(e.code).toBe('FILE_NOT_FOUND');
    expect(e.message).toMatch(
      /dataset 'steam' has no train split: trn_mat\.npz or trn_mat\.pkl is not in .* \(found: tst_mat\.npz, val_mat\.npz\)/,
    );
    const u = failure(() => loadDatasetDir(folder({ 'notes.txt': 'hi' })));
    expect(u.code).toBe('DATASET_NOT_FOUND');
    expect(u.message).toMatch(/no dataset layout recognised .*found: notes\.txt/);
  });

  it('loads a manifest of TSV splits with one id space across files; duplicates are merged and reported', () => {
    const dir = folder({
      'dataset.json': JSON.stringify({
        name: 'books',
        train: 'train.csv',
        val: 'val.csv',
        test: 'test.csv.gz',
        read: { minRating: 4 },
      }),
      'train.csv': 'user,item,rating\nann,b1,5\nann,b1,5\nann,b2,4\ncy,b3,5\nbo,b9,2\n',
      'val.csv': 'user,item,rating\nbo,b1,5\n',
      'test.csv.gz': gzipSync('user,item,rating\ncy,b2,4\nann,b3,1\n'),
    });
    const ds = loadDatasetDir(dir);
    expect(ds.name).toBe('books');
    expect(ds.userIds).toEqual(['ann', 'bo', 'cy']);
    expect(ds.itemIds).toEqual(['b1', 'b2', 'b3', 'b9']);
    expect([csrNnz(ds.train), csrNnz(ds.val as CsrMatrix), csrNnz(ds.test)]).toEqual([3, 1, 1]);
    expect(Array.from(ds.test.indices)).toEqual([1]); // cy → b2
    expect(ds.report.splits.train?.duplicates).toBe(1);
    expect(ds.report.warnings).toContain('train: 1 duplicate entries merged');
    expect(ds.report.usersWithoutTrain).toBe(1); // bo rated only below 4 in train
  });

  it('splits a manifest interactions file at load time, seeded', () => {
    const lines = ['u\ti'];
    for (let u = 0; u < 40; u++) for (let i = 0; i < 10; i++) if ((u + i) % 3 === 0) lines.push(`${u}\t${i}`);
    const dir = folder({
      'dataset.json': JSON.stringify({
        interactions: 'all.tsv',
        split: { ratios: [0.6, 0.2, 0.2], seed: 3 },
      }),
      'all.tsv': `${lines.join('\n')}\n`,
    });
    const a = loadDatasetDir(dir);
    const total = lines.length - 1;
    expect(csrNnz(a.train) + csrNnz(a.val as CsrMatrix) + csrNnz(a.test)).toBe(total);
    expect(csrNnz(a.val as CsrMatrix)).toBe(Math.round(total * 0.2));
    expect(a.report.usersWithoutTrain).toBe(0);
    expect(loadDatasetDir(dir).train).toEqual(a.train);
  });

  it('validates the manifest: unknown keys, missing splits, mixed kinds', () => {
    const bad = (m: unknown): PromaxError =>
      failure(() => loadDatasetDir(folder({ 'dataset.json': JSON.stringify(m) })));
    const e = bad({ train: 'a.tsv', test: 'b.tsv', tets: 'c.tsv' });
    expect([e.code, e.field]).toEqual(['INVALID_CONFIG', 'tets']);
    expect(e.message).toMatch(/unknown key 'tets'/);
    expect(bad({ train: 'a.tsv' }).message).toMatch(/'test' is required/);
    expect(bad({ train: 'a.tsv', test: 'b.npz' }).message).toMatch(
      /mixes interaction tables and matrix files/,
    );
    expect(bad({ interactions: 'a.tsv', split: { ratio: [1] } }).field).toBe('split.ratio');
    expect(failure(() => loadDatasetDir(folder({ 'dataset.json': '{ nope' }))).code).toBe('INVALID_CONFIG');
  });

  it('loads the labelled-TSV layout (DBbook style): label == 1 positives, seeded validation holdout', () => {
    const rows = ['user\titem\tlabel'];
    for (let u = 0; u < 30; u++)
      for (let i = 100; i < 110; i++) rows.push(`${u}\t${i}\t${(u * i) % 4 === 0 ? 0 : 1}`);
    const dir = folder({
      'train.tsv': rows.join('\n'),
      'test.tsv': 'user\titem\tlabel\n0\t111\t1\n5\t112\t0\n',
    });
    const ds = loadDatasetDir(dir, { valRatio: 0.25, seed: 9 });
    const positives = rows.slice(1).filter((r) => r.endsWith('\t1')).length;
    expect(csrNnz(ds.train) + csrNnz(ds.val as CsrMatrix)).toBe(positives);
    expect(csrNnz(ds.val as CsrMatrix)).toBe(Math.round(positives * 0.25));
    expect(csrNnz(ds.test)).toBe(1);
    expect(ds.numItems).toBe(12); // items of negative rows get ids too
    expect(ds.report.splits.val?.derived).toMatch(/25% of train positives held out at random \(seed 9/);
    expect(loadDatasetDir(dir, { valRatio: 0 }).val).toBeUndefined();
  });

  const raw = locateData('prorec_raw', 'amazon');
  const amazon = locateData('amazon_book');
  if (!raw.path || !amazon.path)
    console.warn(`skipping RLMRec pickle-layout test: ${raw.reason ?? amazon.reason}`);
  it.skipIf(!raw.path || !amazon.path)(
    'loads an RLMRec folder of pickles (trn_mat.pkl, new_trn_rag_mat.pkl) like the npz one',
    () => {
      const dir = join(tmp.dir, 'pkl-layout');
      mkdirSync(dir);
      symlinkSync(join(raw.path as string, 'trn_mat.pkl'), join(dir, 'trn_mat.pkl'));
      symlinkSync(join(raw.path as string, 'new_trn_rag_mat.pkl'), join(dir, 'new_trn_rag_mat.pkl'));
      symlinkSync(join(amazon.path as string, 'val_mat.npz'), join(dir, 'val_mat.npz'));
      symlinkSync(join(amazon.path as string, 'tst_mat.npz'), join(dir, 'tst_mat.npz'));
      const ds = loadDatasetDir(dir);
      expect([ds.numUsers, ds.numItems]).toEqual([11000, 9332]);
      expect([
        csrNnz(ds.train),
        csrNnz(ds.val as CsrMatrix),
        csrNnz(ds.test),
        csrNnz(ds.aug as CsrMatrix),
      ]).toEqual([120464, 40290, 40106, 144663]);
      expect(ds.report).toMatchObject({ augMissingTrain: 0, augNewEdges: 24199, usersWithoutTrain: 0 });
      expect(ds.files.aug).toMatch(/new_trn_rag_mat\.pkl$/);
    },
  );
});
