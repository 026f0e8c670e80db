import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PromaxError } from '@promax/core';
import { afterAll, describe, expect, it } from 'vitest';
import { loadExtraProfiles } from './extra-profiles.js';
import { saveEmbeddings } from './loaders.js';
import { encodeNpy } from './npy.js';

const root = mkdtempSync(join(tmpdir(), 'promax-extra-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function folder(name: string, files: Record<string, { rows: number; cols: number; fill?: number }>): string {
  const dir = join(root, name);
  mkdirSync(dir, { recursive: true });
  for (const [file, m] of Object.entries(files)) {
    const data = Float32Array.from({ length: m.rows * m.cols }, (_, k) => m.fill ?? k * 0.01 + 1);
    saveEmbeddings(join(dir, file), { rows: m.rows, cols: m.cols, data });
  }
  return dir;
}

const full = (ext: string, rows = { u: 4, i: 5 }) =>
  Object.fromEntries(
    [1, 2, 3].flatMap((k) => [
      [`usr_emb_np_${k}${ext}`, { rows: rows.u, cols: 3, fill: k }],
      [`itm_emb_np_${k}${ext}`, { rows: rows.i, cols: 3, fill: 10 + k }],
    ]),
  );

describe('loadExtraProfiles', () => {
  it('reads the three variants per side in order; none present: undefined', () => {
    const dir = folder('full', full('.npy'));
    const x = loadExtraProfiles(dir, { numUsers: 4, numItems: 5, width: 3 });
    expect(x?.missing).toEqual([]);
    expect(x?.users.map((m) => [m.rows, m.cols, m.data[0]])).toEqual([
      [4, 3, 1],
      [4, 3, 2],
      [4, 3, 3],
    ]);
    expect(x?.items.map((m) => m.data[0])).toEqual([11, 12, 13]);
    writeFileSync(join(root, 'empty.txt'), '');
    expect(loadExtraProfiles(root, { numUsers: 4, numItems: 5 })).toBeUndefined();
  });

  it('a partial set loads nothing and names every missing file', () => {
    const files = full('.npy');
    delete files['itm_emb_np_2.npy'];
    delete files['usr_emb_np_3.npy'];
    const dir = folder('partial', files);
    const x = loadExtraProfiles(dir, { numUsers: 4, numItems: 5 });
    expect(x?.users).toEqual([]);
    expect(x?.missing).toEqual([join(dir, 'itm_emb_np_2.pkl'), join(dir, 'usr_emb_np_3.pkl')]);
  });

  it('wrong row count or width and NaN rows are named errors', () => {
    const rows = folder('rows', full('.npy', { u: 4, i: 6 }));
    expect(() => loadExtraProfiles(rows, { numUsers: 4, numItems: 5 })).toThrow(
      /itm_emb_np_1\.npy has 6 rows but the dataset has 5 items/,
    );
    const wide = folder('wide', full('.npy'));
    expect(() => loadExtraProfiles(wide, { numUsers: 4, numItems: 5, width: 8 })).toThrow(
      /is 3 wide but the profile embeddings are 8 wide/,
    );
    const files = full('.npy');
    const dir = folder('nan', files);
    // Written raw: saveEmbeddings itself refuses non-finite values.
    const nan = Float32Array.of(1, 1, 1, 1, Number.NaN, 1, 1, 1, 1, 1, 1, 1);
    writeFileSync(join(dir, 'usr_emb_np_2.npy'), encodeNpy({ dtype: 'float32', shape: [4, 3], data: nan }));
    try {
      loadExtraProfiles(dir, { numUsers: 4, numItems: 5 });
      expect.unreachable();
    } catch (e) {
      expect(PromaxError.isInstance(e)).toBe(true);
      expect(String(e)).toMatch(/usr_emb_np_2\.npy/);
    }
  });
});
