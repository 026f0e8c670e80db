/**
 * A custom pipeline without the CLI: load a dataset, build LightGCN, wrap it with ProMax (S2DR over
 * the dataset's augmented graph A′, SDR when profile embeddings exist), train with the paper's
 * protocol and report test metrics. Every piece is a plain library call.
 */
import type { ProgressHandler } from '@promax/core';
import { loadDataset } from '@promax/data';
import { resolvePromaxSettings } from '@promax/loss';
import { createLightGcn } from '@promax/model-lightgcn';
import { createModelTrainable, preparePromax, train } from '@promax/pipeline';

export async function runCustomPipeline(
  options: { dataset?: string; maxEpochs?: number; onProgress?: ProgressHandler } = {},
) {
  const dataset = loadDataset(options.dataset ?? 'amazon-book');
  const model = createLightGcn({ embeddingSize: 32, layers: 3 });
  const promax = await preparePromax({
    settings: resolvePromaxSettings(dataset.name, {}), // method.md §6 presets for the dataset
    model,
    data: {
      numUsers: dataset.numUsers,
      numItems: dataset.numItems,
      train: dataset.train,
      aug: dataset.aug,
      userProfiles: dataset.userEmb,
      itemProfiles: dataset.itemEmb,
    },
    modelDim: 32,
  });
  const trainable = await createModelTrainable({
    model,
    data: { numUsers: dataset.numUsers, numItems: dataset.numItems, train: dataset.train, aug: dataset.aug },
    seed: 2025,
    extraLoss: promax.extraLoss,
    feedsForBatch: promax.feedsForBatch,
  });
  try {
    const result = await train({
      trainable,
      data: dataset,
      config: { maxEpochs: options.maxEpochs ?? 1000, evalEvery: 3, patience: 20 },
      onProgress: options.onProgress,
    });
    return { components: promax.components, test: result.test, bestEpoch: result.best_epoch };
  } finally {
    await trainable.release();
    await promax.release();
  }
}
