import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { PromaxError } from '@promax/core';
import { aggregateMetrics, formatMeanStd } from '@promax/pipeline';
import { buildReport, gainCell, gainOf } from '@promax/report';
import { uniqueList } from '../args/unique-list.js';
import { createProgressRenderer, type Io } from '../io.js';
import { markdownTable } from '../render/table.js';
import { withInterrupt } from '../training/interrupt.js';
import { type RunConfig, resolveRunConfig, runConfigToRaw } from '../training/run-config.js';
import { checkRunConfig, getDataset, runTraining, type TrainingRun } from '../training/run-training.js';
import type { Command } from './command.js';
import { intFlag, methodFlags } from './train.js';

const runLabel = (r: { model: string; method: string | null; seed: number }) =>
  `${r.model}${r.method ? `+${r.method}` : ''} seed ${r.seed}`;

/** A method's row label; ProMax names the terms that ran (e.g. "+ProMax (S2DR)"). */
function methodLabel(method: string, results: TrainingRun['results'] | undefined): string {
  if (method !== 'promax') return `+${method}`;
  const comps = results?.promax?.components as { sdr?: boolean; s2dr?: boolean } | undefined;
  return comps
    ? `+ProMax (${[comps.sdr && 'SDR', comps.s2dr && 'S2DR'].filter(Boolean).join('+') || 'none'})`
    : '+ProMax';
}

/** A list flag naming the same thing twice is refused (the same seed twice would fake a spread). */
function refuseDuplicates(flag: string, values: readonly string[]): void {
  const dup = values.find((v, i) => values.indexOf(v) !== i);
  if (dup !== undefined) {
    throw new PromaxError({
      code: 'INVALID_ARGUMENT',
      field: flag,
      message: `${flag} lists '${dup}' twice`,
      fix: `list each value once, e.g. ${flag} ${[...new Set(values)].join(',')}`,
    });
  }
}

const usage = `promax reproduce --dataset amazon-book|yelp|DIR --out DIR
                 [--models lightgcn,...] [--methods promax,...] [--seeds 2025,2026,2027]
                 [--max-epochs N] [--embeddings DIR] [--aug FILE] [--config FILE]
                 [--set key=value ...] [--jobs N] [--threads N] [--fresh] [--quiet] [--json]

Trains the base model and base+METHOD for each listed method (default: promax), model and seed,
each method with every component the dataset supports (ProMax: S2DR when aug_trn_mat exists, SDR
when profile embeddings exist), then writes DIR/reproduce.md (mean ± std, relative gains, the
authors' numbers where the same components ran), DIR/report.md with plots, and
DIR/reproduce.json with every run's results. Every run's config is validated before any trains.

  --jobs N      train N runs at once, each in its own process (its log: RUN_DIR.log)
  --threads N   onnxruntime threads per run (default: all cores, or cores / N with --jobs N)
  --fresh       retrain runs that already finished; by default a run directory holding a finished
                run of the same config is reused, so an interrupted reproduction resumes`;

export interface ReproduceOptions {
  dataset: string;
  models: string[];
  /** Methods compared with the base model, each in its own run (default: promax). */
  methods?: string[];
  seeds: number[];
  outDir: string;
  file?: string;
  sets?: string[];
  maxEpochs?: number;
  title?: string;
  /** Profile embeddings folder and A′ file overriding the dataset's own. */
  embeddings?: string;
  aug?: string;
  /** Runs trained at once, each in its own `promax train` process (1: one after another, in this process). */
  jobs?: number;
  /** onnxruntime threads per run (default: all cores with jobs 1, cores / jobs otherwise). */
  threads?: number;
  /** Retrain runs that already finished with the same config (default: reuse them). */
  fresh?: boolean;
  /** The CLI script child runs start (default: this package's dist/bin.js). */
  cliEntry?: string;
}

export interface ReproduceResult {
  dataset: string;
  runs: {
    model: string;
    seed: number;
    /** The method of the run; null for the base model. */
    method: string | null;
    promax: boolean;
    dir: string;
    results: TrainingRun['results'];
  }[];
  /** Per model: the base, each method, and each method's relative gain of the mean. */
  summary: Record<
    string,
    {
      base: Record<string, { mean: number; std: number | null; n: number }>;
      methods: Record<string, Record<string, { mean: number; std: number | null; n: number }>>;
      gain: Record<string, Record<string, number>>;
    }
  >;
  markdown: string;
  reportPath?: string;
}

const KEYS = ['recall@5', 'recall@10', 'recall@20', 'ndcg@5', 'ndcg@10', 'ndcg@20'];

/** One (model, seed, arm) run of a reproduction. */
interface PlannedRun {
  model: string;
  seed: number;
  method: string | null;
  dir: string;
  config: RunConfig;
  /** The config that decides the results (threads excluded), written beside a finished run. */
  key: string;
}

const KEY_FILE = 'reproduce-key.json';

/** The config JSON that decides a run's results: everything but the thread count, keys sorted. */
function runKey(config: RunConfig): string {
  const { threads: _threads, ...raw } = runConfigToRaw(config);
  // "no preset" is written as an absent key, so runs recorded before presets existed still match.
  if (raw.modelPreset === null) delete raw.modelPreset;
  return stableStringify(raw);
}

function stableStringify(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableStringify).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stableStringify(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** A finished run of exactly this config in `dir`, or undefined. */
function finishedRun(run: PlannedRun): TrainingRun['results'] | undefined {
  const keyPath = join(run.dir, KEY_FILE);
  const resultsPath = join(run.dir, 'results.json');
  if (!existsSync(keyPath) || !existsSync(resultsPath)) return undefined;
  try {
    if (readFileSync(keyPath, 'utf8').trim() !== run.key) return undefined;
    return JSON.parse(readFileSync(resultsPath, 'utf8')) as TrainingRun['results'];
  } catch {
    return undefined;
  }
}

/** The CLI entry point a child run starts: dist/bin.js beside this module (or the built one when run from src/). */
function defaultCliEntry(): string {
  const beside = fileURLToPath(new URL('../bin.js', import.meta.url));
  if (existsSync(beside)) return beside;
  return fileURLToPath(new URL('../../dist/bin.js', import.meta.url));
}

/** Runs one planned run in a child `promax train` process; its progress goes to `<dir>.log`. */
function runInChild(run: PlannedRun, cliEntry: string, signal: AbortSignal): Promise<TrainingRun['results']> {
  mkdirSync(dirname(run.dir), { recursive: true });
  const configPath = `${run.dir}.config.json`;
  const logPath = `${run.dir}.log`;
  writeFileSync(configPath, `${JSON.stringify(runConfigToRaw(run.config), null, 2)}\n`);
  const log = openSync(logPath, 'w');
  return new Promise((resolvePromise, reject) => {
    const child = spawn(
      process.execPath,
      [cliEntry, 'train', '--config', configPath, '--out', run.dir, '--overwrite'],
      {
        stdio: ['ignore', log, log],
        env: process.env,
      },
    );
    const onAbort = () => child.kill('SIGINT');
    signal.addEventListener('abort', onAbort, { once: true });
    child.on('error', (cause) => {
      closeSync(log);
      signal.removeEventListener('abort', onAbort);
      reject(
        new PromaxError({
          code: 'RUN_FAILED',
          file: cliEntry,
          message: `cannot start a child run: ${cause.message}`,
          fix: 'build the CLI first (pnpm build) or use --jobs 1',
          cause,
        }),
      );
    });
    child.on('exit', (code, sig) => {
      closeSync(log);
      signal.removeEventListener('abort', onAbort);
      const resultsPath = join(run.dir, 'results.json');
      if (code === 0 && existsSync(resultsPath)) {
        resolvePromise(JSON.parse(readFileSync(resultsPath, 'utf8')) as TrainingRun['results']);
        return;
      }
      const tail = existsSync(logPath)
        ? readFileSync(logPath, 'utf8').trim().split('\n').slice(-5).join('\n')
        : '';
      reject(
        new PromaxError({
          code: signal.aborted ? 'ABORTED' : 'RUN_FAILED',
          file: logPath,
          message: `${runLabel(run)} ${sig ? `was stopped by ${sig}` : `exited with code ${code}`}${tail ? `; last lines of its log:\n${tail}` : ''}`,
          fix: 'read the log; finished runs are kept and rerunning the same command resumes from them',
        }),
      );
    });
  });
}

export async function reproduce(
  options: ReproduceOptions,
  io: Io,
  flags: { quiet?: boolean } = {},
): Promise<ReproduceResult> {
  const onProgress = createProgressRenderer(io, { quiet: flags.quiet });
  const jobs = Math.max(1, options.jobs ?? 1);
  const threads =
    options.threads ?? (jobs > 1 ? Math.max(1, Math.floor(availableParallelism() / jobs)) : undefined);
  const methods = options.methods ?? ['promax'];
  refuseDuplicates('--models', options.models);
  refuseDuplicates('--methods', methods);
  refuseDuplicates('--seeds', options.seeds.map(String));
  const planned: PlannedRun[] = [];
  for (const model of options.models) {
    for (const seed of options.seeds) {
      for (const method of [null, ...methods]) {
        const config: RunConfig = resolveRunConfig({
          file: options.file,
          flags: {
            dataset: options.dataset,
            embeddings: options.embeddings,
            aug: options.aug,
            model,
            seed,
            threads,
            'trainer.maxEpochs': options.maxEpochs,
            methods: method ? [method] : [],
          },
          sets: options.sets,
        });
        const dir = join(options.outDir, model, `seed-${seed}`, method ?? 'base');
        planned.push({ model, seed, method, dir, config, key: runKey(config) });
      }
    }
  }
  // Every run is checked (plugins, settings, inputs) before any trains.
  for (const run of planned) await checkRunConfig(run.config, io.cwd);
  const done = new Map<PlannedRun, TrainingRun['results']>();
  const todo: PlannedRun[] = [];
  for (const run of planned) {
    const previous = options.fresh ? undefined : finishedRun(run);
    if (previous) {
      done.set(run, previous);
      if (!flags.quiet) io.err(`reusing ${runLabel(run)}: ${run.dir} (same config, finished)\n`);
    } else todo.push(run);
  }
  const label = runLabel;
  await withInterrupt(io, async (signal) => {
    if (jobs === 1) {
      for (const run of todo) {
        if (signal.aborted) return;
        if (!flags.quiet) io.err(`\n== ${label(run)} → ${run.dir}\n`);
        const result = await runTraining({
          config: run.config,
          outDir: run.dir,
          cwd: io.cwd,
          overwrite: true,
          onProgress,
          signal,
        });
        if (result.results.stopped === 'aborted') return;
        writeFileSync(join(run.dir, KEY_FILE), `${run.key}\n`);
        done.set(run, result.results);
      }
      return;
    }
    const cliEntry = options.cliEntry ?? defaultCliEntry();
    const queue = [...todo];
    const failures: unknown[] = [];
    const worker = async () => {
      for (let run = queue.shift(); run; run = queue.shift()) {
        if (signal.aborted) return;
        if (!flags.quiet) io.err(`started ${label(run)} (log: ${run.dir}.log)\n`);
        try {
          const results = await runInChild(run, cliEntry, signal);
          if (results.stopped === 'aborted') return;
          writeFileSync(join(run.dir, KEY_FILE), `${run.key}\n`);
          done.set(run, results);
          if (!flags.quiet)
            io.err(
              `finished ${label(run)}: best epoch ${results.best_epoch}, test recall@20 ${results.test['recall@20']?.toFixed(4)}\n`,
            );
        } catch (error) {
          if (signal.aborted) return;
          failures.push(error);
          if (!flags.quiet) io.err(`failed ${label(run)}: ${(error as Error).message}\n`);
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(jobs, todo.length) }, worker));
    if (failures.length) throw failures[0];
  });
  const runs: ReproduceResult['runs'] = planned
    .filter((r) => done.has(r))
    .map((r) => ({
      model: r.model,
      seed: r.seed,
      method: r.method,
      promax: r.method === 'promax',
      dir: r.dir,
      results: done.get(r) as TrainingRun['results'],
    }));
  const summary: ReproduceResult['summary'] = {};
  const rows: string[][] = [];
  for (const model of options.models) {
    const pick = (m: string | null) =>
      runs.filter((r) => r.model === model && r.method === m).map((r) => r.results.test);
    const base = aggregateMetrics(pick(null));
    const entry: ReproduceResult['summary'][string] = { base, methods: {}, gain: {} };
    summary[model] = entry;
    if (base['recall@20']) rows.push([model, ...KEYS.map((k) => (base[k] ? formatMeanStd(base[k]) : '–'))]);
    for (const method of methods) {
      const stats = aggregateMetrics(pick(method));
      entry.methods[method] = stats;
      const gain: Record<string, number> = {};
      for (const k of KEYS) if (base[k] && stats[k]) gain[k] = (stats[k].mean - base[k].mean) / base[k].mean;
      entry.gain[method] = gain;
      const first = runs.find((r) => r.model === model && r.method === method)?.results;
      if (stats['recall@20'])
        rows.push([
          `${model} ${methodLabel(method, first)}`,
          ...KEYS.map((k) => (stats[k] ? formatMeanStd(stats[k]) : '–')),
        ]);
      if (base['recall@20'] && stats['recall@20'])
        rows.push([
          `gain (${method})`,
          ...KEYS.map((k) => (base[k] && stats[k] ? gainCell(gainOf(base[k], stats[k])) : '–')),
        ]);
    }
  }
  let reportPath: string | undefined;
  let authors: string[] = [];
  if (runs.length) {
    const rep = await buildReport({
      runs: runs.map((r) => r.dir),
      outDir: options.outDir,
      title: options.title ?? `ProMax on ${options.dataset}`,
      loadDataset: getDataset,
    });
    reportPath = rep.reportPath;
    authors = rep.authorsSection;
  }
  const markdown = [
    `# Reproduction on ${options.dataset}`,
    '',
    `Seeds: ${options.seeds.join(', ')} (mean ± sample std over seeds; test split, best validation epoch).`,
    '',
    markdownTable(['model', ...KEYS], rows),
    '',
    'gain: relative gain of the mean; "beyond std" when the difference of means exceeds the larger sample std over seeds, "1 seed" when there is no spread to compare with.',
    '',
    ...(authors.length ? ["## The authors' numbers", '', ...authors] : []),
    ...(reportPath
      ? ['Validation curves, gains by user sparsity and per-run details: [report.md](report.md).', '']
      : []),
  ]
    .join('\n')
    .replace(/\n{3,}/g, '\n\n');
  writeFileSync(join(options.outDir, 'reproduce.md'), markdown);
  const result: ReproduceResult = { dataset: options.dataset, runs, summary, markdown, reportPath };
  writeFileSync(join(options.outDir, 'reproduce.json'), `${JSON.stringify(result, null, 2)}\n`);
  return result;
}

export const reproduceCommand: Command = {
  summary: 'train the base vs base+method (default ProMax) over models and seeds, with a table and report',
  usage,
  async run(argv, io) {
    const { values } = parseArgs({
      args: argv,
      options: {
        dataset: { type: 'string' },
        models: { type: 'string', default: 'lightgcn' },
        methods: { type: 'string', default: 'promax' },
        promax: { type: 'boolean', default: false },
        seeds: { type: 'string', default: '2025,2026,2027' },
        'max-epochs': { type: 'string' },
        config: { type: 'string' },
        embeddings: { type: 'string' },
        aug: { type: 'string' },
        set: { type: 'string', multiple: true, default: [] },
        out: { type: 'string' },
        jobs: { type: 'string' },
        threads: { type: 'string' },
        fresh: { type: 'boolean', default: false },
        quiet: { type: 'boolean', default: false },
        json: { type: 'boolean', default: false },
      },
      strict: true,
    });
    if (!values.dataset || !values.out) {
      throw new PromaxError({
        code: 'INVALID_ARGUMENT',
        field: values.dataset ? '--out' : '--dataset',
        message: '--dataset and --out are required',
        fix: usage.split('\n')[0],
      });
    }
    const seeds = uniqueList(
      values.seeds.split(',').map((s) => intFlag(s.trim(), '--seeds') as number),
      '--seeds',
    );
    const res = await reproduce(
      {
        dataset: values.dataset,
        models: uniqueList(
          values.models
            .split(',')
            .map((s) => s.trim())
            .filter(Boolean),
          '--models',
        ),
        methods: methodFlags([values.methods], values.promax) ?? [],
        seeds,
        outDir: resolve(io.cwd, values.out),
        file: values.config ? resolve(io.cwd, values.config) : undefined,
        sets: values.set,
        maxEpochs: intFlag(values['max-epochs'], '--max-epochs'),
        embeddings: values.embeddings ? resolve(io.cwd, values.embeddings) : undefined,
        aug: values.aug ? resolve(io.cwd, values.aug) : undefined,
        jobs: positiveFlag(values.jobs, '--jobs'),
        threads: positiveFlag(values.threads, '--threads'),
        fresh: values.fresh,
      },
      io,
      { quiet: values.quiet || values.json },
    );
    if (values.json)
      io.out(
        `${JSON.stringify({ dataset: res.dataset, summary: res.summary, runs: res.runs.map((r) => ({ model: r.model, seed: r.seed, method: r.method, promax: r.promax, dir: r.dir, test: r.results.test, best_epoch: r.results.best_epoch })) })}\n`,
      );
    else io.out(`\n${res.markdown}\nreport: ${res.reportPath ?? '(none)'}\n`);
    return 0;
  },
};

function positiveFlag(v: string | undefined, flag: string): number | undefined {
  const n = intFlag(v, flag);
  if (n !== undefined && n < 1) {
    throw new PromaxError({
      code: 'INVALID_ARGUMENT',
      field: flag,
      message: `${flag} must be at least 1, got ${n}`,
      fix: `pass e.g. ${flag} 2`,
    });
  }
  return n;
}
