import { parseArgs } from 'node:util';
import { PromaxError } from '@promax/core';
import { loadEmbeddingPair } from '@promax/embed';
import { evaluateProfileRetrieval } from '@promax/retrieval';
import { createProgressRenderer } from '../io.js';
import { choiceFlag, pathIn, requireFlag } from '../profile-pipeline/cli-args.js';
import { loadDatasetArg } from '../profile-pipeline/dataset-arg.js';
import {
  defaultIndexDir,
  describeRecall,
  INDEX_FLAG_HELP,
  openIndexRetriever,
  parseIndexFlag,
} from '../profile-pipeline/index-flag.js';
import { markdownTable } from '../render/table.js';
import type { Command } from './command.js';
import { parseKs } from './eval.js';

const usage = `promax retrieve --dataset NAME|DIR --embeddings DIR [--k 20] [--split val|test] [--index exact|lancedb[:DIR]] [--json] [--quiet]

Profile-only retrieval (method.md §3): ranks all items for each user by the cosine of their
profile embeddings (in the full embedding space — no PCA whitening), masks the user's train
items and scores the held-out items with the §7 protocol. The same users are scored with a
popularity ranking (train degree) and the exact expectation of a random ranking, so the lift
says whether the profiles carry collaborative signal (lift over random ≫ 1) and whether they
beat the cheapest CF baseline (lift over popularity > 1).

  --dataset NAME|DIR  the dataset the embeddings were made for
  --embeddings DIR    the --out folder of \`promax embed\` (usr_emb.npy, itm_emb.npy)
  --k LIST            cutoffs, comma-separated (default 20)
  --split val|test    held-out split to score against (default val)
  ${INDEX_FLAG_HELP}
  --json              print one JSON object on stdout
  --quiet             no progress output`;

const SIMILARITY = 'cosine in the full embedding space (no PCA whitening)';

const fmt = (x: number): string => (Number.isFinite(x) ? x.toFixed(4) : String(x));
const fmtLift = (x: number): string => (Number.isFinite(x) ? `${x.toFixed(2)}×` : String(x));

export const retrieveCommand: Command = {
  summary: 'profile-only retrieval: profile vs popularity vs random on a held-out split',
  usage,
  async run(argv, io) {
    const { values } = parseArgs({
      args: argv,
      options: {
        dataset: { type: 'string' },
        embeddings: { type: 'string' },
        k: { type: 'string', default: '20' },
        split: { type: 'string', default: 'val' },
        index: { type: 'string' },
        json: { type: 'boolean', default: false },
        quiet: { type: 'boolean', default: false },
      },
      strict: true,
    });
    const datasetArg = requireFlag(values.dataset, '--dataset', usage);
    const embDir = pathIn(io, requireFlag(values.embeddings, '--embeddings', usage));
    const ks = parseKs(values.k);
    const split = choiceFlag(values.split, '--split', ['val', 'test'] as const);
    const ds = loadDatasetArg(io, datasetArg);
    const heldOut = split === 'val' ? ds.val : ds.test;
    if (!heldOut) {
      throw new PromaxError({
        code: 'INVALID_ARGUMENT',
        field: '--split',
        message: `dataset '${ds.name}' has no validation split`,
        fix: 'pass --split test',
      });
    }
    const pair = loadEmbeddingPair(embDir, ds);
    const onProgress = createProgressRenderer(io, { quiet: values.quiet || values.json });
    const choice = parseIndexFlag(values.index, { dir: defaultIndexDir(embDir), rows: pair.itemEmb.rows });
    const retriever = await openIndexRetriever(choice, onProgress);
    let r: Awaited<ReturnType<typeof evaluateProfileRetrieval>>;
    try {
      r = await evaluateProfileRetrieval({
        userProfileEmb: pair.userEmb,
        itemProfileEmb: pair.itemEmb,
        train: ds.train,
        heldOut,
        ks,
        retriever,
        onProgress,
      });
    } finally {
      await retriever?.release();
    }
    const ann = retriever?.reports[0];
    const index = ann
      ? {
          provider: ann.provider,
          dir: choice.kind === 'lancedb' ? choice.dir : null,
          recallAtK: ann.recall,
          k: ann.k,
          sampledQueries: ann.queries,
        }
      : { provider: 'exact' };
    const sorted = [...r.ks].sort((a, b) => a - b);
    if (values.json) {
      io.out(
        `${JSON.stringify({
          dataset: ds.name,
          split,
          users: r.users,
          ks: sorted,
          similarity: 'cosine',
          space: 'full',
          whitening: false,
          dimensions: pair.userEmb.cols,
          encoder: pair.manifest?.encoder?.modelId ?? null,
          zeroRows: pair.zeroRows,
          profile: r.profile,
          popularity: r.popularity,
          random: r.random,
          liftOverRandom: r.liftOverRandom,
          liftOverPopularity: r.liftOverPopularity,
          index,
          eval_s: r.evalMs / 1000,
        })}\n`,
      );
      return 0;
    }
    const rows: string[][] = [];
    for (const m of ['recall', 'ndcg', 'hit']) {
      for (const k of sorted) {
        const key = `${m}@${k}`;
        if (!(key in r.profile)) continue;
        rows.push([
          key,
          fmt(r.profile[key] as number),
          fmt(r.popularity[key] as number),
          fmt(r.random[key] as number),
          fmtLift(r.liftOverRandom[key] as number),
          fmtLift(r.liftOverPopularity[key] as number),
        ]);
      }
    }
    const zero =
      pair.zeroRows.users || pair.zeroRows.items
        ? `\nzero rows (no text): ${pair.zeroRows.users} users, ${pair.zeroRows.items} items — they score 0 against everything`
        : '';
    io.out(
      `profile-only retrieval on ${ds.name}, ${split} split: ${r.users} users with ≥1 held-out item; train items masked\n` +
        `similarity: ${SIMILARITY}, ${pair.userEmb.cols}-d${pair.manifest?.encoder?.modelId ? ` (${pair.manifest.encoder.modelId})` : ''}${zero}\n\n` +
        `${markdownTable(['metric', 'profile', 'popularity', 'random', 'lift vs random', 'lift vs popularity'], rows)}\n` +
        `${ann ? `${describeRecall(ann)}\n` : ''}evaluated in ${(r.evalMs / 1000).toFixed(2)} s\n`,
    );
    return 0;
  },
};
