import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type CsrMatrix, csrFromCoo, type Matrix, type ProgressEvent, PromaxError, Rng } from '@promax/core';
import { RankingEvaluator } from '@promax/eval';
import { afterAll, describe, expect, it } from 'vitest';
import { loadCheckpoint } from './checkpoint.js';
import { type TrainData, type TrainResult, train } from './train.js';
import { cloneState, type StateDict, type Trainable, type TripleBatch } from './trainable.js';
import { parseConfig } from './trainer-config.js';

const root = await mkdtemp(join(tmpdir(), 'promax-train-'));
afterAll(() => rm(root, { recursive: true, force: true }));

// ---------------------------------------------------------------------------------------------
// A synthetic low-rank dataset: 200 users × 150 items, rank-4 preferences, 25 interactions per
// user drawn by Gumbel-top-k on the scores, split 15 / 5 / 5 into train / val / test.

const USERS = 200;
const ITEMS = 150;

function syntheticData(seed: number): TrainData & { val: CsrMatrix } {
  const rng = new Rng(seed);
  const rank = 4;
  const uf = Float64Array.from({ length: USERS * rank }, () => rng.nextNormal());
  const vf = Float64Array.from({ length: ITEMS * rank }, () => rng.nextNormal());
  const splits = [
    { row: [] as number[], col: [] as number[] },
    { row: [] as number[], col: [] as number[] },
    { row: [] as number[], col: [] as number[] },
  ];
  const key = new Float64Array(ITEMS);
  const order = Int32Array.from({ length: ITEMS }, (_, i) => i);
  for (let u = 0; u < USERS; u++) {
    for (let i = 0; i < ITEMS; i++) {
      let s = 0;
      for (let f = 0; f < rank; f++) s += uf[u * rank + f] * vf[i * rank + f];
      key[i] = 1.5 * s - Math.log(-Math.log(rng.nextFloat() + 1e-12));
    }
    const top = [...order].sort((a, b) => key[b] - key[a]).slice(0, 25);
    rng.shuffle(top);
    top.forEach((item, k) => {
      const split = splits[k < 15 ? 0 : k < 20 ? 1 : 2];
      split.row.push(u);
      split.col.push(item);
    });
  }
  const [train, val, test] = splits.map((s) => csrFromCoo({ rows: USERS, cols: ITEMS, ...s }).matrix);
  return {
    train,
    val,
    test,
    numUsers: USERS,
    numItems: ITEMS,
    name: 'synthetic-lowrank',
    userIds: Array.from({ length: USERS }, (_, u) => `user${u}`),
    itemIds: Array.from({ length: ITEMS }, (_, i) => 1000 + i),
  };
}

/** Expected recall@20 of a uniformly random ranking (train items masked), averaged over users. */
function randomRecallAt20(data: TrainData, heldOut: CsrMatrix): number {
  let sum = 0;
  let n = 0;
  for (let u = 0; u < data.numUsers; u++) {
    if (heldOut.indptr[u + 1] === heldOut.indptr[u]) continue;
    sum += Math.min(1, 20 / (data.numItems - (data.train.indptr[u + 1] - data.train.indptr[u])));
    n++;
  }
  return sum / n;
}

// ---------------------------------------------------------------------------------------------
// BPR-MF with hand-written gradients and plain per-triple SGD: the reference Trainable.

interface BprMfOptions {
  numUsers: number;
  numItems: number;
  dim: number;
  lr: number;
  l2: number;
  seed: number;
  /** From this epoch on, batches add noise instead of learning (the val metric degrades). */
  degradeFrom?: number;
  /** From this epoch on, report a NaN loss. */
  nanFrom?: number;
}

class BprMf implements Trainable {
  readonly user: Float32Array;
  readonly item: Float32Array;
  calls = 0;
  private epoch = 0;
  private readonly noise: Rng;

  constructor(private readonly o: BprMfOptions) {
    const rng = new Rng(o.seed);
    this.user = Float32Array.from({ length: o.numUsers * o.dim }, () => 0.1 * rng.nextNormal());
    this.item = Float32Array.from({ length: o.numItems * o.dim }, () => 0.1 * rng.nextNormal());
    this.noise = rng.fork();
  }

  onEpochStart(epoch: number): void {
    this.epoch = epoch;
  }

  async trainBatch({ users, pos, neg }: TripleBatch): Promise<Record<string, number>> {
    this.calls++;
    const { dim: d, lr, l2 } = this.o;
    const U = this.user;
    const V = this.item;
    const learn = !(this.o.degradeFrom !== undefined && this.epoch >= this.o.degradeFrom);
    let bpr = 0;
    let reg = 0;
    for (let k = 0; k < users.length; k++) {
      const u = users[k] * d;
      const i = pos[k] * d;
      const j = neg[k] * d;
      let x = 0;
      for (let f = 0; f < d; f++) {
        x += U[u + f] * (V[i + f] - V[j + f]);
        reg += U[u + f] ** 2 + V[i + f] ** 2 + V[j + f] ** 2;
      }
      bpr += x > 0 ? Math.log1p(Math.exp(-x)) : -x + Math.log1p(Math.exp(x));
      if (!learn) continue;
      const g = 1 / (1 + Math.exp(x)); // −∂softplus(−x)/∂x
      for (let f = 0; f < d; f++) {
        const uf = U[u + f];
        const vi = V[i + f];
        const vj = V[j + f];
        U[u + f] += lr * (g * (vi - vj) - l2 * uf);
        V[i + f] += lr * (g * uf - l2 * vi);
        V[j + f] += lr * (-g * uf - l2 * vj);
      }
    }
    if (!learn) {
      for (let k = 0; k < U.length; k++) U[k] += 0.3 * this.noise.nextNormal();
      for (let k = 0; k < V.length; k++) V[k] += 0.3 * this.noise.nextNormal();
    }
    const n = users.length;
    const loss =
      this.o.nanFrom !== undefined && this.epoch >= this.o.nanFrom ? Number.NaN : bpr / n + l2 * (reg / n);
    return { loss, bpr: bpr / n, reg: l2 * (reg / n) };
  }

  async embed(): Promise<{ users: Matrix; items: Matrix }> {
    const d = this.o.dim;
    return {
      users: { rows: this.o.numUsers, cols: d, data: this.user.slice() },
      items: { rows: this.o.numItems, cols: d, data: this.item.slice() },
    };
  }

  getState(): StateDict {
    return {
      user_emb: { shape: [this.o.numUsers, this.o.dim], data: this.user },
      item_emb: { shape: [this.o.numItems, this.o.dim], data: this.item },
    };
  }

  setState(state: StateDict): void {
    this.user.set(state.user_emb.data);
    this.item.set(state.item_emb.data);
  }
}

const data = syntheticData(1);
const base = { lr: 0.05, batchSize: 256, seed: 7 };
const batchesPerEpoch = Math.ceil(data.train.indptr[USERS] / 256);
const makeModel = (extra: Partial<BprMfOptions> = {}, lr = base.lr) =>
  new BprMf({ numUsers: USERS, numItems: ITEMS, dim: 16, lr, l2: parseConfig({}).l2, seed: 3, ...extra });

async function evaluateState(state: StateDict, heldOut: CsrMatrix): Promise<Record<string, number>> {
  const m = makeModel();
  m.setState(state);
  const emb = await m.embed();
  const ev = new RankingEvaluator({ ks: [5, 10, 20] });
  try {
    return (await ev.evaluate({ userEmb: emb.users, itemEmb: emb.items, train: data.train, heldOut }))
      .metrics;
  } finally {
    await ev.release();
  }
}

const withoutTiming = (r: TrainResult) => ({
  ...r,
  timing: undefined,
  history: r.history.map((h) => ({ ...h, eval_s: undefined })),
});

describe('train', () => {
  it('learns: validation recall@20 ends well above random, with typed progress events', async () => {
    const events: ProgressEvent[] = [];
    const model = makeModel();
    const before = await evaluateState(cloneState(model.getState()), data.val);
    const result = await train({
      trainable: model,
      data,
      config: { ...base, maxEpochs: 30 },
      model: 'bpr-mf',
      onProgress: (e) => events.push(e),
    });
    const random = randomRecallAt20(data, data.val);
    expect(before['recall@20']).toBeLessThan(2 * random);
    expect(result.val?.['recall@20']).toBeGreaterThan(2.5 * random);
    expect(result.test['recall@20']).toBeGreaterThan(2.5 * randomRecallAt20(data, data.test));
    expect(result).toMatchObject({
      model: 'bpr-mf',
      dataset: 'synthetic-lowrank',
      seed: 7,
      epochs: 30,
      stopped: 'max-epochs',
    });
    expect(result.history.map((h) => h.epoch)).toEqual([3, 6, 9, 12, 15, 18, 21, 24, 27, 30]);
    expect(result.eval_users).toEqual({ val: USERS, test: USERS });
    expect(result.timing.train_s_per_epoch).toBeGreaterThan(0);
    expect(result.timing.eval_s).toBeGreaterThan(0);

    const main = events.filter(
      (e) => e.type !== 'task-progress' && e.type !== 'task-start' && e.type !== 'task-end',
    );
    expect(main.slice(0, 6).map((e) => `${e.type}:${'epoch' in e ? e.epoch : ''}`)).toEqual([
      'epoch-start:1',
      'epoch-end:1',
      'epoch-start:2',
      'epoch-end:2',
      'epoch-start:3',
      'epoch-end:3',
    ]);
    expect(main[6]).toMatchObject({ type: 'evaluation', epoch: 3, split: 'val', improved: true });
    expect(main.at(-1)).toMatchObject({ type: 'evaluation', split: 'test', epoch: result.best_epoch });
    const ends = events.filter(
      (e): e is Extract<ProgressEvent, { type: 'epoch-end' }> => e.type === 'epoch-end',
    );
    expect(ends[0].trainMs).toBeGreaterThan(0);
    expect(Object.keys(ends[0].losses).sort()).toEqual(['bpr', 'loss', 'reg']);
    expect(ends.at(-1)?.losses.loss).toBeLessThan(ends[0].losses.loss);
    expect(
      events.some((e) => e.type === 'task-progress' && e.task === 'train' && e.total === batchesPerEpoch),
    ).toBe(true);
  });

  it('early-stops after `patience` bad evaluations, restores the best parameters and tests them', async () => {
    const dir = join(root, 'early');
    const model = makeModel({ degradeFrom: 13 });
    let finalState: StateDict | undefined;
    const setState = model.setState.bind(model);
    model.setState = (s) => {
      finalState = cloneState(model.getState());
      setState(s);
    };
    const result = await train({
      trainable: model,
      data,
      config: { ...base, patience: 2, maxEpochs: 200 },
      model: 'bpr-mf',
      runDir: dir,
      runConfig: { model_config: { dim: 16 } },
    });
    expect(result.stopped).toBe('early-stopping');
    expect(result.best_epoch).toBe(12);
    expect(result.epochs).toBe(12 + 2 * 3);
    expect(result.history.map((h) => h.improved)).toEqual([true, true, true, true, false, false]);
    expect(result.val).toEqual(result.history[3].metrics);

    // The checkpoint on disk is the best state, bit for bit, and it is what the model holds now.
    const { state: saved, meta } = await loadCheckpoint(join(dir, 'checkpoint'), {
      expect: model.getState(),
    });
    expect(meta.epoch).toBe(12);
    expect(meta.idMaps?.users?.[3]).toBe('user3');
    expect(meta.idMaps?.items?.[0]).toBe(1000);
    expect(meta.config).toMatchObject({
      model: 'bpr-mf',
      trainer: { patience: 2 },
      model_config: { dim: 16 },
    });
    for (const name of ['user_emb', 'item_emb']) {
      expect(new Uint8Array(saved[name].data.buffer)).toEqual(
        new Uint8Array(model.getState()[name].data.slice().buffer),
      );
    }
    // Test metrics are those of the saved best state, not of the degraded final parameters.
    expect(result.test).toEqual(await evaluateState(saved, data.test));
    expect(finalState).toBeDefined();
    const finalTest = await evaluateState(finalState as StateDict, data.test);
    expect(finalTest['recall@20']).toBeLessThan(result.test['recall@20']);

    // Run directory layout.
    const results = JSON.parse(await readFile(join(dir, 'results.json'), 'utf8'));
    expect(results).toMatchObject({
      model: 'bpr-mf',
      dataset: 'synthetic-lowrank',
      seed: 7,
      best_epoch: 12,
      stopped: 'early-stopping',
      val: { 'recall@20': result.val?.['recall@20'] },
    });
    for (const k of ['recall@5', 'recall@10', 'recall@20', 'ndcg@5', 'ndcg@10', 'ndcg@20']) {
      expect(results.test[k]).toBe(result.test[k]);
    }
    expect(results.timing.train_s_per_epoch).toBeGreaterThan(0);
    expect(results.timing.eval_s).toBeGreaterThan(0);
    const lines = (await readFile(join(dir, 'metrics.jsonl'), 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines.filter((l) => l.type === 'epoch').length).toBe(18);
    expect(lines.filter((l) => l.type === 'evaluation' && l.split === 'val').length).toBe(6);
    expect(lines.at(-2)).toMatchObject({ type: 'evaluation', split: 'test', epoch: 12 });
    expect(lines.at(-1)).toMatchObject({
      type: 'stop',
      reason: 'early-stopping',
      epochs: 18,
      best_epoch: 12,
    });
    const config = JSON.parse(await readFile(join(dir, 'config.json'), 'utf8'));
    expect(config.trainer).toEqual(parseConfig({ ...base, patience: 2, maxEpochs: 200 }));
    const env = JSON.parse(await readFile(join(dir, 'environment.json'), 'utf8'));
    expect(env).toMatchObject({ node: process.version });
  });

  it('is deterministic: the same seeds give identical results', async () => {
    const run = () => train({ trainable: makeModel(), data, config: { ...base, maxEpochs: 6 } });
    const [a, b] = [await run(), await run()];
    expect(withoutTiming(a)).toEqual(withoutTiming(b));
    const c = await train({ trainable: makeModel(), data, config: { ...base, maxEpochs: 6, seed: 8 } });
    expect(c.history[0].losses.loss).not.toBe(a.history[0].losses.loss);
  });

  it('abort stops after the current batch, still tests the best parameters and writes results', async () => {
    const ac = new AbortController();
    const model = makeModel();
    const trainBatch = model.trainBatch.bind(model);
    const stopAt = 3 * batchesPerEpoch + 5; // in the middle of epoch 4
    model.trainBatch = async (b) => {
      const r = await trainBatch(b);
      if (model.calls === stopAt) ac.abort();
      return r;
    };
    const dir = join(root, 'aborted');
    const result = await train({ trainable: model, data, config: base, signal: ac.signal, runDir: dir });
    expect(model.calls).toBe(stopAt);
    expect(result).toMatchObject({ stopped: 'aborted', epochs: 3, best_epoch: 3 });
    expect(result.test['recall@20']).toBeGreaterThan(0);
    const saved = JSON.parse(await readFile(join(dir, 'results.json'), 'utf8'));
    expect(saved).toMatchObject({ stopped: 'aborted', best_epoch: 3 });
    const lines = (await readFile(join(dir, 'metrics.jsonl'), 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines.find((l) => l.type === 'epoch' && l.epoch === 4)).toMatchObject({ completed: false });
  });

  it('abort from a timer (like SIGINT) gets through even when batches never leave the microtask queue', async () => {
    const ac = new AbortController();
    const model = makeModel();
    const trainBatch = model.trainBatch.bind(model);
    model.trainBatch = async (b) => {
      const t0 = performance.now();
      while (performance.now() - t0 < 1); // a busy, synchronous batch
      return trainBatch(b);
    };
    setTimeout(() => ac.abort(), 60);
    const t0 = performance.now();
    const { val: _val, ...noVal } = data;
    const result = await train({
      trainable: model,
      data: noVal,
      config: { ...base, maxEpochs: 1000 },
      signal: ac.signal,
    });
    expect(result.stopped).toBe('aborted');
    expect(performance.now() - t0).toBeLessThan(3000);
    expect(model.calls).toBeLessThan(1000 * batchesPerEpoch);
  });

  it('without validation: trains to maxEpochs and tests the final parameters (with a warning)', async () => {
    const events: ProgressEvent[] = [];
    const model = makeModel();
    const { val: _val, ...noVal } = data;
    const result = await train({
      trainable: model,
      data: noVal,
      config: { ...base, maxEpochs: 6 },
      onProgress: (e) => events.push(e),
    });
    expect(events.find((e) => e.type === 'warning')).toMatchObject({ code: 'NO_VALIDATION' });
    expect(result).toMatchObject({
      best_epoch: null,
      val: null,
      epochs: 6,
      stopped: 'max-epochs',
      history: [],
    });
    expect(result.eval_users.val).toBeNull();
    expect(result.test).toEqual(await evaluateState(cloneState(model.getState()), data.test));
    expect(result.timing.eval_s).toBe(result.timing.test_eval_s);
  });

  it('throws DIVERGED on a non-finite loss, keeps the last finite best state and writes no run', async () => {
    const events: ProgressEvent[] = [];
    const model = makeModel({ nanFrom: 8 });
    const dir = join(root, 'diverged-nan');
    const err = await train({
      trainable: model,
      data,
      config: base,
      runDir: dir,
      onProgress: (e) => events.push(e),
    }).catch((e: unknown) => e);
    expect(PromaxError.isInstance(err) && err.code).toBe('DIVERGED');
    const e = err as PromaxError;
    expect(e.details).toMatchObject({ epoch: 8, batch: 1, term: 'loss term "loss"', best_epoch: 6 });
    expect(e.describe('cli')).toMatch(/--set trainer\.lr=0\.005/);
    expect(e.describe('library')).toMatch(/lr: 0\.005 in the trainer config/);
    // The model holds the epoch-6 state: its validation metrics are those recorded at epoch 6.
    const best = events.find((x) => x.type === 'evaluation' && x.split === 'val' && x.epoch === 6);
    expect(best?.type === 'evaluation' && best.improved).toBe(true);
    expect(await evaluateState(cloneState(model.getState()), data.val as CsrMatrix)).toEqual(
      best?.type === 'evaluation' ? best.metrics : undefined,
    );
    // Nothing was committed and no staging folder is left behind.
    expect((await readdir(root)).filter((f) => f.includes('diverged-nan'))).toEqual([]);
  });

  it('names the first non-finite term of a real divergence (lr=1e308) and writes no ±Inf', async () => {
    const dir = join(root, 'diverged-lr');
    const model = makeModel({}, 1e308);
    const err = await train({ trainable: model, data, config: { ...base, lr: 1e308 }, runDir: dir }).catch(
      (e: unknown) => e,
    );
    expect(PromaxError.isInstance(err) && err.code).toBe('DIVERGED');
    const e = err as PromaxError;
    expect(e.details).toMatchObject({ epoch: 1, best_epoch: null });
    expect(String(e.details?.term)).toMatch(/^(loss term "bpr"|parameter "(user|item)_emb")$/);
    expect(e.message).toMatch(/training diverged at epoch 1.*became (NaN|-?Infinity) first/);
    expect(e.describe('cli')).toMatch(/lower the learning rate, e\.g\. --set trainer\.lr=1e\+307/);
    expect((await readdir(root)).filter((f) => f.includes('diverged-lr'))).toEqual([]);
  });

  it('refuses an empty test split before training, instead of testing to metrics of 0', async () => {
    const model = makeModel();
    const empty = { ...data.test, indices: new Int32Array(0), indptr: new Int32Array(USERS + 1) };
    const err = await train({ trainable: model, data: { ...data, test: empty }, config: base }).catch(
      (e: unknown) => e,
    );
    expect(PromaxError.isInstance(err) && err.code).toBe('INVALID_DATA');
    expect(String(err)).toMatch(/the test split is empty/);
    expect(model.calls).toBe(0);
  });

  it('validates its inputs', async () => {
    const err = await train({
      trainable: makeModel(),
      data,
      config: { ...base, patiance: 3 } as never,
    }).catch((e: unknown) => e);
    expect(PromaxError.isInstance(err) && err.code).toBe('INVALID_CONFIG');
    expect(String(err)).toMatch(/did you mean "patience"/);
    await expect(
      train({ trainable: makeModel(), data: { ...data, numItems: 151 }, config: base }),
    ).rejects.toThrow(/train matrix is 200×150 but the dataset has 200 users × 151 items/);
    const noLoss = makeModel();
    noLoss.trainBatch = async () => ({ bpr: 1 });
    await expect(train({ trainable: noLoss, data, config: base })).rejects.toThrow(/numeric "loss"/);
  });
});
