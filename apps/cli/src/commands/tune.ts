import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { PromaxError } from '@promax/core';
import { loadEmbeddings } from '@promax/data';
import {
  formatPaired,
  type MeanStd,
  meanStd,
  pairedBySeed,
  RankingEvaluator,
  type SeedPairedTest,
} from '@promax/eval';
import {
  defaultSearchSpace,
  loadPlugin,
  parseSearchSpace,
  type SearchSpace,
  setByPath,
  type Trial,
  type TrialOutcome,
  type TrialStore,
  type TuneResult,
  tune,
} from '@promax/pipeline';
import { gainCell, gainOf, type LineSeries, lineChart, REPORT_METRICS } from '@promax/report';
import { uniqueList } from '../args/unique-list.js';
import { createProgressRenderer, type Io } from '../io.js';
import { positiveIntFlag } from '../profile-pipeline/cli-args.js';
import { markdownTable } from '../render/table.js';
import { type RunConfig, readConfigFile, resolveRunConfig } from '../training/run-config.js';
import {
  executePlan,
  finishedRun,
  type PlannedRun,
  planRun,
  queueKey,
  requireDatasetAndOut,
  SWEEP_OPTIONS,
  stableStringify,
  threadsPerRun,
} from '../training/run-plan.js';
import { checkRunConfig, getDataset, pluginSearch, type TrainingRun } from '../training/run-training.js';
import type { Command } from './command.js';
import { intFlag, seedsFlag } from './train.js';

const usage = `promax tune --dataset D --model M --method NAME --trials N --max-epochs E --out DIR
            [--space FILE] [--seed S] [--eta 3] [--jobs J] [--queue URL] [--threads N]
            [--embeddings DIR] [--aug FILE] [--config FILE] [--set key=value ...]
            [--confirm-seeds 2025,2026,2027] [--confirm-max-epochs N] [--quiet] [--json]

Searches the method's settings (and, with --space, the model's) on the VALIDATION split with
successive halving: every trial trains to E/η^k epochs, the best 1/η go on with η× the epochs,
up to E. The base model (the method off) is always a trial and always reaches E epochs. The test
split is evaluated once, for the chosen trial only. --method none with a model-only --space tunes
the base model itself (the "base" trial is then its default settings), for the same trial budget. Writes DIR/tune.json and DIR/tune.md (with a
plot of the search); rerunning the same command reuses finished trials.

--queue URL (a Redis job queue, redis://HOST:PORT/DB) trains each rung's trials as jobs on
'promax worker --queue URL' processes on any machines sharing DIR, and waits for the rung before
choosing who goes on; finished trials (same run key) are never trained again.

--confirm-seeds S1,S2,… (after the choice, which it never changes): trains the chosen settings and
the base each at every listed seed with the full protocol (early stopping on validation, at most
--confirm-max-epochs epochs, default --max-epochs), reads each run's test metrics at its best
validation epoch, and reports mean ± std and the paired t-test over seeds (Wilcoxon too from 5
seeds) in tune.json "confirm" and tune.md. Runs go to DIR/confirm/{chosen,base}/seed-S; finished
ones are reused. Nothing is confirmed when the base itself was chosen.

Default space: the settings the method declares tunable (promax methods lists them), around their
values for this dataset: loss weights and scales on a log scale over [v/10, 10·v], temperatures over
[v/4, 4·v], ratios over [v/2, min(2·v, 0.95)]. --space FILE (YAML or JSON):
  method:
    s2dr.lambda2: { low: 0.01, high: 1, log: true }
    sdr.lambda1: { values: [0.5, 1.5] }
  model:
    layers: { values: [2, 3] }`;

export interface TuneCommandOptions {
  dataset: string;
  model: string;
  method: string;
  trials: number;
  maxEpochs: number;
  seed: number;
  outDir: string;
  space?: string;
  eta?: number;
  jobs?: number;
  /** A Redis URL: each rung's trials go to `promax worker` processes through the job queue. */
  queue?: string;
  threads?: number;
  embeddings?: string;
  aug?: string;
  file?: string;
  sets?: string[];
  cliEntry?: string;
  /** After the choice: the chosen settings and the base, each trained at these seeds (test split). */
  confirmSeeds?: number[];
  /** Epoch cap of the confirmation runs (default: maxEpochs). */
  confirmMaxEpochs?: number;
}

/** One arm of the confirmation: its runs at each seed (test metrics at the best validation epoch). */
export interface ConfirmArm {
  id: string;
  settings: Trial['settings'];
  runs: {
    seed: number;
    dir: string;
    best_epoch: number | null;
    epochs: number;
    test: Record<string, number>;
  }[];
  mean: Record<string, number>;
  std: Record<string, number | null>;
}

/** The chosen settings against the base over seeds, after the choice (which used validation only). */
export interface TuneConfirmation {
  seeds: number[];
  maxEpochs: number;
  /** Runs trained for the confirmation (the rest were finished already and reused), and its wall time. */
  trained: number;
  wall_s: number;
  chosen: ConfirmArm;
  base: ConfirmArm;
  /** Relative gain of the chosen arm's mean over the base's, per metric. */
  gain: Record<string, number>;
  /** Paired tests of chosen − base over the seeds both ran, per metric. */
  tests: Record<string, SeedPairedTest>;
}

export interface TuneCommandResult extends TuneResult {
  dataset: string;
  model: string;
  method: string;
  space: SearchSpace;
  wall_s: number;
  /** Present with --confirm-seeds when a trial other than the base was chosen. */
  confirm?: TuneConfirmation;
  markdown: string;
}

const STORE = 'tune-trials.json';

/** Finished (trial, budget) outcomes in DIR/tune-trials.json, valid only for the same run context. */
function fileStore(path: string, context: string, io: Io, quiet?: boolean): TrialStore {
  let entries: Record<string, TrialOutcome> = {};
  if (existsSync(path)) {
    try {
      const saved = JSON.parse(readFileSync(path, 'utf8')) as {
        context: string;
        entries: Record<string, TrialOutcome>;
      };
      if (saved.context === context) entries = saved.entries;
      else if (!quiet)
        io.err(`${path} holds trials of another dataset/model/method/seed/settings: not reused\n`);
    } catch {
      // An unreadable store is ignored: its trials train again.
    }
  }
  return {
    get: (key, budget) => entries[`${key}@${budget}`],
    set: (key, budget, outcome) => {
      entries[`${key}@${budget}`] = outcome;
      writeFileSync(path, `${JSON.stringify({ context, entries }, null, 1)}\n`);
    },
  };
}

export async function tuneCommandRun(
  options: TuneCommandOptions,
  io: Io,
  flags: { quiet?: boolean } = {},
): Promise<TuneCommandResult> {
  const t0 = performance.now();
  const onProgress = createProgressRenderer(io, { quiet: flags.quiet });
  const jobs = Math.max(1, options.jobs ?? 1);
  const threads = threadsPerRun(jobs, options.threads, availableParallelism());
  mkdirSync(options.outDir, { recursive: true });
  // `--method none` tunes the base model alone: the "base" trial is the model at its default settings.
  const modelOnly = options.method === 'none';
  const configOf = (trial: Trial | null, epochs: number, seed = options.seed): RunConfig => {
    const config = resolveRunConfig({
      file: options.file,
      flags: {
        dataset: options.dataset,
        embeddings: options.embeddings,
        aug: options.aug,
        model: options.model,
        seed,
        threads,
        methods: trial && !trial.base && !modelOnly ? [options.method] : [],
      },
      sets: options.sets,
      // The base trial drops the method's settings (--set methodSettings.<method>.…) instead of refusing them.
      sweepMethods: modelOnly ? [] : [options.method],
    });
    // Trials see validation only; the budget is the rung's.
    config.trainer = { ...config.trainer, maxEpochs: epochs, testSplit: false };
    if (trial) {
      const modelSettings = structuredClone(config.modelSettings);
      for (const [p, v] of Object.entries(trial.settings.model))
        setByPath(modelSettings, p, v, { parse: false });
      config.modelSettings = modelSettings;
      if (!trial.base && !modelOnly) {
        const ms = structuredClone(config.methodSettings[options.method] ?? {});
        for (const [p, v] of Object.entries(trial.settings.method)) setByPath(ms, p, v, { parse: false });
        config.methodSettings = { ...config.methodSettings, [options.method]: ms };
      }
    }
    return config;
  };
  // The method's resolved settings for this dataset centre the default space; every config is checked first.
  const resolved = await checkRunConfig(
    configOf({ id: 'probe', base: false, key: '', settings: { method: {}, model: {} } }, 1),
    io.cwd,
  );
  // The base arm too, before anything trains: a search without its base would compare nothing.
  await checkRunConfig(
    configOf({ id: 'base', base: true, key: '', settings: { method: {}, model: {} } }, 1),
    io.cwd,
  );
  const definition = modelOnly
    ? undefined
    : await loadPlugin('method', options.method, pluginSearch(io.cwd, configOf(null, 1).plugins));
  const space = options.space
    ? parseSearchSpace(readConfigFile(options.space), options.space)
    : defaultSearchSpace(resolved.methods[0]?.settings ?? {}, definition?.tunable, options.model);
  if (modelOnly && Object.keys(space.method).length) {
    throw new PromaxError({
      code: 'INVALID_CONFIG',
      field: '--space',
      message: '--method none tunes the base model: the space may hold model settings only',
      fix: 'move the entries under model:, or name the method with --method',
    });
  }
  if (!Object.keys(space.method).length && !Object.keys(space.model).length) {
    throw new PromaxError({
      code: 'INVALID_CONFIG',
      field: '--space',
      message: `method '${options.method}' has no setting named like a weight or temperature to search`,
      fix: 'pass --space FILE naming the settings and their ranges',
    });
  }
  const context = stableStringify({
    dataset: options.dataset,
    model: options.model,
    method: options.method,
    seed: options.seed,
    embeddings: options.embeddings,
    aug: options.aug,
    file: options.file ? readFileSync(options.file, 'utf8') : null,
    sets: options.sets ?? [],
  });
  // Run folders follow the settings, not the trial id: identical settings share one run.
  const dirOf = (trial: Pick<Trial, 'base' | 'key'>, epochs: number) =>
    join(
      options.outDir,
      'trials',
      trial.base ? 'base' : `s-${createHash('sha256').update(trial.key).digest('hex').slice(0, 12)}`,
      `e${epochs}`,
    );
  /** The planned runs of trials at a budget, every config checked before anything trains. */
  const planTrials = async (trials: readonly Trial[], epochs: number): Promise<PlannedRun[]> => {
    const runs: PlannedRun[] = [];
    for (const trial of trials) {
      const config = configOf(trial, epochs);
      await checkRunConfig(config, io.cwd);
      runs.push(planRun(`${trial.id} (${epochs} epochs)`, dirOf(trial, epochs), config));
    }
    return runs;
  };
  const result = await tune({
    space,
    trials: options.trials,
    maxEpochs: options.maxEpochs,
    seed: options.seed,
    eta: options.eta,
    jobs,
    store: fileStore(join(options.outDir, STORE), context, io, flags.quiet),
    onProgress,
    ...(options.queue
      ? {
          // Each rung's trials are jobs on the queue (the same run keys as reproduce/ablate, so a
          // resubmitted search reuses every finished trial); the rung is ranked once all are back.
          runRung: async (trials: readonly Trial[], epochs: number) => {
            const runs = await planTrials(trials, epochs);
            const failed = new Map<string, string>();
            let done: Map<PlannedRun, TrainingResults>;
            try {
              done = await executePlan(runs, io, {
                jobs: 1,
                queue: options.queue,
                quiet: flags.quiet,
                onProgress,
              });
            } catch (error) {
              // Runs that failed on the workers fail their trials; the rest of the rung still counts.
              if (!PromaxError.isInstance(error) || error.code !== 'RUN_FAILED') throw error;
              const why = (error.details?.failed ?? {}) as Record<string, string>;
              for (const run of runs) failed.set(run.key, why[queueKey(run)] ?? error.message.split('\n')[0]);
              done = new Map();
              for (const run of runs) {
                const results = finishedRun(run);
                if (results) done.set(run, results);
              }
            }
            return new Map(
              trials.map((t, k) => {
                const r = done.get(runs[k]);
                return [t.key, r ? outcomeOf(r) : failedOutcome(failed.get(runs[k].key) ?? 'not finished')];
              }),
            );
          },
        }
      : {
          runTrial: async (trial: Trial, epochs: number) => {
            const [run] = await planTrials([trial], epochs);
            const done = await executePlan([run], io, {
              // One run per call: with --jobs > 1 it trains in a child process, the tuner runs J calls at once.
              jobs: jobs > 1 ? 2 : 1,
              cliEntry: options.cliEntry,
              quiet: flags.quiet,
              onProgress: jobs > 1 ? undefined : onProgress,
            });
            const r = done.get(run);
            return r ? outcomeOf(r) : failedOutcome('interrupted');
          },
        }),
    testTrial: async (trial, epochs) => {
      // The chosen trial's restored best parameters, saved by its run: the one test evaluation.
      const dir = dirOf(trial, epochs);
      const ds = getDataset(options.dataset);
      const evaluator = new RankingEvaluator({ ks: [5, 10, 20] });
      try {
        const r = await evaluator.evaluate({
          userEmb: loadEmbeddings(join(dir, 'user_emb.npy')),
          itemEmb: loadEmbeddings(join(dir, 'item_emb.npy')),
          train: ds.train,
          heldOut: ds.test,
        });
        return r.metrics;
      } finally {
        await evaluator.release();
      }
    },
  });
  const searchWall = (performance.now() - t0) / 1000;
  const confirm = options.confirmSeeds?.length
    ? await confirmChoice(result, options, io, {
        quiet: flags.quiet,
        onProgress,
        jobs,
        configOf: (trial, epochs, seed) => {
          const config = configOf(trial, epochs, seed);
          // The full protocol: early stopping as configured, test read at the best validation epoch.
          config.trainer = { ...config.trainer, testSplit: true };
          return config;
        },
      })
    : undefined;
  const wall = searchWall;
  const markdown = renderTune(options, result, space, wall, confirm);
  mkdirSync(join(options.outDir, 'plots'), { recursive: true });
  writeFileSync(join(options.outDir, 'plots', 'tune_search.svg'), searchPlot(result, options));
  writeFileSync(join(options.outDir, 'tune.md'), markdown);
  const out: TuneCommandResult = {
    dataset: options.dataset,
    model: options.model,
    method: options.method,
    space,
    wall_s: wall,
    ...result,
    ...(confirm ? { confirm } : {}),
    trials: result.trials.map((t) => ({ ...t, runs: t.rungs.map((g) => dirOf(t, g.budget)) })),
    markdown,
  };
  writeFileSync(
    join(options.outDir, 'tune.json'),
    `${JSON.stringify({ ...out, markdown: undefined }, null, 2)}\n`,
  );
  return out;
}

type TrainingResults = NonNullable<ReturnType<typeof finishedRun>>;

/** The metrics the confirmation reports: the report tables' own. */
const CONFIRM_KEYS = REPORT_METRICS;

/**
 * Trains the chosen trial's settings and the base at every confirmation seed (reusing finished runs)
 * and compares them paired by seed on the test split. Runs after the choice and never feeds back
 * into it; nothing to do when the base was chosen.
 */
async function confirmChoice(
  result: TuneResult,
  options: TuneCommandOptions,
  io: Io,
  ctx: {
    quiet?: boolean;
    onProgress: ReturnType<typeof createProgressRenderer>;
    jobs: number;
    configOf: (trial: Trial, epochs: number, seed: number) => RunConfig;
  },
): Promise<TuneConfirmation | undefined> {
  const best = result.best;
  const chosen = best && result.trials.find((t) => t.id === best.id);
  const base = result.trials.find((t) => t.base);
  if (!chosen || !base || chosen.base) return undefined;
  const seeds = uniqueList(options.confirmSeeds ?? [], '--confirm-seeds');
  const maxEpochs = options.confirmMaxEpochs ?? options.maxEpochs;
  const arms = [
    { name: 'chosen', trial: chosen },
    { name: 'base', trial: base },
  ];
  const planned: { arm: string; seed: number; run: PlannedRun }[] = [];
  for (const seed of seeds) {
    for (const { name, trial } of arms) {
      const config = ctx.configOf(trial, maxEpochs, seed);
      await checkRunConfig(config, io.cwd);
      const dir = join(options.outDir, 'confirm', name, `seed-${seed}`);
      planned.push({ arm: name, seed, run: planRun(`confirm ${name} (seed ${seed})`, dir, config) });
    }
  }
  const t0 = performance.now();
  const reused = planned.filter((p) => finishedRun(p.run)).length;
  const done = await executePlan(
    planned.map((p) => p.run),
    io,
    {
      jobs: ctx.jobs,
      queue: options.queue,
      cliEntry: options.cliEntry,
      quiet: ctx.quiet,
      onProgress: ctx.jobs > 1 ? undefined : ctx.onProgress,
    },
  );
  const armOf = (name: string, trial: Trial): ConfirmArm => {
    const runs = planned
      .filter((p) => p.arm === name && done.has(p.run))
      .map((p) => {
        const r = done.get(p.run) as TrainingRun['results'];
        return { seed: p.seed, dir: p.run.dir, best_epoch: r.best_epoch, epochs: r.epochs, test: r.test };
      });
    const stats: Record<string, MeanStd> = {};
    for (const k of CONFIRM_KEYS) stats[k] = meanStd(runs.map((r) => r.test[k] ?? Number.NaN));
    return {
      id: trial.id,
      settings: trial.settings,
      runs,
      mean: Object.fromEntries(CONFIRM_KEYS.map((k) => [k, stats[k].mean])),
      std: Object.fromEntries(CONFIRM_KEYS.map((k) => [k, stats[k].std])),
    };
  };
  const c = armOf('chosen', chosen);
  const b = armOf('base', base);
  const values = (a: ConfirmArm, k: string) =>
    a.runs.map((r) => ({ seed: r.seed, value: r.test[k] ?? Number.NaN }));
  return {
    seeds,
    maxEpochs,
    trained: planned.length - reused,
    wall_s: (performance.now() - t0) / 1000,
    chosen: c,
    base: b,
    gain: Object.fromEntries(CONFIRM_KEYS.map((k) => [k, (c.mean[k] - b.mean[k]) / b.mean[k]])),
    tests: Object.fromEntries(CONFIRM_KEYS.map((k) => [k, pairedBySeed(values(c, k), values(b, k))])),
  };
}

/** A run that did not finish (crashed, interrupted): the trial fails here and is retried next time. */
const failedOutcome = (reason: string): TrialOutcome => ({
  status: 'failed',
  val: null,
  epochs: 0,
  reason,
  transient: true,
});

/** A finished trial run as the tuner reads it: validation only; a run the divergence guard stopped fails. */
function outcomeOf(r: TrainingResults): TrialOutcome {
  const stopped = String(r.stopped);
  if (stopped === 'non-finite-loss' || stopped === 'diverged' || !r.val) {
    return {
      status: 'failed',
      val: r.val,
      epochs: r.epochs,
      reason: r.val ? `stopped: ${stopped}` : 'no validation metrics',
    };
  }
  return { status: 'ok', val: r.val, epochs: r.epochs };
}

const num = (x: number | null | undefined) =>
  x === null || x === undefined || !Number.isFinite(x) ? '–' : x.toFixed(4);
const settingsText = (t: {
  base: boolean;
  settings: { method: Record<string, unknown>; model: Record<string, unknown> };
}) =>
  t.base
    ? `method off${Object.keys(t.settings.model).length ? `, ${fmtSettings(t.settings.model)}` : ''}`
    : [fmtSettings(t.settings.method), fmtSettings(t.settings.model)].filter(Boolean).join(', ');
const fmtSettings = (s: Record<string, unknown>) =>
  Object.entries(s)
    .map(([k, v]) => `${k}=${typeof v === 'number' ? Number(v.toPrecision(3)) : v}`)
    .join(', ');

export function renderTune(
  options: TuneCommandOptions,
  r: TuneResult,
  space: SearchSpace,
  wall: number,
  confirm?: TuneConfirmation,
): string {
  const m = r.metric;
  const last = r.budgets[r.budgets.length - 1];
  const sorted = [...r.trials].sort((a, b) => {
    const ra = a.rungs[a.rungs.length - 1];
    const rb = b.rungs[b.rungs.length - 1];
    return (rb?.budget ?? 0) - (ra?.budget ?? 0) || (rb?.value ?? -1) - (ra?.value ?? -1);
  });
  const verdict = !r.best
    ? 'No trial finished: nothing was chosen.'
    : r.baseWins && options.method === 'none'
      ? `**The model's default settings have the best validation ${m}**: no sampled setting beat them at ${last} epochs.`
      : r.baseWins
        ? `**The base (${options.method} off) has the best validation ${m}: keep ${options.method} off.** No trial of ${options.method} beat the base model on validation at ${last} epochs.`
        : `**Chosen: ${r.best.id}** (${settingsText(r.best)}), validation ${m} ${num(r.best.val[m])} vs the base's ${num(r.base.val?.[m])} (${pct(r.best.val[m], r.base.val?.[m])}).`;
  const baseRecord = r.trials.find((t) => t.base);
  const baseFailed =
    baseRecord?.status === 'failed'
      ? `**The base arm failed (${baseRecord.reason ?? 'no reason recorded'}), so nothing here compares ${options.method} with the model alone.** Rerun the same command: a crashed trial trains again, finished ones are reused.`
      : '';
  const failed = r.trials.filter((t) => t.status === 'failed');
  return [
    `# Tuning ${options.method} on ${options.dataset} (${options.model})`,
    '',
    `Budget: ${r.trials.length - 1} trials${r.trials.length - 1 < options.trials ? ` (${options.trials} asked: the space has no more distinct settings)` : ''} + the base arm, successive halving at ${r.budgets.join(' → ')} epochs (η = ${options.eta ?? 3}), seed ${options.seed}; ${r.trained} trainings run ${options.queue ? 'on the queue’s workers' : 'here'}, wall time ${wall.toFixed(0)} s. Selection on validation ${m} only.`,
    '',
    verdict,
    '',
    baseFailed,
    '',
    r.best
      ? `Test (evaluated once, for the chosen trial only): ${Object.entries(r.best.test)
          .filter(([k]) => k.startsWith('recall') || k.startsWith('ndcg'))
          .map(([k, v]) => `${k} ${num(v)}`)
          .join(
            ', ',
          )}. One seed: ${confirm ? 'the confirmation below repeats the comparison over seeds' : options.confirmSeeds?.length ? 'the base was chosen, so there is nothing to confirm' : 'confirm the chosen settings over several seeds (--confirm-seeds) before trusting a gain'}.`
      : '',
    '',
    ...renderConfirmation(options, r, confirm),
    '![search](plots/tune_search.svg)',
    '',
    markdownTable(
      ['trial', 'settings', `val ${m}`, 'epochs', 'status'],
      sorted.map((t) => [
        t.id,
        settingsText(t),
        t.rungs.map((g) => `${num(g.value)}@${g.budget}`).join(' → '),
        String(t.epochs),
        t.status + (t.reason ? ` (${t.reason})` : ''),
      ]),
    ),
    '',
    `Search space: ${JSON.stringify(space)}`,
    '',
    failed.length ? `${failed.length} trial(s) failed (diverged or crashed) and were never candidates.` : '',
    '',
  ]
    .join('\n')
    .replace(/\n{3,}/g, '\n\n');
}

/** The "Confirmation over seeds" section of tune.md (empty without --confirm-seeds). */
function renderConfirmation(options: TuneCommandOptions, r: TuneResult, c?: TuneConfirmation): string[] {
  if (!options.confirmSeeds?.length) return [];
  if (!c) {
    return [
      '## Confirmation over seeds',
      '',
      r.best
        ? 'The base was chosen: nothing to confirm against it.'
        : 'No trial was chosen: nothing to confirm.',
      '',
    ];
  }
  const m = r.metric;
  const cell = (a: ConfirmArm, k: string) =>
    `${num(a.mean[k])}${a.std[k] === null ? '' : ` ± ${num(a.std[k])}`}`;
  const stats = (a: ConfirmArm, k: string): MeanStd => meanStd(a.runs.map((x) => x.test[k] ?? Number.NaN));
  const p = c.tests[m]?.p_value ?? null;
  const verdict =
    p === null || c.tests[m].n < 2
      ? `Fewer than 2 paired seeds: no test of the difference.`
      : p < 0.05
        ? `**${c.gain[m] > 0 ? 'The chosen settings beat the base' : 'The chosen settings lose to the base'} beyond seed noise** on test ${m} (${pct(c.chosen.mean[m], c.base.mean[m])}, ${formatPaired(c.tests[m])}).`
        : `**Not distinguishable from the base at these seeds** on test ${m} (${pct(c.chosen.mean[m], c.base.mean[m])}, ${formatPaired(c.tests[m])}).`;
  return [
    '## Confirmation over seeds (test split, after the choice)',
    '',
    `The chosen trial (${c.chosen.id}: ${settingsText(chosenLike(c.chosen, false))}) and the base (${settingsText(chosenLike(c.base, true))}), each trained at seeds ${c.seeds.join(', ')} with early stopping on validation (at most ${c.maxEpochs} epochs); test metrics at each run's best validation epoch. The choice above used validation only; this section does not change it. ${c.trained} runs trained here (${c.seeds.length * 2 - c.trained} reused), wall time ${c.wall_s.toFixed(0)} s.`,
    '',
    markdownTable(
      ['arm', ...CONFIRM_KEYS, 'best epochs'],
      [
        [
          `base`,
          ...CONFIRM_KEYS.map((k) => cell(c.base, k)),
          c.base.runs.map((x) => x.best_epoch ?? '–').join(', '),
        ],
        [
          `${c.chosen.id}`,
          ...CONFIRM_KEYS.map((k) => cell(c.chosen, k)),
          c.chosen.runs.map((x) => x.best_epoch ?? '–').join(', '),
        ],
        [
          'gain',
          ...CONFIRM_KEYS.map((k) =>
            gainCell(gainOf(stats(c.base, k), stats(c.chosen, k)), formatPaired(c.tests[k])),
          ),
          '',
        ],
      ],
    ),
    '',
    verdict,
    '',
  ];
}

const chosenLike = (a: ConfirmArm, base: boolean) => ({ base, settings: a.settings });

const pct = (a: number | undefined, b: number | undefined) =>
  a === undefined || b === undefined || !(b > 0)
    ? '–'
    : `${a >= b ? '+' : ''}${((100 * (a - b)) / b).toFixed(1)}%`;

function searchPlot(r: TuneResult, options: TuneCommandOptions): string {
  const series: LineSeries[] = r.trials
    .filter((t) => t.rungs.some((g) => g.value !== null))
    .map((t) => ({
      name: t.base ? 'base (method off)' : t.id,
      points: t.rungs.map((g) => ({ x: g.budget, y: g.value ?? Number.NaN })),
      dashed: t.base,
    }));
  return lineChart({
    title: `successive halving: ${options.model}+${options.method} on ${options.dataset}`,
    xLabel: 'epoch budget of the rung',
    yLabel: `validation ${r.metric}`,
    series,
  });
}

export const tuneCommand: Command = {
  summary:
    'search a method’s settings on validation (successive halving; base arm always a trial; test once)',
  usage,
  async run(argv, io) {
    const { values } = parseArgs({
      args: argv,
      options: {
        ...SWEEP_OPTIONS,
        model: { type: 'string', default: 'lightgcn' },
        method: { type: 'string', default: 'promax' },
        space: { type: 'string' },
        trials: { type: 'string', default: '9' },
        'max-epochs': { type: 'string', default: '27' },
        seed: { type: 'string', default: '2025' },
        eta: { type: 'string' },
        embeddings: { type: 'string' },
        aug: { type: 'string' },
        queue: { type: 'string' },
        'confirm-seeds': { type: 'string' },
        'confirm-max-epochs': { type: 'string' },
      },
      strict: true,
    });
    const { dataset, out } = requireDatasetAndOut(values, usage);
    const res = await tuneCommandRun(
      {
        dataset: dataset,
        model: values.model,
        method: values.method,
        space: values.space ? resolve(io.cwd, values.space) : undefined,
        trials: positiveIntFlag(values.trials, '--trials') as number,
        maxEpochs: positiveIntFlag(values['max-epochs'], '--max-epochs') as number,
        seed: intFlag(values.seed, '--seed') as number,
        eta: positiveIntFlag(values.eta, '--eta'),
        outDir: resolve(io.cwd, out),
        jobs: positiveIntFlag(values.jobs, '--jobs'),
        queue: values.queue,
        threads: positiveIntFlag(values.threads, '--threads'),
        embeddings: values.embeddings ? resolve(io.cwd, values.embeddings) : undefined,
        aug: values.aug ? resolve(io.cwd, values.aug) : undefined,
        file: values.config ? resolve(io.cwd, values.config) : undefined,
        sets: values.set,
        confirmSeeds: values['confirm-seeds']
          ? seedsFlag(values['confirm-seeds'], '--confirm-seeds')
          : undefined,
        confirmMaxEpochs: positiveIntFlag(values['confirm-max-epochs'], '--confirm-max-epochs'),
      },
      io,
      { quiet: values.quiet || values.json },
    );
    if (values.json) io.out(`${JSON.stringify({ ...res, markdown: undefined })}\n`);
    else io.out(`\n${res.markdown}\n`);
    return 0;
  },
};
