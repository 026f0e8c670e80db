import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { PromaxError } from '@promax/core';
import { loadEmbeddings, loadSparseMatrix } from '@promax/data';
import { evaluateRanking } from '@promax/eval';
import { createProgressRenderer } from '../io.js';
import { formatMetricsTable } from '../render/table.js';
import type { Command } from './command.js';

const usage = `promax eval --user-emb U.npy --item-emb I.npy --train TRAIN --test TEST [--k 5,10,20] [--json] [--quiet]

Scores your own embeddings with ProMax's full-ranking protocol (method.md §7): all items ranked
by dot product, the user's train items masked, Recall/NDCG/Precision/HitRate/MRR@K averaged over
users with at least one test item.

  --user-emb FILE   user embeddings (.npy, .npz with one array, or RLMRec .pkl), users × d
  --item-emb FILE   item embeddings, items × d
  --train FILE      train interactions (.npz scipy sparse or RLMRec .pkl), users × items
  --test FILE       held-out interactions, same shape
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
        k: { type: 'string', default: '5,10,20' },
        json: { type: 'boolean', default: false },
        quiet: { type: 'boolean', default: false },
      },
      strict: true,
    });
    for (const key of ['user-emb', 'item-emb', 'train', 'test'] as const) {
      if (!values[key]) {
        throw new PromaxError({
          code: 'INVALID_ARGUMENT',
          field: `--${key}`,
          message: `--${key} is required`,
          fix: usage.split('\n')[0],
        });
      }
    }
    const ks = parseKs(values.k);
    const p = (f: string | undefined) => resolve(io.cwd, f as string);
    const [userEmb, itemEmb, train, test] = await Promise.all([
      loadEmbeddings(p(values['user-emb'])),
      loadEmbeddings(p(values['item-emb'])),
      loadSparseMatrix(p(values.train)),
      loadSparseMatrix(p(values.test)),
    ]);
    const onProgress = createProgressRenderer(io, { quiet: values.quiet || values.json });
    const result = await evaluateRanking({ userEmb, itemEmb, train, heldOut: test }, { ks, onProgress });
    const ordered: Record<string, number> = { users: result.users };
    for (const m of ['recall', 'ndcg', 'precision', 'hit', 'mrr'])
      for (const k of [...ks].sort((a, b) => a - b)) ordered[`${m}@${k}`] = result.metrics[`${m}@${k}`];
    if (values.json) {
      io.out(`${JSON.stringify({ ...ordered, eval_s: result.evalMs / 1000 })}\n`);
    } else {
      io.out(
        `${formatMetricsTable(result.metrics, ks)}\n${result.users} users evaluated in ${(result.evalMs / 1000).toFixed(3)} s\n`,
      );
    }
    return 0;
  },
};
