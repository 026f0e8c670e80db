import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { type CsrMatrix, type Matrix, type ProgressHandler, PromaxError, Rng } from '@promax/core';
import { RankingEvaluator } from '@promax/eval';
import type { IdMaps } from './checkpoint.js';
import { TripleSampler } from './negative-sampler.js';
import { RunDirectory } from './run-directory.js';
import { median } from './stats.js';
import { cloneState, type StateDict, type Trainable } from './trainable.js';
import { parseConfig, type TrainerConfigInput } from './trainer-config.js';

/** The splits the loop needs; a `Dataset` from @promax/data fits structurally. */
export interface TrainData {
  /** Binary users × items train matrix, canonical CSR (sorted unique columns). */
  train: CsrMatrix;
  /** Validation split; without it the loop trains to `maxEpochs` and tests the final parameters. */
  val?: CsrMatrix;
  test: CsrMatrix;
  numUsers: number;
  numItems: number;
  /** Dataset name, recorded in results.json unless `TrainOptions.dataset` is given. */
  name?: string;
  /** External ids (row order), stored in the checkpoint's meta.json. */
  userIds?: IdMaps['users'];
  itemIds?: IdMaps['items'];
}

/**
 * Why training ended. A non-finite loss or parameter no longer ends a run quietly: it throws
 * 'DIVERGED' (see `train`); `non-finite-loss` stays in the type for results written before.
 */
export type StopReason = 'early-stopping' | 'max-epochs' | 'aborted' | 'non-finite-loss';

/** One validation evaluation. */
export interface EvaluationRecord {
  epoch: number;
  metrics: Record<string, number>;
  eval_s: number;
  improved: boolean;
  /** Mean loss components of that epoch. */
  losses: Record<string, number>;
}

/** What `train` returns; `results.json` is exactly this object. */
export interface TrainResult {
  model: string | null;
  dataset: string | null;
  seed: number;
  select_metric: string;
  /** Epoch of the best validation `select_metric`; null without validation or evaluation. */
  best_epoch: number | null;
  /** Validation metrics at `best_epoch`; null without validation or evaluation. */
  val: Record<string, number> | null;
  /** Test metrics of the restored best parameters (final parameters without validation). */
  test: Record<string, number>;
  /** Users evaluated (those with ≥ 1 held-out item). */
  eval_users: { val: number | null; test: number };
  timing: {
    /** Median seconds per completed epoch (sampling + batches), null if none completed. */
    train_s_per_epoch: number | null;
    /** Median seconds per validation evaluation (the test evaluation's time without validation). */
    eval_s: number | null;
    test_eval_s: number;
    total_s: number;
  };
  /** Completed epochs. */
  epochs: number;
  stopped: StopReason;
  history: EvaluationRecord[];
}

export interface TrainOptions {
  trainable: Trainable;
  data: TrainData;
  /** Trainer settings (validated; defaults from method.md §6). */
  config?: TrainerConfigInput;
  onProgress?: ProgressHandler;
  /** Aborting stops after the current batch; the loop still tests and writes its results. */
  signal?: AbortSignal;
  /** Model name for results.json. */
  model?: string;
  /** Dataset name for results.json (default `data.name`). */
  dataset?: string;
  /**
   * Write config.json, metrics.jsonl, results.json, environment.json and checkpoint/ here. A path
   * is opened with `RunDirectory.begin` and committed when training finished (aborted on error);
   * a `RunDirectory` is left open for the caller to add files and `commit()`.
   */
  runDir?: string | RunDirectory;
  /**
   * The rest of the resolved run config (model settings, data paths, …) to record in config.json
   * and the checkpoint's meta.json, beside the resolved trainer settings under `trainer`.
   */
  runConfig?: Record<string, unknown>;
  /** An evaluator to reuse (not released here); by default one is created and released. */
  evaluator?: RankingEvaluator;
  /** Fields added to the result (and results.json, written once) when training ends, e.g. method records. */
  resultExtras?: () => Record<string, unknown>;
}

/**
 * Between batches the loop yields to the event loop at least every 50 ms, so that a SIGINT
 * handler (a macrotask) can abort even when trainBatch only ever resolves microtasks.
 */
class EventLoopPacer {
  private last = performance.now();

  async maybeYield(): Promise<void> {
    if (performance.now() - this.last < 50) return;
    await yieldToEventLoop();
    this.last = performance.now();
  }
}

/**
 * Trains with per-epoch sampled BPR triples, evaluates on validation every `evalEvery` epochs,
 * keeps the best parameters by `selectMetric`, stops after `patience` evaluations without
 * improvement (or at `maxEpochs`, or on abort), restores the best parameters and tests once.
 *
 * Without a validation split (or with an empty one) there is no model selection: the loop runs
 * to `maxEpochs` and tests the FINAL parameters (a `warning` event says so).
 *
 * Divergence guard: a non-finite loss term (checked every batch), parameter (every epoch) or
 * embedding (every evaluation) throws 'DIVERGED' naming the first non-finite term and suggesting
 * a lower learning rate. The trainable is first restored to the last finite best state, and no
 * non-finite value reaches the run directory (which is not committed).
 */
export async function train(options: TrainOptions): Promise<TrainResult> {
  const t0 = performance.now();
  const { trainable, data, signal } = options;
  const emit: ProgressHandler = options.onProgress ?? (() => {});
  const config = parseConfig(options.config ?? {}, { source: 'trainer config' });
  checkData(data);
  const hasVal = data.val !== undefined && data.val.indptr[data.val.rows] > 0;
  if (!hasVal) {
    emit({
      type: 'warning',
      code: 'NO_VALIDATION',
      message: `${data.val ? 'the validation split is empty' : 'no validation split'}: training runs to maxEpochs (${config.maxEpochs}) and the FINAL parameters are tested`,
    });
  }
  const model = options.model ?? null;
  const dataset = options.dataset ?? data.name ?? null;
  const fullConfig = { model, dataset, ...options.runConfig, trainer: config };
  const idMaps: IdMaps | undefined =
    data.userIds || data.itemIds ? { users: data.userIds, items: data.itemIds } : undefined;

  const ownsRun = typeof options.runDir === 'string';
  const run =
    options.runDir === undefined
      ? undefined
      : typeof options.runDir === 'string'
        ? await RunDirectory.begin(options.runDir)
        : options.runDir;
  try {
    const result = await trainInto(run);
    if (ownsRun) await run?.commit();
    return result;
  } catch (e) {
    if (ownsRun) await run?.abort();
    throw e;
  }

  async function trainInto(run: RunDirectory | undefined): Promise<TrainResult> {
    if (run) {
      await run.writeConfig(fullConfig);
      await run.writeEnvironment();
    }

    const sampler = new TripleSampler(data.train, { batchSize: config.batchSize });
    const rng = new Rng(config.seed);
    const evaluator =
      options.evaluator ?? new RankingEvaluator({ ks: config.ks, onProgress: options.onProgress });
    const saveBest = async (state: StateDict, epoch: number | null, val: Record<string, number> | null) => {
      await run?.saveCheckpoint({
        state,
        epoch,
        config: fullConfig,
        idMaps,
        extra: { select_metric: config.selectMetric, val },
      });
    };

    const history: EvaluationRecord[] = [];
    const trainSeconds: number[] = [];
    const evalSeconds: number[] = [];
    let best: StateDict | null = null;
    let bestEpoch: number | null = null;
    let bestVal: Record<string, number> | null = null;
    let bestValue = Number.NEGATIVE_INFINITY;
    let valUsers: number | null = null;
    let badEvals = 0;
    let epochs = 0;
    let stopped: StopReason = 'max-epochs';
    const pacer = new EventLoopPacer();
    const diverged = async (d: Divergence, epoch: number): Promise<never> => {
      if (best) trainable.setState(best);
      await run?.appendMetrics({
        type: 'diverged',
        epoch,
        ...d,
        value: String(d.value),
        best_epoch: bestEpoch,
      });
      throw divergedError(d, epoch, config.lr, bestEpoch);
    };

    try {
      for (let epoch = 1; epoch <= config.maxEpochs; epoch++) {
        if (signal?.aborted) {
          stopped = 'aborted';
          break;
        }
        emit({ type: 'epoch-start', epoch });
        await trainable.onEpochStart?.(epoch);
        const e0 = performance.now();
        const outcome = await trainEpoch(trainable, sampler, rng, emit, signal, pacer);
        const trainMs = performance.now() - e0;
        if (outcome.diverged) await diverged(outcome.diverged, epoch);
        const badParameter = firstNonFiniteParameter(trainable.getState());
        if (badParameter) await diverged({ ...badParameter, batch: null }, epoch);
        if (outcome.interrupted) {
          stopped = outcome.interrupted;
          await run?.appendMetrics({
            type: 'epoch',
            epoch,
            losses: outcome.losses,
            train_s: trainMs / 1000,
            completed: false,
          });
          break;
        }
        epochs = epoch;
        trainSeconds.push(trainMs / 1000);
        emit({ type: 'epoch-end', epoch, losses: outcome.losses, trainMs });
        await run?.appendMetrics({
          type: 'epoch',
          epoch,
          losses: outcome.losses,
          train_s: trainMs / 1000,
          completed: true,
        });
        if (signal?.aborted) {
          stopped = 'aborted';
          break;
        }
        if (!hasVal || (epoch % config.evalEvery !== 0 && epoch !== config.maxEpochs)) continue;

        const r = await evaluateSplit(trainable, evaluator, data, data.val as CsrMatrix);
        if (r.diverged) await diverged(r.diverged, epoch);
        valUsers = r.users;
        evalSeconds.push(r.evalMs / 1000);
        const value = r.metrics[config.selectMetric];
        if (value === undefined) {
          throw new PromaxError({
            code: 'INVALID_CONFIG',
            field: 'selectMetric',
            message: `the evaluator reported no "${config.selectMetric}" (it has ${Object.keys(r.metrics).join(', ')})`,
          });
        }
        const improved = value > bestValue;
        if (improved) {
          bestValue = value;
          bestEpoch = epoch;
          bestVal = r.metrics;
          best = cloneState(trainable.getState());
          badEvals = 0;
          if (config.checkpoint === 'best') await saveBest(best, epoch, bestVal);
        } else {
          badEvals++;
        }
        history.push({
          epoch,
          metrics: r.metrics,
          eval_s: r.evalMs / 1000,
          improved,
          losses: outcome.losses,
        });
        emit({ type: 'evaluation', epoch, split: 'val', metrics: r.metrics, evalMs: r.evalMs, improved });
        await run?.appendMetrics({
          type: 'evaluation',
          split: 'val',
          epoch,
          metrics: r.metrics,
          eval_s: r.evalMs / 1000,
          improved,
          best_epoch: bestEpoch,
        });
        if (badEvals >= config.patience) {
          stopped = 'early-stopping';
          break;
        }
      }

      if (best) trainable.setState(best);
      const testEpoch = bestEpoch ?? epochs;
      // `testSplit: false` (model selection, e.g. a tuner's trials): the test split is not evaluated.
      const tr = config.testSplit
        ? await evaluateSplit(trainable, evaluator, data, data.test)
        : { metrics: {}, users: 0, evalMs: 0, diverged: undefined };
      if (tr.diverged) await diverged(tr.diverged, testEpoch);
      if (config.testSplit) {
        emit({ type: 'evaluation', epoch: testEpoch, split: 'test', metrics: tr.metrics, evalMs: tr.evalMs });
        await run?.appendMetrics({
          type: 'evaluation',
          split: 'test',
          epoch: testEpoch,
          metrics: tr.metrics,
          eval_s: tr.evalMs / 1000,
        });
      }
      if (config.checkpoint === 'end' || (config.checkpoint === 'best' && !best)) {
        await saveBest(cloneState(trainable.getState()), testEpoch, bestVal);
      }

      const result: TrainResult = {
        model,
        dataset,
        seed: config.seed,
        select_metric: config.selectMetric,
        best_epoch: bestEpoch,
        val: bestVal,
        test: tr.metrics,
        eval_users: { val: valUsers, test: tr.users },
        timing: {
          train_s_per_epoch: median(trainSeconds),
          eval_s: hasVal ? median(evalSeconds) : tr.evalMs / 1000,
          test_eval_s: tr.evalMs / 1000,
          total_s: (performance.now() - t0) / 1000,
        },
        epochs,
        stopped,
        history,
      };
      Object.assign(result, options.resultExtras?.());
      await run?.appendMetrics({ type: 'stop', reason: stopped, epochs, best_epoch: bestEpoch });
      await run?.writeResults(result);
      return result;
    } finally {
      if (!options.evaluator) await evaluator.release();
    }
  }
}

/** The first value that went non-finite: a loss term, a parameter tensor or an embedding. */
interface Divergence {
  /** `loss term "bpr"`, `parameter "user_emb"`, `user embeddings`. */
  term: string;
  value: number;
  /** 1-based batch of the epoch, null when found after the epoch (parameters, embeddings). */
  batch: number | null;
}

function divergedError(d: Divergence, epoch: number, lr: number, bestEpoch: number | null): PromaxError {
  const lower = Number((lr / 10).toPrecision(3));
  return new PromaxError({
    code: 'DIVERGED',
    field: 'trainer.lr',
    message: `training diverged at epoch ${epoch}${d.batch === null ? '' : `, batch ${d.batch}`}: the ${d.term} became ${d.value} first; ${bestEpoch === null ? 'no finite validated state existed yet' : `the last finite best state (epoch ${bestEpoch}) is kept`} and nothing non-finite was written`,
    fixFor: {
      cli: `lower the learning rate, e.g. --set trainer.lr=${lower} (it is ${lr})`,
      library: `lower the learning rate, e.g. lr: ${lower} in the trainer config (it is ${lr})`,
    },
    details: { epoch, batch: d.batch, term: d.term, value: String(d.value), lr, best_epoch: bestEpoch },
  });
}

/** The first loss component that is not finite; component terms before their total `loss`. */
function firstNonFiniteTerm(losses: Record<string, number>): string | undefined {
  const keys = Object.keys(losses).sort((a, b) => Number(a === 'loss') - Number(b === 'loss'));
  return keys.find((k) => !Number.isFinite(losses[k]));
}

function firstNonFinite(data: Float32Array): number | undefined {
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    if (v - v !== 0) return v;
  }
  return undefined;
}

function firstNonFiniteParameter(state: StateDict): Divergence | undefined {
  for (const [name, t] of Object.entries(state)) {
    const v = firstNonFinite(t.data);
    if (v !== undefined) return { term: `parameter "${name}"`, value: v, batch: null };
  }
  return undefined;
}

interface EpochOutcome {
  /** Mean loss components over the epoch's triples (each batch weighted by its size). */
  losses: Record<string, number>;
  interrupted?: 'aborted';
  diverged?: Divergence;
}

async function trainEpoch(
  trainable: Trainable,
  sampler: TripleSampler,
  rng: Rng,
  emit: ProgressHandler,
  signal: AbortSignal | undefined,
  pacer: EventLoopPacer,
): Promise<EpochOutcome> {
  sampler.sampleEpoch(rng);
  const sums: Record<string, number> = {};
  let seen = 0;
  const means = (): Record<string, number> => {
    const out: Record<string, number> = {};
    for (const [k, v] of Object.entries(sums)) out[k] = v / Math.max(seen, 1);
    return out;
  };
  for (let b = 0; b < sampler.numBatches; b++) {
    const batch = sampler.batch(b);
    const losses = await trainable.trainBatch(batch);
    if (typeof losses?.loss !== 'number') {
      throw new PromaxError({
        code: 'INVALID_ARGUMENT',
        field: 'trainBatch',
        message: 'Trainable.trainBatch must resolve with the loss components, including a numeric "loss"',
      });
    }
    const n = batch.users.length;
    for (const [k, v] of Object.entries(losses)) sums[k] = (sums[k] ?? 0) + v * n;
    seen += n;
    emit({ type: 'task-progress', task: 'train', done: b + 1, total: sampler.numBatches, unit: 'batches' });
    const bad = firstNonFiniteTerm(losses);
    if (bad !== undefined) {
      return { losses: means(), diverged: { term: `loss term "${bad}"`, value: losses[bad], batch: b + 1 } };
    }
    await pacer.maybeYield();
    if (signal?.aborted && b < sampler.numBatches - 1) return { losses: means(), interrupted: 'aborted' };
  }
  return { losses: means() };
}

async function evaluateSplit(
  trainable: Trainable,
  evaluator: RankingEvaluator,
  data: TrainData,
  heldOut: CsrMatrix,
): Promise<{ users: number; metrics: Record<string, number>; evalMs: number; diverged?: Divergence }> {
  const t0 = performance.now();
  const emb = await trainable.embed();
  checkEmbedding(emb.users, data.numUsers, 'users');
  checkEmbedding(emb.items, data.numItems, 'items');
  for (const [what, m] of [
    ['user embeddings', emb.users],
    ['item embeddings', emb.items],
  ] as const) {
    const v = firstNonFinite(m.data);
    if (v !== undefined)
      return { users: 0, metrics: {}, evalMs: 0, diverged: { term: what, value: v, batch: null } };
  }
  if (emb.users.cols !== emb.items.cols) {
    throw new PromaxError({
      code: 'SHAPE_MISMATCH',
      field: 'embed',
      message: `Trainable.embed returned ${emb.users.cols}-d users but ${emb.items.cols}-d items`,
    });
  }
  const r = await evaluator.evaluate({ userEmb: emb.users, itemEmb: emb.items, train: data.train, heldOut });
  // Time includes inference (embed), which is part of what an evaluation costs.
  return { users: r.users, metrics: r.metrics, evalMs: performance.now() - t0 };
}

function checkEmbedding(m: Matrix, rows: number, what: 'users' | 'items'): void {
  if (m.rows !== rows || m.data.length !== m.rows * m.cols) {
    throw new PromaxError({
      code: 'SHAPE_MISMATCH',
      field: `embed().${what}`,
      message: `Trainable.embed returned ${m.rows}×${m.cols} ${what} (${m.data.length} values), expected ${rows} rows`,
    });
  }
}

function checkData(data: TrainData): void {
  const { numUsers, numItems } = data;
  if (data.test.indptr[data.test.rows] === 0) {
    throw new PromaxError({
      code: 'INVALID_DATA',
      field: 'data.test',
      message: 'the test split is empty: no user has a held-out item, so nothing could be evaluated',
      fix: 'pass a dataset with a non-empty test split',
    });
  }
  const splits: [string, CsrMatrix | undefined][] = [
    ['train', data.train],
    ['val', data.val],
    ['test', data.test],
  ];
  for (const [name, m] of splits) {
    if (m && (m.rows !== numUsers || m.cols !== numItems)) {
      throw new PromaxError({
        code: 'SHAPE_MISMATCH',
        field: `data.${name}`,
        message: `the ${name} matrix is ${m.rows}×${m.cols} but the dataset has ${numUsers} users × ${numItems} items`,
        fix: 'pass splits of the same dataset',
      });
    }
  }
}
