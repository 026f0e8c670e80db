import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { locateData, saveEmbeddings } from '@promax/data';
import { afterAll, describe, expect, it } from 'vitest';
import { main } from '../main.js';
import {
  removeTempDirs,
  tempDir,
  topicEmbeddings,
  writeSyntheticDataset,
  writeTopicEmbeddings,
} from '../profile-pipeline/synthetic-dataset.test-util.js';
import { captureIo } from '../test-util/capture-io.js';

afterAll(removeTempDirs);

const run = async (argv: string[]) => {
  const io = captureIo();
  const code = await main(['retrieve', ...argv], io);
  return { code, out: io.stdout(), err: io.stderr() };
};

describe('promax retrieve', () => {
  it('--json prints one object: profile vs popularity vs random with lifts', async () => {
    const ds = writeSyntheticDataset();
    const emb = writeTopicEmbeddings(ds);
    const r = await run(['--dataset', ds.dir, '--embeddings', emb, '--k', '5,10', '--json']);
    expect(r.code, r.err).toBe(0);
    expect(r.err).toBe('');
    const j = JSON.parse(r.out);
    expect(Object.keys(j)).toEqual([
      'dataset',
      'split',
      'users',
      'ks',
      'similarity',
      'space',
      'whitening',
      'dimensions',
      'encoder',
      'zeroRows',
      'profile',
      'popularity',
      'random',
      'liftOverRandom',
      'liftOverPopularity',
      'index',
      'eval_s',
    ]);
    expect(j.index).toEqual({ provider: 'exact' });
    expect(j).toMatchObject({
      dataset: 'tiny-books',
      split: 'val',
      users: 24,
      ks: [5, 10],
      similarity: 'cosine',
      space: 'full',
      whitening: false,
      dimensions: 6,
      zeroRows: { users: 0, items: 0 },
    });
    for (const part of ['profile', 'popularity', 'random', 'liftOverRandom', 'liftOverPopularity']) {
      expect(Object.keys(j[part])).toEqual(
        expect.arrayContaining(['recall@5', 'recall@10', 'ndcg@5', 'ndcg@10']),
      );
    }
    // topic-shaped profiles find the held-out books of the user's topic
    expect(j.profile['recall@10']).toBeGreaterThan(0.5);
    expect(j.liftOverRandom['recall@10']).toBeGreaterThan(2);
    expect(j.liftOverRandom['recall@10']).toBeCloseTo(j.profile['recall@10'] / j.random['recall@10'], 10);
  });

  it('--index lancedb:DIR ranks with the ANN index, reports its recall, and reuses the folder', async () => {
    const ds = writeSyntheticDataset();
    const emb = writeTopicEmbeddings(ds);
    const dir = join(tempDir(), 'ann');
    const exact = JSON.parse((await run(['--dataset', ds.dir, '--embeddings', emb, '--json'])).out);
    const r = await run(['--dataset', ds.dir, '--embeddings', emb, '--index', `lancedb:${dir}`, '--json']);
    expect(r.code, r.err).toBe(0);
    const j = JSON.parse(r.out);
    expect(j.index).toMatchObject({ provider: 'lancedb-ivf-flat', dir, k: 20, sampledQueries: 24 });
    // a small catalogue is scanned exactly (below minRows), so the ANN path must match exact search
    expect(j.index.recallAtK).toBe(1);
    expect(j.profile['recall@20']).toBeCloseTo(exact.profile['recall@20'], 6);
    const again = await run(['--dataset', ds.dir, '--embeddings', emb, '--index', `lancedb:${dir}`]);
    expect(again.code, again.err).toBe(0);
    expect(again.err).toMatch(/LanceDB reused flat index/);
    expect(again.out).toMatch(
      /lancedb-ivf-flat: recall@20 1\.0000 against exact search \(24 sampled queries/,
    );
    const bad = await run(['--dataset', ds.dir, '--embeddings', emb, '--index', 'annoy']);
    expect(bad.code).not.toBe(0);
    expect(bad.err).toMatch(/unknown --index 'annoy'/);
  });

  it('prints a table and says how similarity is computed', async () => {
    const ds = writeSyntheticDataset();
    const emb = writeTopicEmbeddings(ds);
    const r = await run(['--dataset', ds.dir, '--embeddings', emb, '--split', 'test', '--quiet']);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/tiny-books, test split: 23 users with ≥1 held-out item/);
    expect(r.out).toMatch(/similarity: cosine in the full embedding space \(no PCA whitening\), 6-d/);
    expect(r.out).toMatch(
      /\| metric \| profile \| popularity \| random \| lift vs random \| lift vs popularity \|/,
    );
    expect(r.out).toMatch(/\| recall@20 \| \d\.\d{4} \| \d\.\d{4} \| \d\.\d{4} \| [\d.]+× \| [\d.]+× \|/);
  });

  const dbbook = locateData('dbbook');
  if (dbbook.reason) console.warn(`skipping the DBbook retrieve test: ${dbbook.reason}`);
  it.skipIf(!!dbbook.reason)('runs on DBbook (5660 × 6698) with its derived validation split', async () => {
    const emb = tempDir();
    saveEmbeddings(
      join(emb, 'usr_emb.npy'),
      topicEmbeddings(
        Array.from({ length: 5660 }, (_, u) => u % 4),
        8,
      ),
    );
    saveEmbeddings(
      join(emb, 'itm_emb.npy'),
      topicEmbeddings(
        Array.from({ length: 6698 }, (_, i) => i % 4),
        8,
      ),
    );
    const r = await run(['--dataset', 'dbbook', '--embeddings', emb, '--json']);
    expect(r.code, r.err).toBe(0);
    const j = JSON.parse(r.out);
    expect(j).toMatchObject({ dataset: 'dbbook', split: 'val', users: 2274, ks: [20] });
    expect(j.popularity['recall@20']).toBeGreaterThan(j.random['recall@20']);
  });

  it('rejects embeddings that do not fit the dataset, naming the file and the fix', async () => {
    const ds = writeSyntheticDataset();
    const wrongRows = tempDir();
    saveEmbeddings(join(wrongRows, 'usr_emb.npy'), topicEmbeddings(Array(23).fill(0)));
    saveEmbeddings(join(wrongRows, 'itm_emb.npy'), topicEmbeddings(Array(30).fill(0)));
    const wrongOrder = writeTopicEmbeddings(ds);
    writeFileSync(
      join(wrongOrder, 'embed_manifest.json'),
      JSON.stringify({ dataset: { name: 'other', dir: '/elsewhere', userIdsSha256: 'f'.repeat(64) } }),
    );
    const none = tempDir();
    const cases: [string[], RegExp][] = [
      [['--embeddings', wrongRows], /^error \[INVALID_ARGUMENT\]: --dataset is required/],
      [['--dataset', ds.dir], /--embeddings is required/],
      [
        ['--dataset', ds.dir, '--embeddings', wrongRows],
        /^error \[SHAPE_MISMATCH\]: .*usr_emb\.npy has 23 rows but dataset 'tiny-books' has 24 users.*Fix: embed again for this dataset/,
      ],
      [
        ['--dataset', ds.dir, '--embeddings', wrongOrder],
        /^error \[INVALID_DATA\]: the user rows in .* follow the id order of dataset 'other'.*Fix: embed again with --dataset tiny-books/,
      ],
      [
        ['--dataset', ds.dir, '--embeddings', none],
        /^error \[FILE_NOT_FOUND\]: no user embeddings in .*Fix: make them with: promax embed/,
      ],
      [
        ['--dataset', ds.dir, '--embeddings', wrongRows, '--split', 'train'],
        /--split must be one of val, test/,
      ],
      [['--dataset', ds.dir, '--embeddings', wrongRows, '--k', '0'], /--k must list positive integers/],
    ];
    for (const [argv, pattern] of cases) {
      const r = await run(argv);
      expect(r.code, argv.join(' ')).toBe(2);
      expect(r.err, argv.join(' ')).toMatch(pattern);
    }
  });
});
