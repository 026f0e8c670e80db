import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bundledDataDir, findRepoRoot, saveEmbeddings } from '@promax/data';
import { describe, expect, it } from 'vitest';
import { main } from '../main.js';
import { captureIo } from '../test-util/capture-io.js';

const root = findRepoRoot() as string;
const amazon = join(bundledDataDir() as string, 'amazon-book');
const python = spawnSync('python3', ['-c', 'import numpy, scipy'], { encoding: 'utf8' });
const pythonReason = python.status === 0 ? undefined : 'python3 with numpy and scipy is not available';

describe('promax eval', () => {
  it.skipIf(pythonReason)(
    'agrees with an independent NumPy implementation on Amazon-book within 2e-4',
    async () => {
      const dir = mkdtempSync(join(tmpdir(), 'promax-eval-'));
      const args = ['--train', join(amazon, 'trn_mat.npz'), '--test', join(amazon, 'tst_mat.npz')];
      const ref = JSON.parse(
        execFileSync(
          'python3',
          [join(root, 'tools/eval_reference.py'), ...args, '--make-emb', dir, '--dim', '32'],
          {
            encoding: 'utf8',
          },
        ),
      );
      const io = captureIo();
      const code = await main(
        [
          'eval',
          '--user-emb',
          join(dir, 'user_emb.npy'),
          '--item-emb',
          join(dir, 'item_emb.npy'),
          ...args,
          '--json',
        ],
        io,
      );
      expect(code, io.stderr()).toBe(0);
      const ours = JSON.parse(io.stdout());
      expect(ours.users).toBe(ref.users);
      expect(ref['recall@20']).toBeGreaterThan(0.05); // the SVD embeddings carry real signal
      for (const key of ['recall@5', 'recall@10', 'recall@20', 'ndcg@5', 'ndcg@10', 'ndcg@20']) {
        expect(Math.abs(ours[key] - ref[key]), key).toBeLessThan(2e-4);
      }
      expect(typeof ours.eval_s).toBe('number');
    },
  );
  if (pythonReason) console.warn(`skipping the NumPy cross-check: ${pythonReason}`);

  it('prints a metrics table without --json', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'promax-eval-'));
    saveEmbeddings(join(dir, 'u.npy'), { rows: 11000, cols: 2, data: new Float32Array(22000).fill(1) });
    saveEmbeddings(join(dir, 'i.npy'), { rows: 9332, cols: 2, data: new Float32Array(18664).fill(1) });
    const io = captureIo(dir);
    const code = await main(
      [
        'eval',
        '--user-emb',
        'u.npy',
        '--item-emb',
        'i.npy',
        '--train',
        join(amazon, 'trn_mat.npz'),
        '--test',
        join(amazon, 'tst_mat.npz'),
        '--k',
        '20,5',
      ],
      io,
    );
    expect(code, io.stderr()).toBe(0);
    expect(io.stdout()).toMatch(/\| metric \| @5 \| @20 \|/);
    expect(io.stdout()).toMatch(/9860 users evaluated/);
  });

  it('rejects bad input with an error naming the field and the fix', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'promax-eval-'));
    writeFileSync(join(dir, 'bad.npy'), 'not a numpy file');
    const cases: [string[], RegExp][] = [
      [['eval', '--item-emb', 'x', '--train', 'y', '--test', 'z'], /--user-emb is required/],
      [
        ['eval', '--user-emb', 'a', '--item-emb', 'b', '--train', 'c', '--test', 'd', '--k', '5,ten'],
        /--k must list positive integers, got '5,ten'.*Fix: pass e.g. --k 5,10,20/,
      ],
      [
        [
          'eval',
          '--user-emb',
          'bad.npy',
          '--item-emb',
          'bad.npy',
          '--train',
          join(amazon, 'trn_mat.npz'),
          '--test',
          join(amazon, 'tst_mat.npz'),
        ],
        /bad\.npy/,
      ],
      [
        [
          'eval',
          '--user-emb',
          'missing.npy',
          '--item-emb',
          'bad.npy',
          '--train',
          join(amazon, 'trn_mat.npz'),
          '--test',
          join(amazon, 'tst_mat.npz'),
        ],
        /missing\.npy/,
      ],
    ];
    for (const [argv, pattern] of cases) {
      const io = captureIo(dir);
      expect(await main(argv, io)).toBe(2);
      expect(io.stderr()).toMatch(pattern);
      expect(io.stderr()).toMatch(/^error \[[A-Z_]+\]/);
    }
  });

  it('suggests the closest command for a typo', async () => {
    const io = captureIo();
    expect(await main(['evl'], io)).toBe(2);
    expect(io.stderr()).toMatch(/unknown command 'evl' — did you mean 'eval'\?/);
  });
});
