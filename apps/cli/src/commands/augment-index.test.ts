import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadSparseMatrix } from '@promax/data';
import { afterAll, describe, expect, it } from 'vitest';
import { main } from '../main.js';
import {
  removeTempDirs,
  tempDir,
  writeSyntheticDataset,
  writeTopicEmbeddings,
} from '../profile-pipeline/synthetic-dataset.test-util.js';
import { captureIo } from '../test-util/capture-io.js';

afterAll(removeTempDirs);

const run = async (argv: string[]) => {
  const io = captureIo();
  const code = await main(['augment', ...argv], io);
  return { code, out: io.stdout(), err: io.stderr() };
};

describe('promax augment --index', () => {
  it('lancedb:DIR builds the same A′ as exact search here and records recall for both searches', async () => {
    const ds = writeSyntheticDataset();
    const emb = writeTopicEmbeddings(ds);
    const args = ['--dataset', ds.dir, '--embeddings', emb, '--set', 'augment.itemPool=8', '--quiet'];
    const exactOut = tempDir();
    const annOut = tempDir();
    const dir = join(tempDir(), 'ann');
    const a = await run([...args, '--out', exactOut, '--index', 'exact']);
    expect(a.code, a.err).toBe(0);
    const b = await run([...args, '--out', annOut, '--index', `lancedb:${dir}`]);
    expect(b.code, b.err).toBe(0);
    const ma = loadSparseMatrix(join(exactOut, 'aug_trn_mat.npz'));
    const mb = loadSparseMatrix(join(annOut, 'aug_trn_mat.npz'));
    expect(Array.from(mb.indptr)).toEqual(Array.from(ma.indptr));
    expect(Array.from(mb.indices)).toEqual(Array.from(ma.indices));
    const manifest = JSON.parse(readFileSync(join(annOut, 'augment_manifest.json'), 'utf8'));
    expect(manifest.index.provider).toBe('lancedb-ivf-flat');
    // one item search (30 items) and one neighbour search (24 users), each checked against exact
    expect(
      manifest.index.recall.map((r: { corpus: number; recall: number }) => [r.corpus, r.recall]),
    ).toEqual([
      [30, 1],
      [24, 1],
    ]);
    expect(b.out).toMatch(/lancedb-ivf-flat: recall@8 1\.0000 against exact search/);
    expect(JSON.parse(readFileSync(join(exactOut, 'augment_manifest.json'), 'utf8')).index).toBeNull();
  });
});
