import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { type ProgressHandler, PromaxError } from '@promax/core';
import { loadDataset, loadEmbeddings, readSparseMatrix } from '@promax/data';
import { evaluateRanking } from '@promax/eval';
import { checkRunDirectory } from '@promax/pipeline';
import { readRunConfig, resolveDatasetSource } from '@promax/report';
import { createProgressRenderer } from '../io.js';
import { emitDatasetWarnings, emitMatrixWarnings } from '../render/loader-warnings.js';
import { formatMetricsTable } from '../render/table.js';
import type { Command } from './command.js';

const usage = `promax eval --user-emb U.npy --item-emb I.npy --train TRAIN --test TEST [--k 5,10,20] [--json] [--quiet]
promax eval --run RUN_DIR [--k 5,10,20] [--json] [--quiet]

Scores your own embeddings with ProMax's full-ranking protocol (method.md §7): all items ranked
by dot product, the user's train items masked, Recall/NDCG/Precision/HitRate/MRR@K averaged over
users with at least one test item.

  --user-emb FILE   user embeddings (.npy, .npz with one array, or RLMRec .pkl), users × d
  --item-emb FILE   item embeddings, items × d
  --train FILE      train interactions (.npz scipy sparse or RLMRec .pkl), users × items
  --test FILE       held-out interactions, same shape
  --run DIR         a finished run of 'promax train': its user_emb.npy / item_emb.npy against its
                    dataset's train and test splits (the folder must hold one run: see its manifest)
  --k LIST          cutoffs, comma-separated (default 5,10,20)
  --json            print one JSON object on stdout
  --quiet           no progress output`;

export function parseKs(text: string): number[] {
  const ks = text.split(',').map((s) => Number(s.trim()));
  if (ks.some((k) => !Number.isInteger(k) || k < 1)) {
    throw new PromaxError({
      code: 'INVALID_ARGUMENT',
      field: '--k',
      message: `--k must list positive integers, got '${text}'`,
      fix: 'pass e.g. --k 5,10,20',
    });
  }
  return ks;
}

export const evalCommand: Command = {
  summary: 'score user/item embeddings with the full-ranking protocol',
  usage,
  async run(argv, io) {
    const { values } = parseArgs({
      args: argv,
      options: {
        'user-emb': { type: 'string' },
        'item-emb': { type: 'string' },
        train: { type: 'string' },
        test: { type: 'string' },
        run: { type: 'string' },
        k: { type: 'string', default: '5,10,20' },
        json: { type: 'boolean', default: false },
        quiet: { type: 'boolean', default: false },
      },
      strict: true,
    });
    const ks = parseKs(values.k);
    const onProgress = createProgressRenderer(io, { quiet: values.quiet || values.json });
    const input = values.run ? runInput(resolve(io.cwd, values.run), io.cwd, onProgress) : undefined;
    for (const key of ['user-emb', 'item-emb', 'train', 'test'] as const) {
      if (!input && !values[key]) {
        throw new PromaxError({
          code: 'INVALID_ARGUMENT',
          field: `--${key}`,
          message: `--${key} is required`,
          fix: usage.split('\n')[0],
        });
      }
    }
    const p = (f: string | undefined) => resolve(io.cwd, f as string);
    const matrix = (flag: string, file: string) => {
      const loaded = readSparseMatrix(file);
      emitMatrixWarnings(`${flag} ${file}`, loaded, onProgress);
      return loaded.matrix;
    };
    const { userEmb, itemEmb, train, test } = input ?? {
      userEmb: loadEmbeddings(p(values['user-emb'])),
      itemEmb: loadEmbeddings(p(values['item-emb'])),
      train: matrix('--train', p(values.train)),
      test: matrix('--test', p(values.test)),
    };
    const result = await evaluateRanking({ userEmb, itemEmb, train, heldOut: test }, { ks, onProgress });
    onProgress.flushWarnings();
    const ordered: Record<string, number> = { users: result.users };
    for (const m of ['recall', 'ndcg', 'precision', 'hit', 'mrr'])
      for (const k of [...ks].sort((a, b) => a - b)) ordered[`${m}@${k}`] = result.metrics[`${m}@${k}`];
    if (values.json) {
      io.out(`${JSON.stringify({ ...ordered, eval_s: result.evalMs / 1000, warnings: result.warnings })}\n`);
    } else {
      io.out(
        `${formatMetricsTable(result.metrics, ks)}\n${result.users} users evaluated in ${(result.evalMs / 1000).toFixed(3)} s\n`,
      );
    }
    return 0;
  },
};

/** Embeddings and splits of a finished run, refusing a folder whose files are not from one run. */
function runInput(runDir: string, cwd: string, onProgress: ProgressHandler) {
  checkRunDirectory(runDir);
  const config = readRunConfig(runDir);
  if (typeof config.dataset !== 'string' || !config.dataset) {
    throw new PromaxError({
      code: 'INVALID_FILE',
      file: join(runDir, 'config.json'),
      message: 'the run has no config.json naming its dataset',
      fix: 'pass a run directory written by promax train',
    });
  }
  const ds = loadDataset(resolveDatasetSource(config.dataset, { cwd, runDir }), {
    embeddings: false,
    aug: false,
  });
  emitDatasetWarnings(ds, onProgress);
  return {
    userEmb: loadEmbeddings(join(runDir, 'user_emb.npy')),
    itemEmb: loadEmbeddings(join(runDir, 'item_emb.npy')),
    train: ds.train,
    test: ds.test,
  };
}
