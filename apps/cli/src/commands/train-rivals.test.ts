import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { csrFromCoo, Rng } from '@promax/core';
import { saveSparseMatrix } from '@promax/data';
import { describe, expect, it } from 'vitest';
import { main } from '../main.js';
import { captureIo } from '../test-util/capture-io.js';

const U = 40;
const I = 30;
const numpy = spawnSync('python3', ['-c', 'import numpy'], { encoding: 'utf8' }).status === 0;
if (!numpy)
  console.warn('skipping the rival-method CLI runs: python3 with numpy is needed to write RLMRec pickles');

/** An RLMRec-layout folder with 1536-d profile pickles (usr_emb_np.pkl, itm_emb_np.pkl and ProEx's _1.._3). */
function writeRlmrecFolder(): string {
  const dir = mkdtempSync(join(tmpdir(), 'promax-rivals-'));
  const rng = new Rng(4);
  const parts: [number, number][][] = [[], [], []];
  for (let u = 0; u < U; u++) {
    const items = Array.from({ length: 10 }, (_, k) => ((u % 3) * 10 + k) % I);
    rng.shuffle(items);
    for (const i of items.slice(0, 6)) parts[0].push([u, i]);
    for (const i of items.slice(6, 8)) parts[1].push([u, i]);
    for (const i of items.slice(8, 10)) parts[2].push([u, i]);
  }
  const csr = (pairs: [number, number][]) =>
    csrFromCoo({ rows: U, cols: I, row: pairs.map((p) => p[0]), col: pairs.map((p) => p[1]) }).matrix;
  saveSparseMatrix(join(dir, 'trn_mat.npz'), csr(parts[0]));
  saveSparseMatrix(join(dir, 'val_mat.npz'), csr(parts[1]));
  saveSparseMatrix(join(dir, 'tst_mat.npz'), csr(parts[2]));
  const py = `
import pickle, sys, numpy as np
rng = np.random.default_rng(0)
d = sys.argv[1]
for suffix in ['', '_1', '_2', '_3']:
    for name, n in (('usr', ${U}), ('itm', ${I})):
        with open(f'{d}/{name}_emb_np{suffix}.pkl', 'wb') as f:
            pickle.dump(rng.standard_normal((n, 1536)).astype(np.float32), f)
`;
  const r = spawnSync('python3', ['-c', py, dir], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(r.stderr);
  return dir;
}

describe.skipIf(!numpy)('promax train with the rival methods on an RLMRec folder with 1536-d pickles', () => {
  const data = numpy ? writeRlmrecFolder() : '';

  for (const method of ['rlmrec-con', 'rlmrec-gen', 'proex', 'kar']) {
    it(`--method ${method} trains and records the method with its resolved settings`, async () => {
      const out = join(data, `run-${method}`);
      const io = captureIo();
      const code = await main(
        [
          'train',
          '--dataset',
          data,
          '--model',
          'lightgcn',
          '--method',
          method,
          '--max-epochs',
          '1',
          '--set',
          'trainer.batchSize=64',
          '--out',
          out,
        ],
        io,
      );
      expect(code, io.stderr()).toBe(0);
      const results = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8'));
      const text = JSON.stringify(results);
      expect(text).toContain(`"${method}"`);
      expect(text).toMatch(/usr_emb_np\.pkl/);
      const own = {
        'rlmrec-con': /"kdWeight":0\.01/,
        'rlmrec-gen': /"maskRatio":0\.15/,
        proex: /"numEnvs":3/,
        kar: /"specificExperts":6/,
      }[method] as RegExp;
      expect(text).toMatch(own);
      if (method === 'kar') expect(text).toMatch(/our adaptation/);
      if (method === 'proex') expect(text).toMatch(/usr_emb_np_1\.pkl/);
    });
  }

  it('a method on a model it does not support is a named error', async () => {
    const io = captureIo();
    const code = await main(
      ['train', '--dataset', data, '--model', 'mf', '--method', 'rlmrec-con', '--out', join(data, 'run-mf')],
      io,
    );
    expect(code).not.toBe(0);
    expect(io.stderr()).toMatch(/rlmrec-con does not support model mf/);
  });
});
