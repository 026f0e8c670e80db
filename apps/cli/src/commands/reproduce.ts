import { writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { formatPaired, pairedBySeed, type SeedPairedTest } from '@promax/eval';
import { aggregateMetrics, formatMeanStd } from '@promax/pipeline';
import { buildReport, gainCell, gainOf, REPORT_METRICS } from '@promax/report';
import { uniqueList } from '../args/unique-list.js';
import { createProgressRenderer, type Io } from '../io.js';
import { positiveIntFlag } from '../profile-pipeline/cli-args.js';
import { markdownTable } from '../render/table.js';
import { type RunConfig, resolveRunConfig } from '../training/run-config.js';
import {
  executePlan,
  type PlannedRun,
  planRun,
  requireDatasetAndOut,
  SWEEP_OPTIONS,
  threadsPerRun,
} from '../training/run-plan.js';
import { checkRunConfig, getDataset, type TrainingRun } from '../training/run-training.js';
import type { Command } from './command.js';
import { intFlag, methodFlags, seedsFlag } from './train.js';

/** A method's row label; ProMax names the terms that ran (e.g. "+ProMax (S2DR)"). */
function methodLabel(method: string, results: TrainingRun['results'] | undefined): string {
  if (method !== 'promax') return `+${method}`;
  const comps = results?.promax?.components as { sdr?: boolean; s2dr?: boolean } | undefined;
  return comps
    ? `+ProMax (${[comps.sdr && 'SDR', comps.s2dr && 'S2DR'].filter(Boolean).join('+') || 'none'})`
    : '+ProMax';
}

const usage = `promax reproduce --dataset amazon-book|yelp|DIR --out DIR
                 [--models lightgcn,...] [--methods promax,...] [--seeds 2025,2026,2027]
                 [--max-epochs N] [--embeddings DIR] [--aug FILE] [--config FILE]
                 [--set key=value ...] [--jobs N] [--queue URL] [--threads N] [--fresh] [--quiet] [--json]

Trains the base model and base+METHOD for each listed method (default: promax), model and seed,
each method with every component the dataset supports (ProMax: S2DR when aug_trn_mat exists, SDR
when profile embeddings exist), then writes DIR/reproduce.md (mean ± std, relative gains, the
authors' numbers where the same components ran; paired t-test p-values over seeds, Wilcoxon too
with ≥ 5 seeds), DIR/report.md with plots, and
DIR/reproduce.json with every run's results. Every run's config is validated before any trains.

  --jobs N      train N runs at once, each in its own process (its log: RUN_DIR.log)
  --queue URL   hand the runs to 'promax worker --queue URL' processes on any machines sharing DIR
                (a BullMQ job queue on Redis, redis://HOST:PORT/DB), wait, then write the same table
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
  /** A Redis URL: runs go to `promax worker` processes through the job queue instead. */
  queue?: string;
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
      /** Per method and metric: paired tests against the base over seeds. */
      paired: Record<string, Record<string, SeedPairedTest>>;
    }
  >;
  markdown: string;
  reportPath?: string;
}

const KEYS = REPORT_METRICS;

/** One (model, seed, arm) run of a reproduction. */
interface ReproduceRun extends PlannedRun {
  model: string;
  seed: number;
  method: string | null;
}

export async function reproduce(
  options: ReproduceOptions,
  io: Io,
  flags: { quiet?: boolean } = {},
): Promise<ReproduceResult> {
  const onProgress = createProgressRenderer(io, { quiet: flags.quiet });
  const jobs = Math.max(1, options.jobs ?? 1);
  const threads = threadsPerRun(jobs, options.threads, availableParallelism());
  const methods = options.methods ?? ['promax'];
  uniqueList(options.models, '--models');
  uniqueList(methods, '--methods');
  uniqueList(options.seeds, '--seeds');
  const planned: ReproduceRun[] = [];
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
          sweepMethods: methods,
        });
        const dir = join(options.outDir, model, `seed-${seed}`, method ?? 'base');
        const label = `${model}${method ? `+${method}` : ''} seed ${seed}`;
        planned.push({ ...planRun(label, dir, config), model, seed, method });
      }
    }
  }
  // Every run is checked (plugins, settings, inputs) before any trains.
  for (const run of planned) await checkRunConfig(run.config, io.cwd);
  const done = await executePlan(planned, io, {
    jobs,
    queue: options.queue,
    fresh: options.fresh,
    cliEntry: options.cliEntry,
    quiet: flags.quiet,
    onProgress,
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
    const entry: ReproduceResult['summary'][string] = { base, methods: {}, gain: {}, paired: {} };
    const bySeed = (m: string | null, k: string) =>
      runs
        .filter((r) => r.model === model && r.method === m)
        .map((r) => ({ seed: r.seed, value: r.results.test[k] ?? Number.NaN }));
    summary[model] = entry;
    if (base['recall@20']) rows.push([model, ...KEYS.map((k) => (base[k] ? formatMeanStd(base[k]) : '–'))]);
    for (const method of methods) {
      const stats = aggregateMetrics(pick(method));
      entry.methods[method] = stats;
      const gain: Record<string, number> = {};
      for (const k of KEYS) if (base[k] && stats[k]) gain[k] = (stats[k].mean - base[k].mean) / base[k].mean;
      entry.gain[method] = gain;
      const paired: Record<string, SeedPairedTest> = {};
      for (const k of KEYS) {
        const p = pairedBySeed(bySeed(method, k), bySeed(null, k));
        if (p.n) paired[k] = p;
      }
      entry.paired[method] = paired;
      const first = runs.find((r) => r.model === model && r.method === method)?.results;
      if (stats['recall@20'])
        rows.push([
          `${model} ${methodLabel(method, first)}`,
          ...KEYS.map((k) => (stats[k] ? formatMeanStd(stats[k]) : '–')),
        ]);
      if (base['recall@20'] && stats['recall@20'])
        rows.push([
          `gain (${method})`,
          ...KEYS.map((k) =>
            base[k] && stats[k] ? gainCell(gainOf(base[k], stats[k]), formatPaired(paired[k])) : '–',
          ),
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
    'gain: relative gain of the mean; "beyond std" when the difference of means exceeds the larger sample std over seeds, "1 seed" when there is no spread to compare with; p: two-sided paired t-test against the base over seeds (paired by seed), "W p" the Wilcoxon signed-rank test (with ≥ 5 seeds).',
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
        ...SWEEP_OPTIONS,
        models: { type: 'string', default: 'lightgcn' },
        methods: { type: 'string', default: 'promax' },
        promax: { type: 'boolean', default: false },
        seeds: { type: 'string', default: '2025,2026,2027' },
        embeddings: { type: 'string' },
        aug: { type: 'string' },
        queue: { type: 'string' },
        fresh: { type: 'boolean', default: false },
      },
      strict: true,
    });
    const { dataset, out } = requireDatasetAndOut(values, usage);
    const seeds = seedsFlag(values.seeds);
    const res = await reproduce(
      {
        dataset: dataset,
        models: uniqueList(
          values.models
            .split(',')
            .map((s) => s.trim())
            .filter(Boolean),
          '--models',
        ),
        methods: methodFlags([values.methods], values.promax) ?? [],
        seeds,
        outDir: resolve(io.cwd, out),
        file: values.config ? resolve(io.cwd, values.config) : undefined,
        sets: values.set,
        maxEpochs: intFlag(values['max-epochs'], '--max-epochs'),
        embeddings: values.embeddings ? resolve(io.cwd, values.embeddings) : undefined,
        aug: values.aug ? resolve(io.cwd, values.aug) : undefined,
        jobs: positiveIntFlag(values.jobs, '--jobs'),
        queue: values.queue,
        threads: positiveIntFlag(values.threads, '--threads'),
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
