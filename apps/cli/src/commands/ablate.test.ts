import { existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type CsrMatrix, csrFromCoo, Rng } from '@promax/core';
import { loadEmbeddings, loadSparseMatrix, saveEmbeddings, saveSparseMatrix } from '@promax/data';
import { pairedTTest } from '@promax/eval';
import { addedCounts } from '@promax/retrieval';
import { describe, expect, it } from 'vitest';
import { main } from '../main.js';
import { captureIo } from '../test-util/capture-io.js';

/** 48 users in 4 taste groups over 32 items; the shipped A′ adds 1–3 items per user. */
function writeTinyDataset(withProfiles: boolean): string {
  const dir = mkdtempSync(join(tmpdir(), 'promax-ablate-data-'));
  const rng = new Rng(9);
  const U = 48;
  const I = 32;
  const parts: [number, number][][] = [[], [], [], []];
  for (let u = 0; u < U; u++) {
    const g = u % 4;
    const items = Array.from({ length: 8 }, (_, k) => g * 8 + k);
    rng.shuffle(items);
    for (const i of items.slice(0, 3)) parts[0].push([u, i]);
    parts[1].push([u, items[3]]);
    parts[2].push([u, items[4]]);
    for (const i of items.slice(5, 5 + 1 + (u % 3))) parts[3].push([u, i]);
  }
  const csr = (pairs: [number, number][]) =>
    csrFromCoo({ rows: U, cols: I, row: pairs.map((p) => p[0]), col: pairs.map((p) => p[1]) }).matrix;
  saveSparseMatrix(join(dir, 'trn_mat.npz'), csr(parts[0]));
  saveSparseMatrix(join(dir, 'val_mat.npz'), csr(parts[1]));
  saveSparseMatrix(join(dir, 'tst_mat.npz'), csr(parts[2]));
  saveSparseMatrix(join(dir, 'aug_trn_mat.npz'), csr([...parts[0], ...parts[3]]));
  if (withProfiles) {
    const D = 24;
    const emb = (n: number, groupOf: (r: number) => number) => ({
      rows: n,
      cols: D,
      data: Float32Array.from({ length: n * D }, (_, k) =>
        groupOf(Math.floor(k / D)) === k % 4 ? 1 : 0.1 * rng.nextNormal(),
      ),
    });

    saveEmbeddings(
      join(dir, 'usr_emb_np.npy'),
      emb(U, (u) => u % 4),
    );
    saveEmbeddings(
      join(dir, 'itm_emb_np.npy'),
      emb(I, (i) => Math.floor(i / 8)),
    );
  }
  return dir;
}

const rowsOf = (m: CsrMatrix, u: number) => Array.from(m.indices.subarray(m.indptr[u], m.indptr[u + 1]));

describe('promax ablate', () => {
  const data = writeTinyDataset(false);
  const common = ['--dataset', data, '--model', 'lightgcn', '--seeds', '1,2', '--max-epochs', '2'];
  // a ProMax setting (its default value here) applies to the arms and is dropped from the base run
  const sets = [
    '--set',
    'trainer.batchSize=64',
    '--set',
    'methodSettings.promax.s2dr.lambda2=0.1',
    '--threads',
    '1',
  ];

  it('trains the base and every arm on the same seeds; control A′s copy the per-user counts; p-values are paired by seed', async () => {
    const out = mkdtempSync(join(tmpdir(), 'promax-ablate-'));
    const io = captureIo();
    const code = await main(
      [
        'ablate',
        ...common,
        '--arms',
        'released,random,popularity,copy',
        '--arm-aug',
        `copy=${join(data, 'aug_trn_mat.npz')}`,
        ...sets,
        '--out',
        out,
        '--quiet',
      ],
      io,
    );
    expect(code, io.stderr()).toBe(0);
    const json = JSON.parse(readFileSync(join(out, 'ablate.json'), 'utf8'));
    expect(json.arms.map((a: { arm: string }) => a.arm)).toEqual([
      'base',
      'released',
      'random',
      'popularity',
      'copy',
    ]);
    for (const a of json.arms) expect(a.runs.map((r: { seed: number }) => r.seed)).toEqual([1, 2]);

    // The control A′s: exactly the shipped per-user added counts, never a train item.
    const train = loadSparseMatrix(join(data, 'trn_mat.npz'));
    const shipped = loadSparseMatrix(join(data, 'aug_trn_mat.npz'));
    for (const arm of ['random', 'popularity']) {
      for (const seed of [1, 2]) {
        const aug = loadSparseMatrix(join(out, 'inputs', `${arm}-seed-${seed}`, 'aug_trn_mat.npz'));
        expect(Array.from(addedCounts(train, aug))).toEqual(Array.from(addedCounts(train, shipped)));
        for (let u = 0; u < train.rows; u++)
          expect(rowsOf(aug, u)).toEqual(expect.arrayContaining(rowsOf(train, u)));
      }
      const config = JSON.parse(readFileSync(join(out, arm, 'seed-1', 'config.json'), 'utf8'));
      expect(JSON.stringify(config)).toContain(`${arm}-seed-1`);
      expect(JSON.stringify(config)).toContain('"lambda2":0.1');
    }
    // The same A′ under two arm names trains the same run: identical results.
    const released = json.arms.find((a: { arm: string }) => a.arm === 'released');
    const copy = json.arms.find((a: { arm: string }) => a.arm === 'copy');
    expect(copy.runs.map((r: { test: unknown }) => r.test)).toEqual(
      released.runs.map((r: { test: unknown }) => r.test),
    );

    // p_value: the paired t-test of recall@20 against the base, matched by seed.
    const base = json.arms[0];
    const r20 = (a: { runs: { test: Record<string, number> }[] }) => a.runs.map((r) => r.test['recall@20']);
    for (const a of json.arms.slice(1)) {
      const p = pairedTTest(r20(a), r20(base)).pValue;
      if (Number.isNaN(p)) expect(a.p_value).toBeNull();
      else expect(a.p_value).toBeCloseTo(p, 12);
      expect(a.mean['recall@20']).toBeCloseTo((r20(a)[0] + r20(a)[1]) / 2, 12);
      expect(Object.keys(a.quartiles ?? {}).length).toBeGreaterThan(0);
    }
    expect(base.p_value).toBeNull();
    // vs_released: every other arm against the released one, paired by seed (the copy is identical).
    expect(base.vs_released).toBeUndefined();
    expect(released.vs_released).toBeUndefined();
    expect(copy.vs_released).toMatchObject({ diff: 0, n: 2, p_value: null });
    for (const a of json.arms.filter((x: { arm: string }) => x.arm === 'random' || x.arm === 'popularity')) {
      const d = [0, 1].map((k) => r20(a)[k] - r20(released)[k]);
      expect(a.vs_released.diff).toBeCloseTo((d[0] + d[1]) / 2, 12);
      const p = pairedTTest(r20(a), r20(released)).pValue;
      if (Number.isNaN(p)) expect(a.vs_released.p_value).toBeNull();
      else expect(a.vs_released.p_value).toBeCloseTo(p, 12);
    }
    const md = readFileSync(join(out, 'ablate.md'), 'utf8');
    expect(md).toMatch(/## Against the released A′[\s\S]*\| random \| [+-]\d\.\d{4} \|/);
    expect(md).toMatch(/\| random \|.*\| p = /);
    expect(md).toContain('plots/ablate_recall20.svg');
    expect(readFileSync(join(out, 'plots', 'ablate_recall20.svg'), 'utf8')).toContain(
      'data-group="popularity"',
    );

    // A rerun reuses every finished run.
    const file = join(out, 'random', 'seed-2', 'results.json');
    const before = statSync(file).mtimeMs;
    const io2 = captureIo();
    expect(
      await main(['ablate', ...common, '--arms', 'random', ...sets, '--out', out], io2),
      io2.stderr(),
    ).toBe(0);
    expect(io2.stderr().match(/reusing/g)).toHaveLength(4);
    expect(statSync(file).mtimeMs).toBe(before);
  });

  it('the no-edges arm trains S2DR over A′ = A: the train matrix itself, S2DR on, one file for every seed', async () => {
    const out = mkdtempSync(join(tmpdir(), 'promax-ablate-noedges-'));
    const io = captureIo();
    // Without --arms and without profile embeddings: the A′ arms, no-edges among them, and not none.
    const code = await main(['ablate', ...common, ...sets, '--out', out, '--quiet'], io);
    expect(code, io.stderr()).toBe(0);
    const train = loadSparseMatrix(join(data, 'trn_mat.npz'));
    const file = join(out, 'inputs', 'no-edges', 'aug_trn_mat.npz');
    const aug = loadSparseMatrix(file);
    expect(Array.from(aug.indptr)).toEqual(Array.from(train.indptr));
    expect(Array.from(aug.indices)).toEqual(Array.from(train.indices));
    expect(Array.from(addedCounts(train, aug)).every((c) => c === 0)).toBe(true);
    const json = JSON.parse(readFileSync(join(out, 'ablate.json'), 'utf8'));
    expect(json.arms.map((a: { arm: string }) => a.arm)).toEqual([
      'base',
      'released',
      'random',
      'popularity',
      'no-edges',
    ]);
    const base = json.arms.find((a: { arm: string }) => a.arm === 'base');
    const arm = json.arms.find((a: { arm: string }) => a.arm === 'no-edges');
    expect(arm.description).toContain('A′ = A');
    for (const seed of [1, 2]) {
      const results = JSON.parse(readFileSync(join(out, 'no-edges', `seed-${seed}`, 'results.json'), 'utf8'));
      // S2DR is active (not skipped for an empty A′) and reads the one shared file.
      expect(results.promax.components.s2dr).toBe(true);
      expect(JSON.stringify(results.methods)).toContain(file);
      const epochs = readFileSync(join(out, 'no-edges', `seed-${seed}`, 'metrics.jsonl'), 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l))
        .filter((r) => r.type === 'epoch');
      expect(epochs.length).toBe(2);
      for (const e of epochs) expect(e.losses.s2dr).toBeGreaterThan(0);
    }
    // The in-batch terms alone change training: the arm is not the base under another name.
    expect(arm.runs.map((r: { test: unknown }) => r.test)).not.toEqual(
      base.runs.map((r: { test: unknown }) => r.test),
    );
  });

  it('the shuffled-profile arm hands every user another user’s profile; it needs profiles', async () => {
    const withProfiles = writeTinyDataset(true);
    const out = mkdtempSync(join(tmpdir(), 'promax-ablate-shuf-'));
    // One seed, one epoch, 16-d (the whitening keeps at most the profiles' 24 dimensions).
    const small = (...extra: string[]) => [
      'ablate',
      '--seeds',
      '1',
      '--max-epochs',
      '1',
      ...sets,
      '--set',
      'modelSettings.embeddingSize=16',
      ...extra,
    ];
    const io = captureIo();
    const code = await main(
      small('--dataset', withProfiles, '--arms', 'shuffled,sdr-off', '--out', out, '--quiet'),
      io,
    );
    expect(code, io.stderr()).toBe(0);
    const json = JSON.parse(readFileSync(join(out, 'ablate.json'), 'utf8'));
    expect(json.arms.map((a: { arm: string }) => a.arm)).toEqual(['base', 'shuffled', 'sdr-off']);
    const results = JSON.parse(readFileSync(join(out, 'shuffled', 'seed-1', 'results.json'), 'utf8'));
    expect(results.promax.components.sdr).toBe(true);
    // Every user holds another user's profile row; the item profiles are untouched.
    const own = loadEmbeddings(join(withProfiles, 'usr_emb_np.npy'));
    const shuffled = loadEmbeddings(join(out, 'inputs', 'shuffled-seed-1', 'usr_emb.npy'));
    const rowKey = (m: { cols: number; data: Float32Array }, u: number) =>
      Array.from(m.data.subarray(u * m.cols, (u + 1) * m.cols)).join(',');
    const ownRows = Array.from({ length: own.rows }, (_, u) => rowKey(own, u));
    const shuffledRows = Array.from({ length: own.rows }, (_, u) => rowKey(shuffled, u));
    expect([...shuffledRows].sort()).toEqual([...ownRows].sort());
    for (let u = 0; u < own.rows; u++) expect(shuffledRows[u]).not.toBe(ownRows[u]);
    const sdrOff = JSON.parse(readFileSync(join(out, 'sdr-off', 'seed-1', 'results.json'), 'utf8'));
    expect(sdrOff.promax.components).toMatchObject({ sdr: false, s2dr: true });

    // With profile embeddings the default arms add none (SDR alone); the base run is reused.
    const ioDefault = captureIo();
    expect(await main(small('--dataset', withProfiles, '--out', out), ioDefault), ioDefault.stderr()).toBe(0);
    expect(ioDefault.stderr()).toMatch(/reusing lightgcn base seed 1/);
    const defaults = JSON.parse(readFileSync(join(out, 'ablate.json'), 'utf8'));
    expect(defaults.arms.map((a: { arm: string }) => a.arm)).toEqual([
      'base',
      'released',
      'random',
      'popularity',
      'no-edges',
      'none',
    ]);
    const none = JSON.parse(readFileSync(join(out, 'none', 'seed-1', 'results.json'), 'utf8'));
    expect(none.promax.components).toMatchObject({ sdr: true, s2dr: false });

    // Without profile embeddings, none would be the base and sdr-off the released arm: refused
    // before anything trains.
    for (const [arm, twin] of [
      ['none', 'the base'],
      ['sdr-off', 'the released arm'],
    ]) {
      const empty = mkdtempSync(join(tmpdir(), 'promax-ablate-dup-'));
      const ioDup = captureIo();
      expect(await main(['ablate', ...common, '--arms', `random,${arm}`, '--out', empty], ioDup)).toBe(2);
      expect(ioDup.stderr()).toContain(`arm '${arm}' would train ${twin} again`);
      expect(ioDup.stderr()).toMatch(/no-edges|--embeddings DIR/);
      expect(existsSync(join(empty, 'base'))).toBe(false);
    }

    // Profile embeddings named in a --config file count too: none is then SDR alone, not refused.
    const embDir = mkdtempSync(join(tmpdir(), 'promax-ablate-emb-'));
    saveEmbeddings(join(embDir, 'usr_emb.npy'), loadEmbeddings(join(withProfiles, 'usr_emb_np.npy')));
    saveEmbeddings(join(embDir, 'itm_emb.npy'), loadEmbeddings(join(withProfiles, 'itm_emb_np.npy')));
    const configFile = join(embDir, 'run.json');
    writeFileSync(configFile, JSON.stringify({ embeddings: embDir }));
    const viaFile = mkdtempSync(join(tmpdir(), 'promax-ablate-file-'));
    const ioFile = captureIo();
    expect(
      await main(
        small('--dataset', data, '--arms', 'none', '--config', configFile, '--out', viaFile),
        ioFile,
      ),
      ioFile.stderr(),
    ).toBe(0);
    const noneViaFile = JSON.parse(readFileSync(join(viaFile, 'none', 'seed-1', 'results.json'), 'utf8'));
    expect(noneViaFile.promax.components).toMatchObject({ sdr: true, s2dr: false });

    const io2 = captureIo();
    expect(await main(['ablate', ...common, '--arms', 'shuffled', '--out', out], io2)).not.toBe(0);
    expect(io2.stderr()).toMatch(/needs profile embeddings/);
    const io3 = captureIo();
    expect(await main(['ablate', ...common, '--arms', 'llm', '--out', out], io3)).not.toBe(0);
    expect(io3.stderr()).toMatch(/--arm-aug llm=FILE/);
  });
});
