import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type CsrMatrix, csrFromCoo, Rng } from '@promax/core';
import { loadSparseMatrix, saveSparseMatrix } from '@promax/data';
import { pairedTTest, RankingEvaluator } from '@promax/eval';
import { noRedisReason, startRedisServer, type TestRedis } from '@promax/queue/test';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { type Child, noCliReason, startCli, waitForStderr } from '../faults/fault-fixtures.test-util.js';
import { main } from '../main.js';
import { captureIo } from '../test-util/capture-io.js';
import { renderTune } from './tune.js';

const noQueue = noRedisReason ?? noCliReason;
if (noQueue) console.log(`[skip] promax tune --queue: ${noQueue}`);

/** 48 users in 4 taste groups over 32 items; A′ adds 1–3 same-group items per user. */
function writeTinyDataset(): string {
  const dir = mkdtempSync(join(tmpdir(), 'promax-tune-data-'));
  const rng = new Rng(21);
  const U = 48;
  const I = 32;
  const parts: [number, number][][] = [[], [], [], []];
  for (let u = 0; u < U; u++) {
    const items = Array.from({ length: 8 }, (_, k) => (u % 4) * 8 + k);
    rng.shuffle(items);
    for (const i of items.slice(0, 3)) parts[0].push([u, i]);
    parts[1].push([u, items[3]]);
    parts[2].push([u, items[4]]);
    for (const i of items.slice(5, 6 + (u % 3))) parts[3].push([u, i]);
  }
  const csr = (pairs: [number, number][]) =>
    csrFromCoo({ rows: U, cols: I, row: pairs.map((p) => p[0]), col: pairs.map((p) => p[1]) }).matrix;
  saveSparseMatrix(join(dir, 'trn_mat.npz'), csr(parts[0]));
  saveSparseMatrix(join(dir, 'val_mat.npz'), csr(parts[1]));
  saveSparseMatrix(join(dir, 'tst_mat.npz'), csr(parts[2]));
  saveSparseMatrix(join(dir, 'aug_trn_mat.npz'), csr([...parts[0], ...parts[3]]));
  return dir;
}

const same = (a: CsrMatrix, b: CsrMatrix) =>
  a.rows === b.rows &&
  a.indices.length === b.indices.length &&
  a.indices.every((v, k) => v === b.indices[k]) &&
  a.indptr.every((v, k) => v === b.indptr[k]);

const data = writeTinyDataset();
const spaceFile = join(mkdtempSync(join(tmpdir(), 'promax-tune-space-')), 'space.yaml');
writeFileSync(spaceFile, 'method:\n  s2dr.lambda2: { low: 0.01, high: 1, log: true }\n');
const args = (out: string) => [
  'tune',
  '--dataset',
  data,
  '--model',
  'lightgcn',
  '--method',
  'promax',
  '--space',
  spaceFile,
  '--trials',
  '3',
  '--max-epochs',
  '3',
  '--seed',
  '4',
  '--set',
  'trainer.batchSize=64',
  '--set',
  'trainer.evalEvery=1',
  '--threads',
  '1',
  '--out',
  out,
  '--quiet',
];

describe('promax tune', () => {
  afterEach(() => vi.restoreAllMocks());
  const test = loadSparseMatrix(join(data, 'tst_mat.npz'));

  it('searches on validation, includes the base, evaluates test once (chosen trial), and resumes without retraining', async () => {
    const evaluate = vi.spyOn(RankingEvaluator.prototype, 'evaluate');
    const out = mkdtempSync(join(tmpdir(), 'promax-tune-'));
    const io = captureIo();
    // A method setting on the command line holds for every trial of the method and is dropped from
    // the base arm (which runs without the method) instead of failing it.
    const withSetting = [...args(out), '--set', 'methodSettings.promax.s2dr.tauS=0.3'];
    expect(await main(withSetting, io), io.stderr()).toBe(0);
    const json = JSON.parse(readFileSync(join(out, 'tune.json'), 'utf8'));
    const baseTrial = json.trials.find((t: { base: boolean }) => t.base);
    expect(baseTrial.status).toBe('ok');
    const baseConfig = JSON.parse(readFileSync(join(baseTrial.runs[0], 'config.json'), 'utf8'));
    expect(baseConfig.methods ?? []).toEqual([]);
    for (const t of json.trials.filter((x: { base: boolean }) => !x.base)) {
      const config = JSON.parse(readFileSync(join(t.runs[0], 'config.json'), 'utf8'));
      expect(config.methods[0].settings.s2dr.tauS).toBe(0.3);
    }
    expect(json.budgets).toEqual([1, 3]);
    expect(json.trials.map((t: { id: string }) => t.id)).toEqual(['base', 't01', 't02', 't03']);
    expect(json.base.val['recall@20']).toBeGreaterThan(0);
    expect(json.best.test['recall@20']).toBeGreaterThanOrEqual(0);
    expect(json.trained).toBeGreaterThanOrEqual(6); // 4 at 1 epoch, ≥ 2 (the base + the best) at 3

    // The evaluator saw the test split exactly once: the chosen trial's.
    const testCalls = evaluate.mock.calls.filter(([input]) => same(input.heldOut, test));
    expect(testCalls).toHaveLength(1);
    expect(evaluate.mock.calls.length).toBeGreaterThan(6); // validation evaluations
    for (const t of json.trials) {
      expect(t.runs).toHaveLength(t.rungs.length);
      for (const dir of t.runs) {
        const results = JSON.parse(readFileSync(join(dir, 'results.json'), 'utf8'));
        expect(results.test).toEqual({});
      }
    }
    const chosen = json.trials.find((t: { id: string }) => t.id === json.best.id);
    expect(chosen.rungs.at(-1).budget).toBe(3);
    const finalists = json.trials.filter(
      (t: { rungs: { budget: number }[] }) => t.rungs.at(-1)?.budget === 3,
    );
    expect(finalists.map((t: { id: string }) => t.id)).toContain('base');
    for (const f of finalists) expect(json.best.val['recall@20']).toBeGreaterThanOrEqual(f.val['recall@20']);
    const md = readFileSync(join(out, 'tune.md'), 'utf8');
    expect(md).toMatch(json.best.base ? /keep promax off/ : /\*\*Chosen: t0\d\*\*/);
    expect(existsSync(join(out, 'plots', 'tune_search.svg'))).toBe(true);

    // Resume: the same command trains nothing and chooses the same trial.
    evaluate.mockClear();
    const io2 = captureIo();
    expect(await main(withSetting, io2), io2.stderr()).toBe(0);
    const again = JSON.parse(readFileSync(join(out, 'tune.json'), 'utf8'));
    expect(again.trained).toBe(0);
    expect(again.best).toEqual(json.best);
    expect(evaluate.mock.calls.filter(([input]) => !same(input.heldOut, test))).toHaveLength(0);
  });

  it('--confirm-seeds trains the chosen settings and the base per seed after the choice, pairs them by seed, and reuses them', async () => {
    const evaluate = vi.spyOn(RankingEvaluator.prototype, 'evaluate');
    const out = mkdtempSync(join(tmpdir(), 'promax-tune-confirm-'));
    const space = join(out, 'space.yaml');
    // The base model (--method none) at 2 dimensions against one 32-dimensional trial: the trial wins.
    writeFileSync(space, 'model:\n  embeddingSize: { values: [32] }\n');
    const base = args(out).map((a) => (a === spaceFile ? space : a === 'promax' ? 'none' : a));
    base.splice(base.indexOf('--trials') + 1, 1, '1');
    base.push('--set', 'modelSettings.embeddingSize=2');
    const confirmArgs = [...base, '--confirm-seeds', '7,8,9', '--confirm-max-epochs', '4'];
    const io = captureIo();
    expect(await main(confirmArgs, io), io.stderr()).toBe(0);
    const json = JSON.parse(readFileSync(join(out, 'tune.json'), 'utf8'));
    expect(json.best.id).toBe('t01');
    const c = json.confirm;
    expect(c.seeds).toEqual([7, 8, 9]);
    expect(c.maxEpochs).toBe(4);
    expect(c.trained).toBe(6);
    expect(c.chosen.id).toBe('t01');
    expect(c.base.id).toBe('base');
    const values: Record<string, number[]> = {};
    for (const arm of ['chosen', 'base'] as const) {
      expect(c[arm].runs.map((r: { seed: number }) => r.seed)).toEqual([7, 8, 9]);
      values[arm] = [];
      for (const r of c[arm].runs) {
        expect(r.dir).toBe(join(out, 'confirm', arm, `seed-${r.seed}`));
        const config = JSON.parse(readFileSync(join(r.dir, 'config.json'), 'utf8'));
        expect(config.seed).toBe(r.seed);
        expect(config.modelSettings.embeddingSize).toBe(arm === 'chosen' ? 32 : 2);
        expect(config.trainer.maxEpochs).toBe(4);
        const results = JSON.parse(readFileSync(join(r.dir, 'results.json'), 'utf8'));
        expect(results.test).toEqual(r.test);
        expect(results.test['recall@20']).toBeGreaterThanOrEqual(0);
        values[arm].push(results.test['recall@20']);
      }
    }
    // Paired by seed, as scipy.stats.ttest_rel(chosen, base) (our t-test matches SciPy on fixtures).
    const t = pairedTTest(values.chosen, values.base);
    expect(c.tests['recall@20'].n).toBe(3);
    if (Number.isNaN(t.pValue)) expect(c.tests['recall@20'].p_value).toBeNull();
    else expect(c.tests['recall@20'].p_value).toBeCloseTo(t.pValue, 12);
    const mean = (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length;
    expect(c.gain['recall@20']).toBeCloseTo(mean(values.chosen) / mean(values.base) - 1, 12);
    // Test is read once for the chosen trial, then once per confirmation run; the search's own
    // trial runs still never saw it.
    expect(evaluate.mock.calls.filter(([input]) => same(input.heldOut, test))).toHaveLength(1 + 6);
    for (const trial of json.trials)
      for (const dir of trial.runs)
        expect(JSON.parse(readFileSync(join(dir, 'results.json'), 'utf8')).test).toEqual({});
    const md = readFileSync(join(out, 'tune.md'), 'utf8');
    expect(md).toContain('## Confirmation over seeds (test split, after the choice)');
    expect(md).toMatch(/\| gain \|.*p [=<]/);

    // The choice is the search's alone: without --confirm-seeds the same search chooses the same.
    const plain = captureIo();
    expect(await main(base, plain), plain.stderr()).toBe(0);
    const plainJson = JSON.parse(readFileSync(join(out, 'tune.json'), 'utf8'));
    expect(plainJson.best).toEqual(json.best);
    expect(plainJson.confirm).toBeUndefined();
    // Rerun with confirmation: nothing trains; the only test evaluation is the chosen trial's.
    evaluate.mockClear();
    const again = captureIo();
    expect(await main([...confirmArgs.filter((a) => a !== '--quiet')], again), again.stderr()).toBe(0);
    expect(again.stderr().match(/reusing confirm /g)).toHaveLength(6);
    expect(evaluate.mock.calls.filter(([input]) => same(input.heldOut, test))).toHaveLength(1);
    const c2 = JSON.parse(readFileSync(join(out, 'tune.json'), 'utf8')).confirm;
    expect(c2.trained).toBe(0);
    expect({ ...c2, trained: c.trained, wall_s: c.wall_s }).toEqual(c);
    const dup = captureIo();
    expect(await main([...base, '--confirm-seeds', '7,7'], dup)).not.toBe(0);
    expect(dup.stderr()).toMatch(/--confirm-seeds names '7' more than once/);
  });

  it('says loudly when the base arm failed: no comparison with the model alone', () => {
    const trial = (id: string, base: boolean, status: 'ok' | 'failed', reason?: string) => ({
      id,
      base,
      key: id,
      settings: { method: base ? {} : { 's2dr.lambda2': 0.1 }, model: {} },
      val: status === 'ok' ? { 'recall@20': 0.2 } : null,
      epochs: status === 'ok' ? 3 : 0,
      status,
      ...(reason ? { reason } : {}),
      rungs: [{ budget: 3, epochs: 3, value: status === 'ok' ? 0.2 : null, reused: false }],
    });
    const result = {
      metric: 'recall@20',
      budgets: [3],
      trained: 2,
      trials: [trial('base', true, 'failed', 'engine crashed'), trial('t01', false, 'ok')],
      base: { settings: { method: {}, model: {} }, val: null, epochs: 0 },
      best: { ...trial('t01', false, 'ok'), val: { 'recall@20': 0.2 }, test: { 'recall@20': 0.1 } },
      baseWins: false,
    };
    const opts = {
      dataset: 'd',
      model: 'lightgcn',
      method: 'promax',
      trials: 1,
      maxEpochs: 3,
      seed: 1,
      outDir: '/x',
    };
    const md = renderTune(opts, result as never, { method: {}, model: {} }, 1);
    expect(md).toContain(
      '**The base arm failed (engine crashed), so nothing here compares promax with the model alone.**',
    );
    const ok = renderTune(
      opts,
      { ...result, trials: [trial('base', true, 'ok'), trial('t01', false, 'ok')] } as never,
      { method: {}, model: {} },
      1,
    );
    expect(ok).not.toContain('base arm failed');
    expect(ok).toContain('confirm the chosen settings over several seeds (--confirm-seeds)');
    // The base chosen under --confirm-seeds: nothing to confirm, and no advice to pass the flag.
    const baseWins = {
      ...result,
      trials: [trial('base', true, 'ok'), trial('t01', false, 'ok')],
      baseWins: true,
    };
    const md3 = renderTune(
      { ...opts, confirmSeeds: [1, 2] },
      { ...baseWins, best: { ...baseWins.trials[0], test: {} } } as never,
      { method: {}, model: {} },
      1,
    );
    expect(md3).toContain('the base was chosen, so there is nothing to confirm');
    expect(md3).not.toContain('(--confirm-seeds)');
  });

  it('--method none tunes the base model itself on a model-only space', async () => {
    const out = mkdtempSync(join(tmpdir(), 'promax-tune-none-'));
    const space = join(out, 'space.yaml');
    writeFileSync(space, 'model:\n  layers: { values: [1, 2] }\n');
    const io = captureIo();
    const argv = args(out).map((a) => (a === spaceFile ? space : a === 'promax' ? 'none' : a));
    argv.splice(argv.indexOf('--trials') + 1, 1, '2');
    expect(await main(argv, io), io.stderr()).toBe(0);
    const json = JSON.parse(readFileSync(join(out, 'tune.json'), 'utf8'));
    for (const t of json.trials) {
      const config = JSON.parse(readFileSync(join(t.runs[0], 'config.json'), 'utf8'));
      expect(config.methods ?? []).toEqual([]);
      if (!t.base) expect(config.modelSettings.layers).toBe(t.settings.model.layers);
    }
    const bad = join(out, 'bad.yaml');
    writeFileSync(bad, 'method:\n  s2dr.lambda2: { values: [0.1] }\n');
    const io2 = captureIo();
    expect(
      await main(
        argv.map((a) => (a === space ? bad : a)),
        io2,
      ),
    ).not.toBe(0);
    expect(io2.stderr()).toMatch(/model settings only/);
  });
});

describe.skipIf(noQueue !== undefined)('promax tune --queue with two promax worker processes', () => {
  let redis: TestRedis | undefined;
  const workers: Child[] = [];
  const finished = () => workers.map((w) => (w.stderr().match(/^finished /gm) ?? []).length);

  beforeAll(async () => {
    redis = await startRedisServer();
    for (let k = 0; k < 2; k++) {
      const w = startCli(['worker', '--queue', redis.url, '--threads', '1']);
      workers.push(w);
      await waitForStderr(w, /worker ready/);
    }
  });
  afterAll(async () => {
    for (const w of workers) w.proc.kill('SIGTERM');
    await Promise.all(workers.map((w) => w.exit));
    redis?.stop();
  });

  it('trains each rung’s trials as jobs on the workers, chooses what a local search chooses, and retrains nothing when resubmitted', async () => {
    const url = (redis as TestRedis).url;
    const outQ = mkdtempSync(join(tmpdir(), 'promax-tune-q-'));
    const queued = captureIo();
    expect(await main([...args(outQ), '--queue', url], queued), queued.stderr()).toBe(0);
    const q = JSON.parse(readFileSync(join(outQ, 'tune.json'), 'utf8'));
    const local = captureIo();
    const outL = mkdtempSync(join(tmpdir(), 'promax-tune-l-'));
    expect(await main(args(outL), local), local.stderr()).toBe(0);
    const l = JSON.parse(readFileSync(join(outL, 'tune.json'), 'utf8'));
    // The same search, trial by trial and rung by rung, and the same choice and test metrics.
    const rungs = (r: { trials: { id: string; status: string; rungs: unknown[] }[] }) =>
      r.trials.map((t) => [t.id, t.status, t.rungs]);
    expect(rungs(q)).toEqual(rungs(l));
    expect(q.best).toEqual(l.best);
    // Every training ran on a worker, once.
    const trained = finished();
    expect(trained.reduce((a, b) => a + b, 0)).toBe(q.trained);
    expect(q.trained).toBeGreaterThanOrEqual(6);
    expect(readFileSync(join(outQ, 'tune.md'), 'utf8')).toMatch(/trainings run on the queue’s workers/);

    // Resubmitted: the trial store answers; nothing reaches the workers.
    const again = captureIo();
    expect(await main([...args(outQ), '--queue', url], again), again.stderr()).toBe(0);
    expect(JSON.parse(readFileSync(join(outQ, 'tune.json'), 'utf8')).trained).toBe(0);
    // Even without the store, the finished run folders (same run keys) are reused, not retrained.
    rmSync(join(outQ, 'tune-trials.json'));
    const third = captureIo();
    expect(await main([...args(outQ), '--queue', url], third), third.stderr()).toBe(0);
    expect(JSON.parse(readFileSync(join(outQ, 'tune.json'), 'utf8')).best).toEqual(q.best);
    expect(finished()).toEqual(trained);
  }, 300_000);
});
