import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type CsrMatrix, csrNnz, PromaxError } from '@promax/core';
import { afterAll, describe, expect, it } from 'vitest';
import { bundledDataDir, locateData, resolveDataDir } from './data-dir.js';
import { tempDir } from './fixtures.test-util.js';
import { canonicalDatasetName, listDatasets, locateDataset, resolveDataset } from './registry.js';
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

const tiny: CsrMatrix = {
  rows: 2,
  cols: 2,
  indptr: Int32Array.from([0, 1, 2]),
  indices: Int32Array.from([0, 1]),
};
const tinyTest: CsrMatrix = {
  rows: 2,
  cols: 2,
  indptr: Int32Array.from([0, 1, 2]),
  indices: Int32Array.from([1, 0]),
};

describe('dataset registry (temporary folders)', () => {
  const tmp = tempDir();
  afterAll(tmp.cleanup);
  const data = join(tmp.dir, 'data');
  const bundled = join(tmp.dir, 'bundled');
  for (const [root, folder, files] of [
    [data, 'yelp', { 'trn_mat.npz': tiny, 'tst_mat.npz': tinyTest }],
    [data, 'steam', { 'val_mat.npz': tiny, 'tst_mat.npz': tinyTest }],
    [bundled, 'amazon-book', { 'trn_mat.npz': tiny, 'tst_mat.npz': tinyTest }],
  ] as const) {
    mkdirSync(join(root, folder), { recursive: true });
    for (const [f, m] of Object.entries(files)) writeFileSync(join(root, folder, f), encodeScipyCsrNpz(m));
  }
  const opts = { dataDir: data, bundledDir: bundled };

  it('knows the names and their aliases', () => {
    expect(['amazon_book', 'Amazon-Book', 'ml-100k', 'dbbook', 'x'].map(canonicalDatasetName)).toEqual([
      'amazon-book',
      'amazon-book',
      'ml100k',
      'dbbook',
      undefined,
    ]);
  });

  it('looks in the data dir first, then the bundled copy; also accepts a folder path', () => {
    expect(locateDataset('yelp', opts)).toMatchObject({
      name: 'yelp',
      origin: 'data-dir',
      layout: 'rlmrec',
      dir: join(data, 'yelp'),
    });
    expect(locateDataset('amazon_book', opts)).toMatchObject({
      name: 'amazon-book',
      origin: 'bundled',
      dir: join(bundled, 'amazon-book'),
    });
    expect(locateDataset(join(data, 'yelp'), opts)).toMatchObject({ origin: 'path', name: 'yelp' });
    const ds = resolveDataset('yelp', opts);
    expect([ds.name, ds.numUsers, csrNnz(ds.train)]).toEqual(['yelp', 2, 2]);
  });

  it('says where it looked and what is available when a dataset is missing', () => {
    const e = failure(() => resolveDataset('dbbook', opts));
    expect(e.code).toBe('DATASET_NOT_FOUND');
    expect(e.message).toContain(`looked in ${join(data, 'dbbook')}, ${join(bundled, 'dbbook')}`);
    expect(e.message).toMatch(
      /Available: yelp \(data-dir: .*\); steam \(data-dir: .*\); amazon-book \(bundled: .*\)/,
    );
    expect(e.fix).toMatch(/PROMAX_DATA_DIR/);
    const p = failure(() => resolveDataset(join(tmp.dir, 'nowhere'), opts));
    expect(p.message).toMatch(/dataset '.*nowhere' not found/);
    expect(failure(() => resolveDataset('yelp', { dataDir: null, bundledDir: null })).message).toMatch(
      /Available: none/,
    );
  });

  it('refuses steam without a train split with a clear message', () => {
    const e = failure(() => resolveDataset('steam', opts));
    expect(e.code).toBe('FILE_NOT_FOUND');
    expect(e.message).toMatch(/dataset 'steam' has no train split/);
  });

  it('lists what is found where, with sizes', () => {
    const list = listDatasets(opts);
    expect(list.map((d) => [d.name, d.origin, d.trainable])).toEqual([
      ['yelp', 'data-dir', true],
      ['steam', 'data-dir', false],
      ['amazon-book', 'bundled', true],
    ]);
    expect(list[1].note).toMatch(/no train split/);
    expect(list[0].files.map((f) => f.name)).toEqual(['trn_mat.npz', 'tst_mat.npz']);
    expect(list[0].bytes).toBe(list[0].files[0].bytes + list[0].files[1].bytes);
    expect(list[0].bytes).toBeGreaterThan(100);
  });
});

describe('dataset registry (real data)', () => {
  const amazon = locateData('amazon_book');
  if (!amazon.path) console.warn(`skipping amazon-book registry test: ${amazon.reason}`);
  it.skipIf(!amazon.path)(
    'resolves amazon-book from the data dir with the README counts in well under a second',
    () => {
      const t0 = performance.now();
      const ds = resolveDataset('amazon-book', { dataDir: resolveDataDir() });
      const ms = performance.now() - t0;
      expect(ds.sourceDir).toBe(amazon.path);
      expect([ds.name, ds.numUsers, ds.numItems]).toEqual(['amazon-book', 11000, 9332]);
      expect([
        csrNnz(ds.train),
        csrNnz(ds.val as CsrMatrix),
        csrNnz(ds.test),
        csrNnz(ds.aug as CsrMatrix),
      ]).toEqual([120464, 40290, 40106, 144663]);
      expect(ds.report.splits.val?.users).toBe(9857);
      expect(ds.report.splits.test?.users).toBe(9860);
      expect(ds.report).toMatchObject({
        usersWithoutTrain: 0,
        augMissingTrain: 0,
        augNewEdges: 24199,
        warnings: [],
      });
      expect(ds.itemIds?.[0]).toBe('0373730489');
      expect(ms).toBeLessThan(1000);
    },
  );

  const bundledDir = bundledDataDir();
  if (!bundledDir) console.warn('skipping bundled-dataset test: <repo>/datasets is missing');
  it.skipIf(!bundledDir)('falls back to the bundled amazon-book copy in the repository', () => {
    const loc = locateDataset('amazon-book', { dataDir: null });
    expect(loc).toMatchObject({ origin: 'bundled', dir: join(bundledDir as string, 'amazon-book') });
    const ds = resolveDataset('amazon-book', { dataDir: null });
    expect([
      csrNnz(ds.train),
      csrNnz(ds.val as CsrMatrix),
      csrNnz(ds.test),
      csrNnz(ds.aug as CsrMatrix),
    ]).toEqual([120464, 40290, 40106, 144663]);
    expect(ds.userIds?.length).toBe(11000);
  });

  const dbbook = locateData('dbbook');
  if (!dbbook.path) console.warn(`skipping dbbook registry test: ${dbbook.reason}`);
  it.skipIf(!dbbook.path)('resolves dbbook: label == 1 positives, 10% seeded validation holdout', () => {
    const ds = resolveDataset('dbbook', { dataDir: resolveDataDir() });
    expect(ds.report.layout).toBe('labelled-tsv');
    expect(csrNnz(ds.train) + csrNnz(ds.val as CsrMatrix)).toBe(33176);
    expect(csrNnz(ds.val as CsrMatrix)).toBe(3318);
    expect(csrNnz(ds.test)).toBe(35013);
    expect(ds.numUsers).toBe(5660);
    expect(ds.userIds?.[0]).toBe('0');
    expect(ds.files.userProfiles).toMatch(/user_profiles\.jsonl\.gz$/);
    expect(ds.report.usersWithoutTrain).toBe(0);
  });

  const ml = locateData('ml100k');
  if (!ml.path) console.warn(`skipping ml100k registry test: ${ml.reason}`);
  it.skipIf(!ml.path)('resolves ml100k: rating ≥ 4, seeded 60/20/20 split', () => {
    const ds = resolveDataset('ml100k', { dataDir: resolveDataDir() });
    expect([ds.numUsers, ds.numItems]).toEqual([943, 1682]);
    expect([csrNnz(ds.train), csrNnz(ds.val as CsrMatrix), csrNnz(ds.test)]).toEqual([33225, 11075, 11075]);
    expect(ds.report.usersWithoutTrain).toBe(1); // one user rated nothing ≥ 4
    expect(resolveDataset('ml100k', { dataDir: resolveDataDir() }).train).toEqual(ds.train);
  });

  const steam = locateData('steam');
  it.skipIf(!steam.path)(
    'refuses the shared steam folder (val/test only) saying it has no train split',
    () => {
      const e = failure(() => resolveDataset('steam', { dataDir: resolveDataDir() }));
      expect(e.code).toBe('FILE_NOT_FOUND');
      expect(e.message).toMatch(/dataset 'steam' has no train split/);
    },
  );
});
