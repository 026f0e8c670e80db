import { copyFileSync, existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { csrFromCoo, Rng } from '@promax/core';
import { locateData, saveEmbeddings, saveSparseMatrix } from '@promax/data';
import { pairedTTest } from '@promax/eval';
import { describe, expect, it } from 'vitest';
import { main } from '../main.js';
import { captureIo } from '../test-util/capture-io.js';

/** A small RLMRec-layout dataset with planted structure: 4 user groups liking 4 item groups. */
function writeTinyDataset(): string {
  const dir = mkdtempSync(join(tmpdir(), 'promax-train-'));
  const rng = new Rng(5);
  const U = 60;
  const I = 40;
  const parts: [number, number][][] = [[], [], [], []];
  for (let u = 0; u < U; u++) {
    const g = u % 4;
    const items = Array.from({ length: 10 }, (_, k) => g * 10 + k);
    rng.shuffle(items);
    for (const i of items.slice(0, 5)) parts[0].push([u, i]);
    for (const i of items.slice(5, 7)) parts[1].push([u, i]);
    for (const i of items.slice(7, 9)) parts[2].push([u, i]);
    parts[3].push([u, items[9]]); // A′ adds the tenth item
  }
  const csr = (pairs: [number, number][]) =>
    csrFromCoo({ rows: U, cols: I, row: pairs.map((p) => p[0]), col: pairs.map((p) => p[1]) }).matrix;
  saveSparseMatrix(join(dir, 'trn_mat.npz'), csr(parts[0]));
  saveSparseMatrix(join(dir, 'val_mat.npz'), csr(parts[1]));
  saveSparseMatrix(join(dir, 'tst_mat.npz'), csr(parts[2]));
  saveSparseMatrix(join(dir, 'aug_trn_mat.npz'), csr([...parts[0], ...parts[3]]));
  return dir;
}

/** Standard normal rows × cols matrices drawn in turn from one seeded stream. */
const gaussianOf = (rng: Rng) => (rows: number, cols: number) => ({
  rows,
  cols,
  data: Float32Array.from({ length: rows * cols }, () => rng.nextNormal()),
});

/** A fresh embeddings folder with Gaussian 16-d profiles for the tiny dataset (60 users, 40 items). */
function gaussianEmbeddings(
  prefix: string,
  seed: number,
): { dir: string; gauss: ReturnType<typeof gaussianOf> } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const gauss = gaussianOf(new Rng(seed));
  saveEmbeddings(join(dir, 'usr_emb.npy'), gauss(60, 16));
  saveEmbeddings(join(dir, 'itm_emb.npy'), gauss(40, 16));
  return { dir, gauss };
}

describe('promax train / reproduce / recommend', () => {
  const data = writeTinyDataset();

  it('train --promax writes a complete run directory and results.json with the required fields', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'promax-run-')), 'run');
    const io = captureIo();
    const code = await main(
      [
        'train',
        '--dataset',
        data,
        '--model',
        'lightgcn',
        '--promax',
        '--max-epochs',
        '6',
        '--set',
        'trainer.batchSize=64',
        '--out',
        out,
        '--json',
      ],
      io,
    );
    expect(code, io.stderr()).toBe(0);
    const results = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8'));
    expect(JSON.parse(io.stdout()).test).toEqual(results.test);
    expect(results).toMatchObject({
      model: 'lightgcn+promax',
      seed: 2025,
      promax: { enabled: true, components: { sdr: false, s2dr: true } },
    });
    for (const k of ['recall@5', 'recall@10', 'recall@20', 'ndcg@5', 'ndcg@10', 'ndcg@20'])
      expect(typeof results.test[k]).toBe('number');
    expect(results.val['recall@20']).toBeGreaterThan(0);
    expect(typeof results.timing.train_s_per_epoch).toBe('number');
    expect(typeof results.timing.eval_s).toBe('number');
    expect(results.best_epoch).toBeGreaterThan(0);
    for (const f of [
      'config.json',
      'metrics.jsonl',
      'environment.json',
      'data.json',
      'user_emb.npy',
      'item_emb.npy',
      'checkpoint/meta.json',
      'report.md',
      'plots/val_recall20.svg',
    ]) {
      expect(existsSync(join(out, f)), f).toBe(true);
    }
    expect(results.promax.components.notes.join(' ')).toMatch(/SDR skipped: no profile embeddings/);
    const dataJson = JSON.parse(readFileSync(join(out, 'data.json'), 'utf8'));
    expect(dataJson.files.train.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(Object.keys(dataJson.files)).toEqual(expect.arrayContaining(['train', 'val', 'test', 'aug']));

    // recommend from the saved run: 5 items, none of them train items of the user
    const rio = captureIo();
    expect(
      await main(['recommend', '--run', out, '--user', '3', '--k', '5', '--json'], rio),
      rio.stderr(),
    ).toBe(0);
    const rec = JSON.parse(rio.stdout());
    expect(rec.items).toHaveLength(5);
  });

  it('train --embeddings/--aug takes profile embeddings and A′ from the profile pipeline: SDR and S2DR both run', async () => {
    const { dir, gauss } = gaussianEmbeddings('promax-emb-', 9);
    const out = join(dir, 'run');
    const io = captureIo();
    const code = await main(
      [
        'train',
        '--dataset',
        data,
        '--promax',
        '--embeddings',
        dir,
        '--aug',
        join(data, 'aug_trn_mat.npz'),
        '--max-epochs',
        '3',
        '--set',
        'trainer.batchSize=64',
        '--set',
        'promax.preprocess.dim=8',
        '--out',
        out,
        '--json',
      ],
      io,
    );
    expect(code, io.stderr()).toBe(0);
    const results = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8'));
    expect(results.promax.components).toMatchObject({ sdr: true, s2dr: true });
    const metrics = readFileSync(join(out, 'metrics.jsonl'), 'utf8');
    expect(metrics).toMatch(/"sdr":/);
    const bad = captureIo();
    saveEmbeddings(join(dir, 'usr_emb.npy'), gauss(59, 16));
    expect(
      await main(
        ['train', '--dataset', data, '--promax', '--embeddings', dir, '--out', join(dir, 'run2')],
        bad,
      ),
    ).toBe(2);
    expect(bad.stderr()).toMatch(/59/);
  });

  it('--index lancedb[:DIR] gives the sparse SDR teacher its top-K from a LanceDB index, recall reported', async () => {
    const { dir } = gaussianEmbeddings('promax-index-', 13);
    const args = (out: string, index: string) => [
      'train',
      '--dataset',
      data,
      '--promax',
      '--embeddings',
      dir,
      '--index',
      index,
      '--max-epochs',
      '1',
      '--set',
      'trainer.batchSize=64',
      '--set',
      'promax.preprocess.dim=8',
      '--set',
      'promax.s2dr.enabled=false',
      '--set',
      'promax.sdr.teacher=sparse',
      '--set',
      'promax.sdr.sparseK=8',
      '--out',
      out,
    ];
    const kept = join(dir, 'teacher-index');
    for (const index of [`lancedb:${kept}`, 'lancedb']) {
      const out = join(dir, `run-${index === 'lancedb' ? 'tmp' : 'kept'}`);
      const io = captureIo();
      expect(await main(args(out, index), io), io.stderr()).toBe(0);
      const results = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8'));
      const teacher = results.methods[0].report.details.sparseTeacher;
      expect(teacher).toMatchObject({ k: 8, renormalized: false, tail: 'exact' });
      expect(teacher.source).toMatch(/^lancedb/);
      expect(io.stderr()).toMatch(/lancedb[^\n]*recall@8 [01]\.\d{4} against exact search/);
      // config.json records the index and the protocol the run resolved
      expect(JSON.parse(readFileSync(join(out, 'config.json'), 'utf8'))).toMatchObject({
        index,
        protocol: 'prorec',
      });
    }
    expect(existsSync(kept)).toBe(true);
    const bad = captureIo();
    expect(await main(args(join(dir, 'run-bad'), 'faiss'), bad)).toBe(2);
    expect(bad.stderr()).toMatch(/unknown --index 'faiss'/);
  });

  it('a config file with a typo gets an error naming the key and the closest valid key', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'promax-cfg-'));
    writeFileSync(
      join(dir, 'cfg.yaml'),
      `dataset: ${data}\nmodel: lightgcn\ntrainer:\n  maxEpoch: 3\nmodelSettings:\n  layers: 2\n`,
    );
    const io = captureIo(dir);
    expect(await main(['train', '--config', 'cfg.yaml', '--out', join(dir, 'run')], io)).toBe(2);
    expect(io.stderr()).toMatch(
      /error \[INVALID_CONFIG\].*trainer\.maxEpoch: unknown key "maxEpoch" — did you mean "maxEpochs"\?/,
    );
    const io2 = captureIo(dir);
    writeFileSync(
      join(dir, 'cfg2.json'),
      JSON.stringify({ dataset: data, modelSettings: { layers: 'three' } }),
    );
    expect(await main(['train', '--config', 'cfg2.json', '--out', join(dir, 'run')], io2)).toBe(2);
    expect(io2.stderr()).toMatch(/modelSettings\.layers: expected number/);
    const io3 = captureIo(dir);
    expect(
      await main(
        [
          'train',
          '--dataset',
          data,
          '--promax',
          '--set',
          'promax.s2dr.lambda=0.1',
          '--out',
          join(dir, 'run'),
        ],
        io3,
      ),
    ).toBe(2);
    expect(io3.stderr()).toMatch(
      /methodSettings\.promax\.s2dr\.lambda: unknown key "lambda" — did you mean "lambda2"\?/,
    );
  });

  it.each([
    ['mf', []],
    ['lightgcn', []],
    ['gccf', []],
    ['simgcl', ['cl']],
    ['sgl', ['ssl']],
  ])('every zoo model trains with ProMax (SDR + S2DR): %s', async (model, ownTerms) => {
    const { dir } = gaussianEmbeddings(`promax-zoo-${model}-`, 13);
    const io = captureIo();
    const code = await main(
      [
        'train',
        '--dataset',
        data,
        '--model',
        model,
        '--promax',
        '--embeddings',
        dir,
        '--max-epochs',
        '4',
        '--set',
        'trainer.batchSize=64',
        '--set',
        'promax.preprocess.dim=8',
        '--out',
        join(dir, 'run'),
        '--json',
      ],
      io,
    );
    expect(code, io.stderr()).toBe(0);
    const results = JSON.parse(io.stdout());
    expect(results).toMatchObject({
      model: `${model}+promax`,
      promax: { enabled: true, components: { sdr: true, s2dr: true } },
    });
    const epochs = readFileSync(join(dir, 'run', 'metrics.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l))
      .filter((r) => r.type === 'epoch');
    expect(epochs).toHaveLength(4);
    for (const e of epochs) {
      // the base model's own terms (SimGCL/SGL contrastive) run beside SDR and S2DR
      for (const k of ['bpr', 'sdr', 's2dr', ...ownTerms]) {
        expect(Number.isFinite(e.losses[k]) && e.losses[k] > 0, `${k} at epoch ${e.epoch}`).toBe(true);
      }
    }
    expect(epochs[3].losses.loss).toBeLessThan(epochs[0].losses.loss);
    expect(Number.isFinite(results.test['recall@20'])).toBe(true);
  });

  const pickleFixture = locateData('prorec_raw', 'sample_emb_np.pkl');
  if (pickleFixture.reason) console.warn(`skipping the pickle-profile ProMax run: ${pickleFixture.reason}`);
  it.skipIf(pickleFixture.reason)(
    'train --promax reads RLMRec-style usr_emb_np.pkl / itm_emb_np.pkl from the dataset folder: SDR runs',
    async () => {
      // The fixture is a pickled 5×8 float32 ndarray with rank-1 centred rows (v = 8i + j steps), so
      // whitening keeps 1 direction; a 5-user × 5-item dataset uses it for both sides.
      const dir = mkdtempSync(join(tmpdir(), 'promax-pkl-'));
      const pairs = (list: [number, number][]) =>
        csrFromCoo({ rows: 5, cols: 5, row: list.map((p) => p[0]), col: list.map((p) => p[1]) }).matrix;
      saveSparseMatrix(
        join(dir, 'trn_mat.npz'),
        pairs([
          [0, 0],
          [0, 1],
          [1, 1],
          [1, 2],
          [2, 2],
          [2, 3],
          [3, 3],
          [3, 4],
          [4, 4],
          [4, 0],
        ]),
      );
      saveSparseMatrix(
        join(dir, 'val_mat.npz'),
        pairs([
          [0, 2],
          [1, 3],
          [2, 4],
          [3, 0],
          [4, 1],
        ]),
      );
      saveSparseMatrix(
        join(dir, 'tst_mat.npz'),
        pairs([
          [0, 3],
          [1, 4],
          [2, 0],
          [3, 1],
          [4, 2],
        ]),
      );
      copyFileSync(pickleFixture.path as string, join(dir, 'usr_emb_np.pkl'));
      copyFileSync(pickleFixture.path as string, join(dir, 'itm_emb_np.pkl'));
      const io = captureIo();
      const code = await main(
        [
          'train',
          '--dataset',
          dir,
          '--promax',
          '--max-epochs',
          '3',
          '--set',
          'trainer.batchSize=4',
          '--set',
          'promax.preprocess.dim=1',
          '--out',
          join(dir, 'run'),
          '--json',
        ],
        io,
      );
      expect(code, io.stderr()).toBe(0);
      const results = JSON.parse(io.stdout());
      expect(results.promax.components).toMatchObject({ sdr: true, s2dr: false });
      expect(results.promax.components.notes.join(' ')).toMatch(/no augmented graph/);
      const data = JSON.parse(readFileSync(join(dir, 'run', 'data.json'), 'utf8'));
      expect(data.files.userEmb.path).toMatch(/usr_emb_np\.pkl$/);
      const epochs = readFileSync(join(dir, 'run', 'metrics.jsonl'), 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l))
        .filter((r) => r.type === 'epoch');
      expect(epochs.every((e) => Number.isFinite(e.losses.sdr) && e.losses.sdr > 0)).toBe(true);
    },
  );

  it('reproduce trains base and +ProMax and writes the comparison table, JSON and report', async () => {
    const out = mkdtempSync(join(tmpdir(), 'promax-repro-'));
    const io = captureIo();
    const code = await main(
      [
        'reproduce',
        '--dataset',
        data,
        '--models',
        'mf,lightgcn',
        '--seeds',
        '1,2',
        '--max-epochs',
        '3',
        '--set',
        'trainer.batchSize=128',
        '--out',
        out,
        '--quiet',
      ],
      io,
    );
    expect(code, io.stderr()).toBe(0);
    const md = readFileSync(join(out, 'reproduce.md'), 'utf8');
    expect(md).toMatch(/\| lightgcn \+ProMax \(S2DR\) \|/);
    expect(md).toMatch(/\| gain \(promax\) \|.*%\s\((beyond|within) std, p = (–|[0-9.e-]+)\)/);
    expect(md).toMatch(
      /## The authors' numbers\n\n\*\*lightgcn\+ProMax \(S2DR\) on .*\*\*: the authors released no run on/,
    );
    expect(md).toContain('[report.md](report.md)');
    const json = JSON.parse(readFileSync(join(out, 'reproduce.json'), 'utf8'));
    expect(json.runs).toHaveLength(8);
    const r20 = json.runs
      .filter((r: { model: string; promax: boolean }) => r.model === 'lightgcn' && !r.promax)
      .map((r: { results: { test: Record<string, number> } }) => r.results.test['recall@20']);
    expect(json.summary.lightgcn.base['recall@20'].mean).toBeCloseTo((r20[0] + r20[1]) / 2, 12);
    // Paired by seed: the p-value is the paired t-test of the per-seed values.
    const treated = json.runs
      .filter((r: { model: string; promax: boolean }) => r.model === 'lightgcn' && r.promax)
      .map((r: { results: { test: Record<string, number> } }) => r.results.test['recall@20']);
    const paired = json.summary.lightgcn.paired.promax['recall@20'];
    expect(paired.n).toBe(2);
    expect(paired.wilcoxon_p).toBeNull();
    const expected = pairedTTest(treated, r20).pValue;
    if (Number.isNaN(expected))
      expect(paired.p_value).toBeNull(); // JSON writes NaN as null
    else expect(paired.p_value).toBeCloseTo(expected, 12);
    expect(existsSync(join(out, 'report.md'))).toBe(true);
    expect(existsSync(join(out, 'plots', 'val_recall20.svg'))).toBe(true);
  });

  it('reproduce --jobs 2 runs in child processes with the same results, and a rerun reuses finished runs', async () => {
    const common = [
      '--dataset',
      data,
      '--models',
      'lightgcn',
      '--seeds',
      '3',
      '--max-epochs',
      '3',
      '--set',
      'trainer.batchSize=128',
      '--threads',
      '1',
      '--quiet',
    ];
    const inProcess = mkdtempSync(join(tmpdir(), 'promax-repro-1-'));
    const io1 = captureIo();
    expect(await main(['reproduce', ...common, '--out', inProcess], io1), io1.stderr()).toBe(0);
    const parallel = mkdtempSync(join(tmpdir(), 'promax-repro-2-'));
    const io2 = captureIo();
    expect(await main(['reproduce', ...common, '--jobs', '2', '--out', parallel], io2), io2.stderr()).toBe(0);
    const a = JSON.parse(readFileSync(join(inProcess, 'reproduce.json'), 'utf8'));
    const b = JSON.parse(readFileSync(join(parallel, 'reproduce.json'), 'utf8'));
    expect(b.runs).toHaveLength(2);
    // One onnxruntime thread per run: the child runs repeat the in-process runs bit for bit.
    for (let k = 0; k < 2; k++) {
      expect(b.runs[k].promax).toBe(a.runs[k].promax);
      expect(b.runs[k].results.test).toEqual(a.runs[k].results.test);
      expect(readFileSync(join(b.runs[k].dir, 'config.json'), 'utf8')).toMatch(/"threads": 1\b/);
    }
    expect(existsSync(join(parallel, 'lightgcn', 'seed-3', 'promax.log'))).toBe(true);

    // Rerun: both runs are reused (nothing retrained), the table is rebuilt from them.
    const resultsFile = join(parallel, 'lightgcn', 'seed-3', 'base', 'results.json');
    const before = statSync(resultsFile).mtimeMs;
    const io3 = captureIo();
    expect(
      await main(
        ['reproduce', ...common.filter((x) => x !== '--quiet'), '--jobs', '2', '--out', parallel],
        io3,
      ),
      io3.stderr(),
    ).toBe(0);
    expect(io3.stderr().match(/reusing lightgcn/g)).toHaveLength(2);
    expect(statSync(resultsFile).mtimeMs).toBe(before);
    expect(JSON.parse(readFileSync(join(parallel, 'reproduce.json'), 'utf8')).summary).toEqual(b.summary);

    // A changed setting is a different run: not reused.
    const io4 = captureIo();
    expect(
      await main(
        [
          'reproduce',
          ...common.filter((x) => x !== '--quiet'),
          '--set',
          'trainer.lr=0.002',
          '--out',
          parallel,
        ],
        io4,
      ),
      io4.stderr(),
    ).toBe(0);
    expect(io4.stderr()).not.toMatch(/reusing/);
  });
});
