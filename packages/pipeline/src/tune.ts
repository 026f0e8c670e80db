import { type ProgressHandler, PromaxError, parseSettings, Rng, type TunableKind } from '@promax/core';
import * as z from 'zod';
import { getByPath } from './config-validation.js';

/**
 * Settings search on the validation split with successive halving: every trial (the base arm, the
 * method off, always among them) trains to a small epoch budget, the best 1/η by validation go on
 * to η× the budget, up to `maxEpochs`. Test metrics are asked for once, for the chosen trial only.
 * Training and evaluation are injected, so the search runs the same in the CLI, in child processes
 * and in tests.
 */

/** One searched setting: a numeric range (log scale for weights and temperatures) or a list of values. */
export const searchDimensionSchema = z.union([
  z.strictObject({
    /** Lower bound (inclusive). */
    low: z.number(),
    /** Upper bound (inclusive). */
    high: z.number(),
    /** Sample uniformly in log space (both bounds must be > 0). */
    log: z.boolean().default(false),
    /** Round to an integer. */
    integer: z.boolean().default(false),
  }),
  z.strictObject({
    /** The values to choose among, uniformly. */
    values: z.array(z.union([z.number(), z.string(), z.boolean()])).min(1),
  }),
]);
export type SearchDimension = z.output<typeof searchDimensionSchema>;

/** Settings paths (dotted, e.g. `s2dr.lambda2`) of the method and of the model, each with its dimension. */
export const searchSpaceSchema = z.strictObject({
  /** The method's settings searched (paths inside its settings). */
  method: z.record(z.string(), searchDimensionSchema).default({}),
  /** The base model's settings searched (tried for the base arm too). */
  model: z.record(z.string(), searchDimensionSchema).default({}),
});
export type SearchSpace = z.output<typeof searchSpaceSchema>;
export type SearchSpaceInput = z.input<typeof searchSpaceSchema>;

/** Validates a search space (e.g. from `--space FILE`); throws INVALID_CONFIG naming the key. */
export function parseSearchSpace(value: unknown, source = 'search space'): SearchSpace {
  const space = parseSettings(searchSpaceSchema, value ?? {}, { source });
  for (const [section, dims] of Object.entries(space)) {
    for (const [path, d] of Object.entries(dims)) {
      if ('values' in d) continue;
      if (!(d.low <= d.high) || (d.log && !(d.low > 0))) {
        throw new PromaxError({
          code: 'INVALID_CONFIG',
          file: source,
          field: `${section}.${path}`,
          message: `range [${d.low}, ${d.high}]${d.log ? ' on a log scale' : ''} is empty or not positive`,
          fix: 'give low ≤ high, both > 0 with log: true',
        });
      }
    }
  }
  return space;
}

const WEIGHT = /^(lambda|weight|alpha|beta)\d*$/i;
const TEMPERATURE = /^(tau|temperature)[A-Za-z0-9]*$/i;

/** The range `promax tune` searches for a setting of this kind around its resolved value v (> 0). */
export function tunableRange(kind: TunableKind, v: number): SearchDimension {
  switch (kind) {
    case 'weight':
    case 'scale':
      return { low: v / 10, high: v * 10, log: true, integer: false };
    case 'temperature':
      return { low: v / 4, high: v * 4, log: true, integer: false };
    case 'ratio':
      return { low: v / 2, high: Math.min(2 * v, 0.95), log: false, integer: false };
  }
}

/**
 * The default search space of a method from its resolved settings. With the definition's
 * `tunable` (every built-in method has one): those settings, each by its kind (`tunableRange`).
 * Without it, by name: every positive numeric setting named like a loss weight (`lambda1`,
 * `weight`) as a weight and every temperature (`tauS`, `temperature`) as a temperature. For
 * ProMax: λ1, λ2, τp, τq and τs around the dataset's preset. Where the settings hold a per-model
 * override for `modelId` (`perModel.<model>.<path>`), that is the value in force, so it is the one
 * searched. A tunable setting that is not a positive number in this run (e.g. set to 0) is left out.
 */
export function defaultSearchSpace(
  settings: Record<string, unknown>,
  tunable?: Readonly<Record<string, TunableKind>>,
  modelId?: string,
): SearchSpace {
  const method: Record<string, SearchDimension> = {};
  const at = (path: string): unknown => getByPath(settings, path);
  if (tunable) {
    for (const [path, kind] of Object.entries(tunable)) {
      // A per-model override (`perModel.<model>.<path>`, RLMRec's convention) is the value in force.
      const own = modelId === undefined ? undefined : `perModel.${modelId}.${path}`;
      const where = own !== undefined && typeof at(own) === 'number' ? own : path;
      const value = at(where);
      if (typeof value === 'number' && value > 0) method[where] = tunableRange(kind, value);
    }
    return { method, model: {} };
  }
  const walk = (value: unknown, path: string) => {
    if (value && typeof value === 'object' && !Array.isArray(value)) {
      for (const [k, v] of Object.entries(value)) walk(v, path ? `${path}.${k}` : k);
      return;
    }
    const key = path.split('.').pop() ?? '';
    if (typeof value !== 'number' || !(value > 0)) return;
    if (WEIGHT.test(key)) method[path] = tunableRange('weight', value);
    else if (TEMPERATURE.test(key)) method[path] = tunableRange('temperature', value);
  };
  walk(settings, '');
  return { method, model: {} };
}

/** The settings of one trial: dotted paths → values, for the method and for the model. */
export interface TrialSettings {
  method: Record<string, unknown>;
  model: Record<string, unknown>;
}

export interface Trial {
  /** `base` or `t01`, `t02`, … in sampling order. */
  id: string;
  /** True for the base arm (the method off). */
  base: boolean;
  settings: TrialSettings;
  /** Stable identity of the settings (resume matches finished trials by it). */
  key: string;
}

/** What training one trial to an epoch budget gave, validation only. */
export interface TrialOutcome {
  status: 'ok' | 'failed';
  /** Validation metrics at the best validation epoch; null when failed. */
  val: Record<string, number> | null;
  /** Epochs trained (early stopping may end before the budget). */
  epochs: number;
  /** Why a failed trial failed (diverged, crashed). */
  reason?: string;
  /**
   * The training itself failed (an error, a crash, an interruption) rather than the trial's settings
   * (a diverged run finishes and fails for good): not stored, so the next invocation retries it.
   */
  transient?: boolean;
}

/** Finished (trial, budget) outcomes kept between invocations. */
export interface TrialStore {
  get(key: string, budget: number): TrialOutcome | undefined;
  set(key: string, budget: number, outcome: TrialOutcome): void;
}

export interface TuneOptions {
  space: SearchSpace;
  /** Sampled trials besides the base arm. */
  trials: number;
  /** Budget of the last rung. */
  maxEpochs: number;
  /** Seed of the sampling (each trial's training seed is the caller's). */
  seed: number;
  /** Halving rate η (default 3): each rung keeps the best 1/η and gives them η× the epochs. */
  eta?: number;
  /** Budget of the first rung (default: maxEpochs / η^(rungs−1), at least 1). */
  minEpochs?: number;
  /** Validation metric to maximise (default recall@20). */
  metric?: string;
  /** Trials trained at once (with `runTrial`). */
  jobs?: number;
  /** Trains a trial to `epochs` and reports validation metrics; must not evaluate test. */
  runTrial?: (trial: Trial, epochs: number) => Promise<TrialOutcome>;
  /**
   * Trains a whole rung in one call instead of `runTrial` one trial at a time (e.g. one job per
   * trial on a queue, then wait for all): receives the rung's trials that still need training
   * (not in `store`, one per distinct settings key) and returns an outcome per trial key. A
   * trial left out of the map counts as failed. Must not evaluate test.
   */
  runRung?: (trials: readonly Trial[], epochs: number) => Promise<ReadonlyMap<string, TrialOutcome>>;
  /** Test metrics of a trained trial; called once, for the chosen trial. */
  testTrial: (trial: Trial, epochs: number) => Promise<Record<string, number>>;
  store?: TrialStore;
  onProgress?: ProgressHandler;
  signal?: AbortSignal;
}

export interface TrialRecord {
  id: string;
  base: boolean;
  /** The settings' identity (`Trial.key`). */
  key: string;
  settings: TrialSettings;
  /** Validation metrics at the highest rung it reached (null when failed). */
  val: Record<string, number> | null;
  /** Epochs trained at that rung. */
  epochs: number;
  status: 'ok' | 'failed' | 'stopped-early';
  reason?: string;
  /** Every rung it ran: budget, epochs trained, validation metric. */
  rungs: { budget: number; epochs: number; value: number | null; reused: boolean }[];
}

export interface TuneResult {
  metric: string;
  budgets: number[];
  trials: TrialRecord[];
  base: { settings: TrialSettings; val: Record<string, number> | null; epochs: number };
  /** The trial with the best validation metric at the last rung; test is its only test evaluation. */
  best: {
    id: string;
    base: boolean;
    settings: TrialSettings;
    val: Record<string, number>;
    epochs: number;
    test: Record<string, number>;
  } | null;
  /** True when the base arm had the best validation metric: the method should stay off. */
  baseWins: boolean;
  /** Trainings actually run (reused ones excluded). */
  trained: number;
}

/** JSON with sorted keys: the identity of a trial's settings. */
export function settingsKey(settings: TrialSettings, base: boolean): string {
  const sorted = (o: Record<string, unknown>) =>
    Object.fromEntries(Object.entries(o).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  return JSON.stringify({ base, method: base ? {} : sorted(settings.method), model: sorted(settings.model) });
}

/**
 * The base arm then `n` sampled trials (deterministic in `seed`), each with settings no other
 * trial has: a draw that repeats one is redrawn, so a small discrete space gives fewer trials (all
 * of its points) instead of training the same settings twice.
 */
export function sampleTrials(space: SearchSpace, n: number, seed: number): Trial[] {
  const rng = new Rng(seed);
  const draw = (dims: Record<string, SearchDimension>) => {
    const out: Record<string, unknown> = {};
    for (const [path, d] of Object.entries(dims)) {
      if ('values' in d) {
        out[path] = d.values[rng.nextInt(d.values.length)];
        continue;
      }
      const u = rng.nextFloat();
      let v = d.log
        ? Math.exp(Math.log(d.low) + u * (Math.log(d.high) - Math.log(d.low)))
        : d.low + u * (d.high - d.low);
      v = d.integer ? Math.round(v) : Number(v.toPrecision(4));
      out[path] = v;
    }
    return out;
  };
  const base: TrialSettings = { method: {}, model: {} };
  const trials: Trial[] = [{ id: 'base', base: true, settings: base, key: settingsKey(base, true) }];
  const width = String(n).length;
  const seen = new Set<string>();
  // a draw that repeats an earlier trial is redrawn, up to this many times (then the space is spent)
  const attempts = 1000;
  for (let i = 1; i <= n; i++) {
    let settings: TrialSettings | undefined;
    let key = '';
    for (let a = 0; a < attempts && settings === undefined; a++) {
      const drawn: TrialSettings = { method: draw(space.method), model: draw(space.model) };
      key = settingsKey(drawn, false);
      if (!seen.has(key)) settings = drawn;
    }
    if (settings === undefined) break;
    seen.add(key);
    trials.push({ id: `t${String(i).padStart(Math.max(2, width), '0')}`, base: false, settings, key });
  }
  return trials;
}

/** Epoch budgets of the rungs: maxEpochs/η^(k), …, maxEpochs/η, maxEpochs (integers, increasing, ≥ 1). */
export function rungBudgets(trials: number, maxEpochs: number, eta = 3, minEpochs?: number): number[] {
  let rungs = 1;
  while (eta ** rungs <= trials && Math.floor(maxEpochs / eta ** rungs) >= Math.max(1, minEpochs ?? 1))
    rungs++;
  const budgets: number[] = [];
  for (let k = rungs - 1; k >= 0; k--) budgets.push(Math.max(1, Math.floor(maxEpochs / eta ** k)));
  if (minEpochs !== undefined) budgets[0] = Math.max(budgets[0], Math.min(minEpochs, maxEpochs));
  return [...new Set(budgets)].sort((a, b) => a - b);
}

export async function tune(options: TuneOptions): Promise<TuneResult> {
  const metric = options.metric ?? 'recall@20';
  const eta = options.eta ?? 3;
  if (!(options.trials >= 1) || !(options.maxEpochs >= 1) || !(eta > 1)) {
    throw new PromaxError({
      code: 'INVALID_ARGUMENT',
      field: 'trials',
      message: `tune needs trials ≥ 1, maxEpochs ≥ 1 and eta > 1 (got ${options.trials}, ${options.maxEpochs}, ${eta})`,
      fix: 'pass e.g. --trials 9 --max-epochs 27',
    });
  }
  const { runTrial, runRung } = options;
  if (!runTrial && !runRung) {
    throw new PromaxError({
      code: 'INVALID_ARGUMENT',
      field: 'runTrial',
      message: 'tune needs a way to train trials',
      fix: 'pass runTrial (one trial per call) or runRung (a whole rung per call)',
    });
  }
  const trials = sampleTrials(options.space, options.trials, options.seed);
  const budgets = rungBudgets(trials.length, options.maxEpochs, eta, options.minEpochs);
  const records = new Map<Trial, TrialRecord>(
    trials.map((t) => [
      t,
      {
        id: t.id,
        base: t.base,
        key: t.key,
        settings: t.settings,
        val: null,
        epochs: 0,
        status: 'ok',
        rungs: [],
      },
    ]),
  );
  let trained = 0;
  let alive = trials;
  const scoreOf = (o: TrialOutcome) => (o.status === 'ok' ? (o.val?.[metric] ?? Number.NaN) : Number.NaN);
  const inFlight = new Map<string, Promise<TrialOutcome>>();
  const checked = (outcome: TrialOutcome): TrialOutcome =>
    !Number.isFinite(scoreOf(outcome)) && outcome.status === 'ok'
      ? { ...outcome, status: 'failed', reason: `no finite validation ${metric}` }
      : outcome;
  const trainOnce = async (t: Trial, budget: number): Promise<TrialOutcome> => {
    try {
      return checked(await (runTrial as NonNullable<typeof runTrial>)(t, budget));
    } catch (error) {
      return {
        status: 'failed',
        val: null,
        epochs: 0,
        reason: (error as Error).message.split('\n')[0],
        transient: true,
      };
    }
  };
  for (const [r, budget] of budgets.entries()) {
    if (options.signal?.aborted) break;
    options.onProgress?.({
      type: 'info',
      message: `rung ${r + 1}/${budgets.length}: ${alive.length} trials to ${budget} epochs`,
      data: { budget },
    });
    const outcomes = new Map<Trial, TrialOutcome>();
    let finished = 0;
    const recordOutcome = (t: Trial, outcome: TrialOutcome, reused: boolean): void => {
      outcomes.set(t, outcome);
      const rec = records.get(t) as TrialRecord;
      rec.rungs.push({
        budget,
        epochs: outcome.epochs,
        value: outcome.status === 'ok' ? scoreOf(outcome) : null,
        reused,
      });
      rec.val = outcome.val;
      rec.epochs = outcome.epochs;
      if (outcome.status === 'failed') {
        rec.status = 'failed';
        rec.reason = outcome.reason;
        rec.val = null;
      }
      finished++;
      options.onProgress?.({
        type: 'task-progress',
        task: `rung ${r + 1}`,
        done: finished,
        total: alive.length,
        unit: 'trials',
      });
    };
    if (runRung) {
      // The whole rung at once: trials with stored outcomes are reused, equal settings train once.
      const fresh = new Map<string, Trial>();
      for (const t of alive) if (!options.store?.get(t.key, budget) && !fresh.has(t.key)) fresh.set(t.key, t);
      const got = fresh.size ? await runRung([...fresh.values()], budget) : new Map<string, TrialOutcome>();
      if (options.signal?.aborted) break;
      const trainedNow = new Map<string, TrialOutcome>();
      for (const key of fresh.keys()) {
        const outcome = checked(
          got.get(key) ?? {
            status: 'failed',
            val: null,
            epochs: 0,
            reason: 'no outcome reported',
            transient: true,
          },
        );
        trainedNow.set(key, outcome);
        trained++;
        if (!outcome.transient) options.store?.set(key, budget, outcome);
      }
      const seen = new Set<string>();
      for (const t of alive) {
        const outcome = trainedNow.get(t.key) ?? (options.store?.get(t.key, budget) as TrialOutcome);
        recordOutcome(t, outcome, !trainedNow.has(t.key) || seen.has(t.key));
        seen.add(t.key);
      }
    } else {
      const queue = [...alive];
      const worker = async () => {
        for (let t = queue.shift(); t; t = queue.shift()) {
          if (options.signal?.aborted) return;
          let outcome = options.store?.get(t.key, budget);
          // Two trials with the same settings (a small discrete space) train once.
          const pending = inFlight.get(`${t.key}@${budget}`);
          const reused = outcome !== undefined || pending !== undefined;
          if (!outcome && pending) outcome = await pending;
          if (!outcome) {
            const running = trainOnce(t, budget);
            inFlight.set(`${t.key}@${budget}`, running);
            outcome = await running;
            if (options.signal?.aborted) return;
            trained++;
            if (!outcome.transient) options.store?.set(t.key, budget, outcome);
          }
          recordOutcome(t, outcome, reused);
        }
      };
      await Promise.all(
        Array.from({ length: Math.max(1, Math.min(options.jobs ?? 1, alive.length)) }, worker),
      );
    }
    if (r === budgets.length - 1) break;
    // The best ⌈n/η⌉ finite trials go on; the base arm always does, so it is measured at the full budget.
    const ranked = alive
      .filter((t) => outcomes.get(t)?.status === 'ok')
      .sort((a, b) => scoreOf(outcomes.get(b) as TrialOutcome) - scoreOf(outcomes.get(a) as TrialOutcome));
    const keep = new Set(ranked.slice(0, Math.max(1, Math.ceil(alive.length / eta))));
    const baseTrial = trials[0];
    if (outcomes.get(baseTrial)?.status === 'ok') keep.add(baseTrial);
    for (const t of alive) {
      const rec = records.get(t) as TrialRecord;
      if (!keep.has(t) && rec.status === 'ok') rec.status = 'stopped-early';
    }
    alive = alive.filter((t) => keep.has(t));
  }
  const last = budgets[budgets.length - 1];
  const finalists = trials.filter((t) => {
    const rec = records.get(t) as TrialRecord;
    return (
      rec.status === 'ok' && rec.rungs.some((g) => g.budget === last) && Number.isFinite(rec.val?.[metric])
    );
  });
  finalists.sort((a, b) => (records.get(b)?.val?.[metric] ?? 0) - (records.get(a)?.val?.[metric] ?? 0));
  const chosen = finalists[0];
  const baseRec = records.get(trials[0]) as TrialRecord;
  let best: TuneResult['best'] = null;
  if (chosen && !options.signal?.aborted) {
    const rec = records.get(chosen) as TrialRecord;
    const test = await options.testTrial(chosen, last);
    best = {
      id: chosen.id,
      base: chosen.base,
      settings: chosen.settings,
      val: rec.val as Record<string, number>,
      epochs: rec.epochs,
      test,
    };
  }
  return {
    metric,
    budgets,
    trials: [...records.values()],
    base: { settings: baseRec.settings, val: baseRec.val, epochs: baseRec.epochs },
    best,
    baseWins: Boolean(chosen?.base),
    trained,
  };
}
