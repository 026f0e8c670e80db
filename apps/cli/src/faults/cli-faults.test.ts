// Issue 16, in process: every class of "lost data or misled" has a test here that fails on the
// code before the fix (overwrite, divergence, silent zeros, unbounded K, hidden warnings,
// duplicate seeds, filesystem errors, interrupted summaries, progress rate, hint wording).
import { copyFileSync, existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { csrFromCoo } from '@promax/core';
import { saveEmbeddings, saveSparseMatrix } from '@promax/data';
import { checkRunDirectory } from '@promax/pipeline';
import { describe, expect, it } from 'vitest';
import { trainingSummary } from '../commands/train.js';
import { createProgressRenderer } from '../io.js';
import { main } from '../main.js';
import { captureIo } from '../test-util/capture-io.js';
import { freshDir, trainArgs, writeTinyDataset } from './fault-fixtures.test-util.js';

const data = writeTinyDataset();

async function run(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const io = captureIo();
  const code = await main(args, io);
  return { code, out: io.stdout(), err: io.stderr() };
}

const readJson = (path: string) => JSON.parse(readFileSync(path, 'utf8'));

describe('issue 16: run directories are transactional', () => {
  it('a failed --overwrite (divergence) leaves the finished run whole, and readers still serve it', async () => {
    const out = join(freshDir('overwrite'), 'run');
    const first = await run(trainArgs(data, out, ['--max-epochs', '3', '--json']));
    expect(first.code, first.err).toBe(0);
    const before = readJson(join(out, 'results.json'));
    const emb = readFileSync(join(out, 'user_emb.npy'));
    const { runId } = checkRunDirectory(out);
    expect(runId).toMatch(/^\d{8}-\d{6}-[0-9a-f]{8}$/);

    const second = await run(
      trainArgs(data, out, ['--max-epochs', '3', '--overwrite', '--set', 'trainer.lr=1e308']),
    );
    expect(second.code).toBe(2);
    expect(second.err).toMatch(/error \[DIVERGED\]: training diverged at epoch 1/);
    expect(readJson(join(out, 'results.json'))).toEqual(before);
    expect(readFileSync(join(out, 'user_emb.npy'))).toEqual(emb);
    expect(checkRunDirectory(out).runId).toBe(runId);
    expect(readdirSync(join(out, '..')).filter((f) => f.startsWith('.run'))).toEqual([]);
    const rec = await run(['recommend', '--run', out, '--user', '3', '--k', '3', '--json']);
    expect(rec.code, rec.err).toBe(0);
  });

  it('refuses a run directory that mixes files of two runs (recommend, report, eval --run)', async () => {
    const root = freshDir('mixed');
    const a = join(root, 'a');
    const b = join(root, 'b');
    for (const [out, seed] of [
      [a, '1'],
      [b, '2'],
    ]) {
      const r = await run(trainArgs(data, out, ['--max-epochs', '2', '--seed', seed, '--json']));
      expect(r.code, r.err).toBe(0);
    }
    copyFileSync(join(b, 'user_emb.npy'), join(a, 'user_emb.npy'));
    for (const args of [
      ['recommend', '--run', a, '--user', '3'],
      ['report', '--run', a, '--out', join(root, 'rep')],
      ['eval', '--run', a],
    ]) {
      const r = await run(args);
      expect(r.code, `${args[0]}: ${r.err}`).toBe(2);
      expect(r.err).toMatch(/error \[INCONSISTENT_RUN\]: user_emb\.npy does not belong to run/);
      expect(r.err).toMatch(/--overwrite/);
    }
    // The intact run evaluates through eval --run with the dataset's own splits.
    const ok = await run(['eval', '--run', b, '--json']);
    expect(ok.code, ok.err).toBe(0);
    expect(JSON.parse(ok.out).users).toBe(60);
  });

  it('prints fix hints in CLI words (--overwrite), not library options (overwrite: true)', async () => {
    const out = join(freshDir('hint'), 'run');
    expect((await run(trainArgs(data, out, ['--max-epochs', '1']))).code).toBe(0);
    const again = await run(trainArgs(data, out, ['--max-epochs', '1']));
    expect(again.code).toBe(2);
    expect(again.err).toMatch(/already holds a run.*pass --overwrite/);
    expect(again.err).not.toMatch(/overwrite: true/);
  });
});

describe('issue 16: filesystem errors are named', () => {
  it('an --out under a file, and an --out that is a file: IO_ERROR with the path, no stack trace', async () => {
    const root = freshDir('fs');
    const file = join(root, 'plain-file');
    writeFileSync(file, 'x');
    for (const out of [file, join(file, 'run')]) {
      const r = await run(trainArgs(data, out, ['--max-epochs', '1']));
      expect(r.code).toBe(2);
      expect(r.err).toMatch(/^error \[IO_ERROR\]: /);
      expect(r.err).toContain(file);
      expect(r.err).toMatch(/Fix: /);
      expect(r.err).not.toMatch(/unexpected error|\n\s+at /);
    }
  });
});

describe('issue 16: filesystem errors of other commands are named too', () => {
  it('report --out under a file: IO_ERROR with the path instead of a stack trace', async () => {
    const root = freshDir('fs-report');
    const out = join(root, 'run');
    expect((await run(trainArgs(data, out, ['--max-epochs', '1']))).code).toBe(0);
    const file = join(root, 'plain-file');
    writeFileSync(file, 'x');
    const r = await run(['report', '--run', out, '--out', join(file, 'rep'), '--no-sparsity']);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(
      /^error \[IO_ERROR\]: cannot access: a part of the path is a file, not a folder \(file .*plain-file.*\)\. Fix: /m,
    );
    expect(r.err).not.toMatch(/unexpected error|\n\s+at /);
  });
});

describe('issue 16: evaluations that would read as zeros are refused or reported', () => {
  const root = freshDir('eval');
  const csr = (pairs: [number, number][]) =>
    csrFromCoo({ rows: 4, cols: 5, row: pairs.map((p) => p[0]), col: pairs.map((p) => p[1]) }).matrix;
  const train = join(root, 'train.npz');
  const empty = join(root, 'empty.npz');
  const test = join(root, 'test.npz');
  saveSparseMatrix(
    train,
    csr([
      [0, 0],
      [1, 1],
      [2, 2],
      [3, 3],
    ]),
  );
  saveSparseMatrix(empty, csr([]));
  saveSparseMatrix(
    test,
    csr([
      [0, 1],
      [1, 2],
      [2, 3],
      [3, 4],
    ]),
  );
  const emb = (rows: number) => ({
    rows,
    cols: 2,
    data: Float32Array.from({ length: rows * 2 }, (_, i) => (i % 3) + 1),
  });
  saveEmbeddings(join(root, 'u.npy'), emb(4));
  saveEmbeddings(join(root, 'i.npy'), emb(5));
  const evalArgs = (t: string, ...extra: string[]) => [
    'eval',
    '--user-emb',
    join(root, 'u.npy'),
    '--item-emb',
    join(root, 'i.npy'),
    '--train',
    train,
    '--test',
    t,
    ...extra,
  ];

  it('an empty held-out split is refused (not 0 users with metrics of 0.0)', async () => {
    const r = await run(evalArgs(empty));
    expect(r.code).toBe(2);
    expect(r.err).toMatch(
      /error \[INVALID_DATA\]: the held-out matrix has no entries.*pass a non-empty --test split/,
    );
    expect(r.err).toMatch(/warning: --test .* the matrix has no entries/);
  });

  it('test identical to train is refused; partial overlap is reported', async () => {
    const same = await run(evalArgs(train));
    expect(same.code).toBe(2);
    expect(same.err).toMatch(
      /error \[SPLIT_OVERLAP\]: every one of the 4 held-out entries is also a train entry/,
    );
    const partial = join(root, 'partial.npz');
    saveSparseMatrix(
      partial,
      csr([
        [0, 0],
        [0, 1],
        [1, 2],
      ]),
    );
    const r = await run(evalArgs(partial, '--k', '1,5', '--json'));
    expect(r.code, r.err).toBe(0);
    expect(JSON.parse(r.out).warnings).toEqual([
      '1 of 3 held-out entries (1 users) are also train entries; they are masked and count as misses',
    ]);
  });

  it('--k 1000000000 and --k 2^53 answer at once with a note instead of allocating until killed', async () => {
    for (const k of ['1000000000', String(2 ** 53)]) {
      const t0 = performance.now();
      const r = await run(evalArgs(test, '--k', `5,${k}`, '--json'));
      expect(r.code, r.err).toBe(0);
      expect(performance.now() - t0).toBeLessThan(5000);
      const res = JSON.parse(r.out);
      expect(res[`recall@${k}`]).toBe(1);
      expect(res.warnings[0]).toMatch(new RegExp(`cutoff K=${k} exceeds the 5 items`));
    }
  });
});

describe('issue 16: warnings are shown, lists are checked', () => {
  it('train prints the loader warnings (counted) and says why S2DR skips an empty A′', async () => {
    const ds = writeTinyDataset({ emptyAug: true, usersWithoutTrain: 2 });
    const out = join(freshDir('warn'), 'run');
    const r = await run(trainArgs(ds, out, ['--max-epochs', '2', '--promax']));
    expect(r.code, r.err).toBe(0);
    expect(r.err).toMatch(
      /warning: dataset promax-faults-data-\w+ \(loader warning 1 of 2\): the augmented matrix A′ has no edges/,
    );
    expect(r.err).toMatch(/loader warning 2 of 2\): 2 users have no train items/);
    expect(r.err).toMatch(/promax: no term runs.*S2DR skipped: the augmented graph A′ has no edges/);
    expect(readJson(join(out, 'results.json')).promax.components.s2dr).toBe(false);
  });

  it('reproduce refuses duplicate seeds and duplicate models before training anything', async () => {
    const out = join(freshDir('dup'), 'rep');
    const seeds = await run([
      'reproduce',
      '--dataset',
      data,
      '--models',
      'mf',
      '--seeds',
      '2025,2025',
      '--out',
      out,
    ]);
    expect(seeds.code).toBe(2);
    expect(seeds.err).toMatch(/error \[INVALID_ARGUMENT\]: --seeds names '2025' more than once/);
    const models = await run(['reproduce', '--dataset', data, '--models', 'mf,lightgcn,mf', '--out', out]);
    expect(models.code).toBe(2);
    expect(models.err).toMatch(/--models names 'mf' more than once/);
    expect(existsSync(out)).toBe(false);
  });

  it('a repeated warning is printed once and counted at the end', () => {
    const io = captureIo();
    const render = createProgressRenderer(io);
    for (let i = 0; i < 3; i++) render({ type: 'warning', message: 'same thing' });
    render({ type: 'warning', message: 'other thing' });
    render.flushWarnings();
    expect(io.stderr()).toBe(
      'warning: same thing\nwarning: other thing\nwarning (3×, shown once): same thing\n',
    );
  });
});

describe('issue 16: interrupted runs and progress read right', () => {
  it('the summary of an interrupted run has no "best epoch null" or "undefined s"', () => {
    const text = trainingSummary({
      model: 'mf',
      dataset: 'd',
      seed: 1,
      select_metric: 'recall@20',
      best_epoch: null,
      val: null,
      test: { 'recall@20': 0.1 },
      eval_users: { val: null, test: 3 },
      timing: { train_s_per_epoch: null, eval_s: null, test_eval_s: 0.1, total_s: 1 },
      epochs: 0,
      stopped: 'aborted',
      history: [],
      promax: { enabled: false },
      model_settings: {},
    });
    expect(text).toMatch(/no epoch completed, stopped: interrupted/);
    expect(text).toMatch(/train n\/a \(no epoch completed\), eval n\/a/);
    expect(text).not.toMatch(/null|undefined/);
  });

  it('rate and ETA follow the current pace after epoch 1, and the ETA does not grow epoch by epoch', () => {
    let t = 0;
    const io = { ...captureIo(), isTTY: true };
    const render = createProgressRenderer(io, {}, () => t);
    const etaAt = (epoch: number, msPerBatch: number): string => {
      let line = '';
      for (let b = 1; b <= 100; b++) {
        t += msPerBatch;
        const before = io.stderr().length;
        render({ type: 'task-progress', task: 'train', done: b, total: 100, unit: 'batches' });
        if (b === 60) line = io.stderr().slice(before);
      }
      render({ type: 'epoch-end', epoch, losses: { loss: 1 }, trainMs: msPerBatch * 100 });
      return line;
    };
    // Same pace every epoch: the ETA at batch 60 stays 40 s (the old rate averaged from epoch 1's
    // first batch and reset its count every epoch, so the ETA grew).
    for (let e = 1; e <= 3; e++) expect(etaAt(e, 1000)).toMatch(/60\/100 batches 1\.0 batches\/s ETA 0:40/);
    // Ten times faster from epoch 4: the rate follows within the epoch.
    expect(etaAt(4, 100)).toMatch(/60\/100 batches 10\.0 batches\/s ETA 0:04/);
  });
});
