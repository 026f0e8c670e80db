import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { PromaxError } from '@promax/core';
import { aggregateMetrics, formatMeanStd } from '@promax/pipeline';
import { createProgressRenderer, type Io } from '../io.js';
import { buildReport } from '../report/build-report.js';
import { markdownTable } from '../render/table.js';
import { withInterrupt } from '../training/interrupt.js';
import { type RunConfig, resolveRunConfig } from '../training/run-config.js';
import { getDataset, runTraining, type TrainingRun } from '../training/run-training.js';
import type { Command } from './command.js';
import { intFlag } from './train.js';

const usage = `promax reproduce --dataset amazon-book|yelp|DIR --out DIR
                 [--models lightgcn,...] [--seeds 2025,2026,2027] [--max-epochs N]
                 [--embeddings DIR] [--aug FILE] [--config FILE] [--set key=value ...] [--quiet] [--json]

Trains base vs base+ProMax for each model and seed with every component the dataset supports
(S2DR when aug_trn_mat exists, SDR when profile embeddings exist), then writes DIR/reproduce.md
(mean ± std, relative gains, the authors' numbers where the same components ran), DIR/report.md
with plots, and DIR/reproduce.json with every run's results.`;

export interface ReproduceOptions {
  dataset: string;
  models: string[];
  seeds: number[];
  outDir: string;
  file?: string;
  sets?: string[];
  maxEpochs?: number;
  title?: string;
  /** Profile embeddings folder and A′ file overriding the dataset's own. */
  embeddings?: string;
  aug?: string;
}

export interface ReproduceResult {
  dataset: string;
  runs: { model: string; seed: number; promax: boolean; dir: string; results: TrainingRun['results'] }[];
  summary: Record<string, { base: Record<string, { mean: number; std: number | null; n: number }>; promax: Record<string, { mean: number; std: number | null; n: number }>; gain: Record<string, number> }>;
  markdown: string;
  reportPath?: string;
}

const KEYS = ['recall@5', 'recall@10', 'recall@20', 'ndcg@5', 'ndcg@10', 'ndcg@20'];

export async function reproduce(options: ReproduceOptions, io: Io, flags: { quiet?: boolean } = {}): Promise<ReproduceResult> {
  const onProgress = createProgressRenderer(io, { quiet: flags.quiet });
  const runs: ReproduceResult['runs'] = [];
  await withInterrupt(io, async (signal) => {
    for (const model of options.models) {
      for (const seed of options.seeds) {
        for (const promax of [false, true]) {
          if (signal.aborted) return;
          const config: RunConfig = resolveRunConfig({
            file: options.file,
            flags: { dataset: options.dataset, embeddings: options.embeddings, aug: options.aug, model, seed, 'trainer.maxEpochs': options.maxEpochs, 'promax.enabled': promax },
            sets: options.sets,
          });
          const dir = join(options.outDir, model, `seed-${seed}`, promax ? 'promax' : 'base');
          if (!flags.quiet) io.err(`\n== ${model}${promax ? '+ProMax' : ''} seed ${seed} → ${dir}\n`);
          const run = await runTraining({ config, outDir: dir, overwrite: true, onProgress, signal });
          runs.push({ model, seed, promax, dir, results: run.results });
        }
      }
    }
  });
  const summary: ReproduceResult['summary'] = {};
  const rows: string[][] = [];
  for (const model of options.models) {
    const pick = (p: boolean) => runs.filter((r) => r.model === model && r.promax === p).map((r) => r.results.test);
    const base = aggregateMetrics(pick(false));
    const pm = aggregateMetrics(pick(true));
    const gain: Record<string, number> = {};
    for (const k of KEYS) if (base[k] && pm[k]) gain[k] = (pm[k].mean - base[k].mean) / base[k].mean;
    summary[model] = { base, promax: pm, gain };
    const comps = runs.find((r) => r.model === model && r.promax)?.results.promax.components;
    const label = comps ? `+ProMax (${[comps.sdr && 'SDR', comps.s2dr && 'S2DR'].filter(Boolean).join('+') || 'none'})` : '+ProMax';
    if (base['recall@20']) rows.push([model, ...KEYS.map((k) => (base[k] ? formatMeanStd(base[k]) : '–'))]);
    if (pm['recall@20']) rows.push([`${model} ${label}`, ...KEYS.map((k) => (pm[k] ? formatMeanStd(pm[k]) : '–'))]);
    if (base['recall@20'] && pm['recall@20']) rows.push(['gain', ...KEYS.map((k) => (k in gain ? `${(100 * gain[k]).toFixed(1)}%` : '–'))]);
  }
  const markdown = `# Reproduction on ${options.dataset}\n\nSeeds: ${options.seeds.join(', ')} (mean ± sample std over seeds; test split, best validation epoch).\n\n${markdownTable(['model', ...KEYS], rows)}\n`;
  writeFileSync(join(options.outDir, 'reproduce.md'), markdown);
  let reportPath: string | undefined;
  if (runs.length) {
    const rep = await buildReport({
      runs: runs.map((r) => r.dir),
      outDir: options.outDir,
      title: options.title ?? `ProMax on ${options.dataset}`,
      loadDataset: getDataset,
    });
    reportPath = rep.reportPath;
  }
  const result: ReproduceResult = { dataset: options.dataset, runs, summary, markdown, reportPath };
  writeFileSync(join(options.outDir, 'reproduce.json'), `${JSON.stringify(result, null, 2)}\n`);
  return result;
}

export const reproduceCommand: Command = {
  summary: 'train base vs base+ProMax over models and seeds, with a comparison table and report',
  usage,
  async run(argv, io) {
    const { values } = parseArgs({
      args: argv,
      options: {
        dataset: { type: 'string' },
        models: { type: 'string', default: 'lightgcn' },
        seeds: { type: 'string', default: '2025,2026,2027' },
        'max-epochs': { type: 'string' },
        config: { type: 'string' },
        embeddings: { type: 'string' },
        aug: { type: 'string' },
        set: { type: 'string', multiple: true, default: [] },
        out: { type: 'string' },
        quiet: { type: 'boolean', default: false },
        json: { type: 'boolean', default: false },
      },
      strict: true,
    });
    if (!values.dataset || !values.out) {
      throw new PromaxError({ code: 'INVALID_ARGUMENT', field: values.dataset ? '--out' : '--dataset', message: '--dataset and --out are required', fix: usage.split('\n')[0] });
    }
    const seeds = values.seeds.split(',').map((s) => intFlag(s.trim(), '--seeds') as number);
    const res = await reproduce(
      {
        dataset: values.dataset,
        models: values.models.split(',').map((s) => s.trim()).filter(Boolean),
        seeds,
        outDir: resolve(io.cwd, values.out),
        file: values.config ? resolve(io.cwd, values.config) : undefined,
        sets: values.set,
        maxEpochs: intFlag(values['max-epochs'], '--max-epochs'),
        embeddings: values.embeddings ? resolve(io.cwd, values.embeddings) : undefined,
        aug: values.aug ? resolve(io.cwd, values.aug) : undefined,
      },
      io,
      { quiet: values.quiet || values.json },
    );
    if (values.json) io.out(`${JSON.stringify({ dataset: res.dataset, summary: res.summary, runs: res.runs.map((r) => ({ model: r.model, seed: r.seed, promax: r.promax, dir: r.dir, test: r.results.test, best_epoch: r.results.best_epoch })) })}\n`);
    else io.out(`\n${res.markdown}\nreport: ${res.reportPath ?? '(none)'}\n`);
    return 0;
  },
};
