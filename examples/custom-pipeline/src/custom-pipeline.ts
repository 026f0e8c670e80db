/**
 * A custom pipeline without the CLI: load a dataset, pick LightGCN and the ProMax method (S2DR over
 * the dataset's augmented graph A′, SDR when profile embeddings exist), train with the paper's
 * protocol and report test metrics. One library call trains: `runExperiment`, the same recipe the
 * CLI, the benchmarks and the conformance suites use.
 */
import type { ProgressHandler } from '@promax/core';
import { loadDataset } from '@promax/data';
import { promaxMethodDefinition } from '@promax/method-promax';
import { lightGcnDefinition } from '@promax/model-lightgcn';
import { runExperiment } from '@promax/pipeline';

export async function runCustomPipeline(
  options: { dataset?: string; maxEpochs?: number; out?: string; onProgress?: ProgressHandler } = {},
) {
  const { results } = await runExperiment({
    dataset: loadDataset(options.dataset ?? 'amazon-book'),
    model: { definition: lightGcnDefinition, settings: { embeddingSize: 32, layers: 3 } },
    methods: [{ definition: promaxMethodDefinition }], // the dataset's preset (method.md §6) applies
    trainer: { maxEpochs: options.maxEpochs ?? 1000, evalEvery: 3, patience: 20 },
    seed: 2025,
    out: options.out,
    onProgress: options.onProgress,
  });
  const promax = results.methods[0].report;
  return { components: promax.details?.components, test: results.test, bestEpoch: results.best_epoch };
}
