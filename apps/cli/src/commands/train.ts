import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { PromaxError } from '@promax/core';
import { buildReport } from '@promax/report';
import { uniqueList } from '../args/unique-list.js';
import { createProgressRenderer, type Io } from '../io.js';
import { formatMetricsTable } from '../render/table.js';
import { withInterrupt } from '../training/interrupt.js';
import { resolveRunConfig } from '../training/run-config.js';
import { getDataset, runTraining } from '../training/run-training.js';
import type { Command } from './command.js';

const usage = `promax train --dataset NAME|DIR --model NAME --out RUN_DIR
             [--method NAME ...] [--promax] [--embeddings DIR] [--aug FILE]
             [--index exact|lancedb[:DIR]|auto] [--seed N] [--max-epochs N] [--protocol prorec|rlmrec] [--config FILE]
             [--set key=value ...] [--overwrite] [--quiet] [--json]

Trains a base model, optionally with methods (e.g. --method promax: S2DR when the dataset has
aug_trn_mat, SDR when it has profile embeddings), with the method.md §6 protocol and writes
RUN_DIR: config.json, metrics.jsonl, results.json, checkpoint/, user_emb.npy, item_emb.npy.
'promax models' and 'promax methods' list what is installed, with their settings.

  --model NAME       a base model plugin (@promax/model-NAME or promax-model-NAME)
  --method NAME      a method plugin (@promax/method-NAME or promax-method-NAME); repeat or
                     comma-separate for several
  --promax           same as --method promax
  --config FILE      YAML or JSON: dataset, model, methods, seed, trainer.*, modelSettings.*,
                     methodSettings.<method>.*, plugins (extra plugin packages or folders)
  --set key=value    override any config key, e.g. --set trainer.patience=10
                     --set methodSettings.promax.s2dr.lambda2=0.1
  --embeddings DIR   profile embeddings from 'promax embed' (usr_emb.npy, itm_emb.npy)
  --aug FILE         augmented graph A' from 'promax augment' (aug_trn_mat.npz)
  --index I          nearest-neighbour search for the methods that search (the sparse SDR
                     teacher, --set methodSettings.promax.sdr.teacher=sparse): exact (default),
                     lancedb (an ANN index built for the run in a temporary folder), lancedb:DIR
                     (kept and reused), auto (lancedb from 500,000 items); recall against exact
                     search is reported (config key: index)
  --protocol P       prorec (default: method.md §6, seed 2025, patience 20, LightGCN layers 1..L)
                     or rlmrec (seed 2023, patience 5, LightGCN layers 0..L, edge keep rate 0.8
                     for LightGCN and SGL's views); explicit values win
  --json             print results.json on stdout`;

export const trainCommand: Command = {
  summary: 'train a base model (optionally with methods such as ProMax) and write a run directory',
  usage,
  async run(argv, io) {
    const { values } = parseArgs({
      args: argv,
      options: {
        dataset: { type: 'string' },
        model: { type: 'string' },
        seed: { type: 'string' },
        protocol: { type: 'string' },
        'max-epochs': { type: 'string' },
        config: { type: 'string' },
        embeddings: { type: 'string' },
        aug: { type: 'string' },
        index: { type: 'string' },
        set: { type: 'string', multiple: true, default: [] },
        promax: { type: 'boolean', default: false },
        method: { type: 'string', multiple: true, default: [] },
        out: { type: 'string' },
        overwrite: { type: 'boolean', default: false },
        quiet: { type: 'boolean', default: false },
        json: { type: 'boolean', default: false },
      },
      strict: true,
    });
    if (!values.out) {
      throw new PromaxError({
        code: 'INVALID_ARGUMENT',
        field: '--out',
        message: '--out RUN_DIR is required',
        fix: 'pass a folder for the run, e.g. --out runs/lightgcn',
      });
    }
    const config = resolveRunConfig({
      file: values.config ? resolve(io.cwd, values.config) : undefined,
      flags: {
        dataset: values.dataset,
        embeddings: values.embeddings ? resolve(io.cwd, values.embeddings) : undefined,
        aug: values.aug ? resolve(io.cwd, values.aug) : undefined,
        index: values.index,
        model: values.model,
        seed: intFlag(values.seed, '--seed'),
        protocol: values.protocol,
        'trainer.maxEpochs': intFlag(values['max-epochs'], '--max-epochs'),
        methods: methodFlags(values.method, values.promax),
      },
      sets: values.set,
    });
    return trainAndPrint(config, resolve(io.cwd, values.out), io, values);
  },
};

/** `--method a --method b,c` (and `--promax`) as a list of method ids, or undefined when none is given. */
export function methodFlags(flags: readonly string[], promax = false): string[] | undefined {
  const ids = flags
    .flatMap((f) => f.split(','))
    .map((s) => s.trim())
    .filter(Boolean);
  if (promax && !ids.includes('promax')) ids.push('promax');
  return ids.length ? ids : undefined;
}

export function intFlag(v: string | undefined, flag: string): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n)) {
    throw new PromaxError({
      code: 'INVALID_ARGUMENT',
      field: flag,
      message: `${flag} must be an integer, got '${v}'`,
      fix: `pass e.g. ${flag} 2025`,
    });
  }
  return n;
}

/** `--seeds 2025,2026,2027`: integers, each listed once. */
export function seedsFlag(v: string, flag = '--seeds'): number[] {
  return uniqueList(
    v.split(',').map((s) => intFlag(s.trim(), flag) as number),
    flag,
  );
}

async function trainAndPrint(
  config: Parameters<typeof runTraining>[0]['config'],
  outDir: string,
  io: Io,
  flags: { quiet?: boolean; json?: boolean; overwrite?: boolean },
): Promise<number> {
  const onProgress = createProgressRenderer(io, { quiet: flags.quiet || flags.json });
  const { results, embeddings } = await withInterrupt(io, (signal) =>
    runTraining({ config, outDir, cwd: io.cwd, overwrite: flags.overwrite, onProgress, signal }),
  );
  const report = await buildReport({
    runs: [outDir],
    outDir,
    title: `${results.model} on ${results.dataset}`,
    loadDataset: getDataset,
    embeddings: new Map([[outDir, embeddings]]),
  });
  onProgress.flushWarnings();
  if (flags.json) {
    io.out(`${JSON.stringify(results)}\n`);
    return 0;
  }
  io.out(`\n${trainingSummary(results)}\nrun directory: ${outDir} (report: ${report.reportPath})\n`);
  return 0;
}

const seconds = (s: number | null): string => (s === null ? 'n/a' : `${s.toFixed(2)} s`);

/** The closing lines of `promax train`, worded for runs that were interrupted or never validated. */
export function trainingSummary(results: Awaited<ReturnType<typeof runTraining>>['results']): string {
  const best =
    results.best_epoch === null
      ? results.epochs === 0
        ? 'no epoch completed'
        : `${results.epochs} epoch${results.epochs === 1 ? '' : 's'} completed, no validation (final parameters tested)`
      : `best epoch ${results.best_epoch} of ${results.epochs}`;
  const stopped = results.stopped === 'aborted' ? 'interrupted (rerun to train it fully)' : results.stopped;
  return (
    `${results.model} on ${results.dataset} (seed ${results.seed}): ${best}, stopped: ${stopped}\n` +
    `test metrics:\n${formatMetricsTable(results.test, [5, 10, 20])}\n` +
    `train ${results.timing.train_s_per_epoch === null ? 'n/a (no epoch completed)' : `${results.timing.train_s_per_epoch.toFixed(2)} s/epoch`}, eval ${seconds(results.timing.eval_s)}`
  );
}
