// LightGCN vs LightGCN+ProMax (S2DR over the shipped A′; SDR needs profile embeddings) under the
// full method.md §6 protocol (early stopping on validation Recall@20, patience 20 evaluations).
// Usage: node bench/s2dr-gain.mjs DATASET SEED [promax|base]   → bench/results/s2dr-<dataset>-<seed>-<arm>.json

import { createLightGcn } from '../models/lightgcn/dist/index.js';
import { loadDataset } from '../packages/data/dist/index.js';
import { resolvePromaxSettings } from '../packages/loss/dist/index.js';
import { createModelTrainable, preparePromax, train } from '../packages/pipeline/dist/index.js';
import { report } from './common.mjs';

const [dataset = 'amazon-book', seedText = '2025', arm = 'promax'] = process.argv.slice(2);
const seed = Number(seedText);
const ds = loadDataset(dataset);
const model = createLightGcn({});
const prepared =
  arm === 'promax'
    ? await preparePromax({
        settings: resolvePromaxSettings(dataset, {}),
        model,
        data: { numUsers: ds.numUsers, numItems: ds.numItems, train: ds.train, aug: ds.aug },
        modelDim: 32,
      })
    : undefined;
const trainable = await createModelTrainable({
  model,
  data: { numUsers: ds.numUsers, numItems: ds.numItems, train: ds.train, aug: prepared ? ds.aug : undefined },
  seed,
  extraLoss: prepared?.extraLoss,
  feedsForBatch: prepared?.feedsForBatch,
});
const result = await train({
  trainable,
  data: ds,
  config: { seed },
  model: `lightgcn${prepared ? '+promax' : ''}`,
  dataset,
});
await trainable.release();
report(`s2dr-${dataset}-${seed}-${arm}`, {
  ...result,
  history: undefined,
  promax: prepared?.components ?? null,
});
