import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { ProgressHandler } from '@promax/core';
import { PromaxError } from '@promax/core';
import { type Dataset, loadDataset, loadSparseMatrix, saveEmbeddings, writeFileAtomic } from '@promax/data';
import { resolvePromaxSettings } from '@promax/loss';
import {
  createModelTrainable,
  type PromaxComponents,
  preparePromax,
  RunDirectory,
  type TrainResult,
  train,
} from '@promax/pipeline';
import { loadEmbeddingPair } from '../profile-pipeline/embedding-files.js';
import { emitDatasetWarnings } from '../render/loader-warnings.js';
import { modelDefinition, type RunConfig } from './run-config.js';

export interface TrainingRun {
  results: TrainResult & { promax: PromaxRecord; model_settings: Record<string, unknown> };
  runDir: string;
}

export interface PromaxRecord {
  enabled: boolean;
  components?: PromaxComponents;
  settings?: unknown;
}

/** Loads a dataset by name or folder once per process (reproduce/demo train many runs on it). */
const datasetCache = new Map<string, Dataset>();
export function getDataset(nameOrDir: string): Dataset {
  let ds = datasetCache.get(nameOrDir);
  if (!ds) {
    ds = loadDataset(nameOrDir);
    datasetCache.set(nameOrDir, ds);
  }
  return ds;
}

/**
 * One training run as the CLI does it: dataset, model, optional ProMax, trainer, run directory
 * (config, metrics.jsonl, results.json, checkpoint, final embeddings).
 */
export async function runTraining(options: {
  config: RunConfig;
  outDir: string;
  overwrite?: boolean;
  onProgress?: ProgressHandler;
  signal?: AbortSignal;
}): Promise<TrainingRun> {
  const { config, outDir, onProgress } = options;
  await RunDirectory.validate(outDir, { overwrite: options.overwrite });
  const dataset = withOverrides(getDataset(config.dataset), config);
  emitDatasetWarnings(getDataset(config.dataset), onProgress);
  const def = modelDefinition(config.model);
  const model = def.create(config.modelSettings);
  const modelDim = Number((model.settings as { embeddingSize?: number }).embeddingSize ?? 32);
  const engine = config.threads ? { intraOpNumThreads: config.threads } : undefined;
  if (config.modelPreset) {
    onProgress?.({
      type: 'info',
      message: `${config.model} settings: preset '${config.modelPreset}' → ${JSON.stringify(model.settings)}`,
    });
  }

  let promax: PromaxRecord = { enabled: false };
  let prepared: Awaited<ReturnType<typeof preparePromax>> | undefined;
  if (config.promax.enabled) {
    const settings = resolvePromaxSettings(dataset.name, config.promax.overrides);
    prepared = await preparePromax({
      settings,
      model,
      data: {
        numUsers: dataset.numUsers,
        numItems: dataset.numItems,
        train: dataset.train,
        aug: dataset.aug,
        userProfiles: dataset.userEmb,
        itemProfiles: dataset.itemEmb,
      },
      modelDim,
      engine,
      onProgress,
    });
    promax = { enabled: true, components: prepared.components, settings };
    onProgress?.({
      type: 'info',
      message: `ProMax components: SDR ${prepared.components.sdr ? 'on' : 'off'}, S2DR ${prepared.components.s2dr ? 'on' : 'off'}${prepared.components.notes.length ? ` (${prepared.components.notes.join('; ')})` : ''}`,
    });
  }

  const trainable = await createModelTrainable({
    model,
    data: {
      numUsers: dataset.numUsers,
      numItems: dataset.numItems,
      train: dataset.train,
      aug: prepared?.components.s2dr ? dataset.aug : undefined,
    },
    seed: config.seed,
    optimizer: { lr: config.trainer.lr },
    l2: config.trainer.l2,
    extraLoss: prepared?.extraLoss,
    feedsForBatch: prepared?.feedsForBatch,
    engine,
  });
  // The run is staged beside outDir and swapped in only when finished (an old run stays till then).
  const runDir = await RunDirectory.begin(outDir, { overwrite: options.overwrite }).catch(async (e) => {
    await Promise.all([trainable.release(), prepared?.release()]);
    throw e;
  });
  try {
    const result = await train({
      trainable,
      data: dataset,
      config: { ...config.trainer, seed: config.seed },
      onProgress,
      signal: options.signal,
      model: config.promax.enabled ? `${config.model}+promax` : config.model,
      dataset: dataset.name,
      runDir,
      runConfig: {
        dataset: config.dataset,
        model: config.model,
        seed: config.seed,
        threads: config.threads ?? null,
        modelPreset: config.modelPreset,
        modelSettings: model.settings,
        promax,
      },
    });
    const emb = await trainable.embed();
    saveEmbeddings(runDir.path('user_emb.npy'), emb.users);
    saveEmbeddings(runDir.path('item_emb.npy'), emb.items);
    const results = { ...result, promax, model_settings: model.settings as Record<string, unknown> };
    await runDir.writeResults(results);
    writeFileAtomic(runDir.path('data.json'), `${JSON.stringify(dataChecksums(dataset), null, 2)}\n`);
    await runDir.commit();
    return { results, runDir: outDir };
  } catch (e) {
    await runDir.abort();
    throw e;
  } finally {
    await trainable.release();
    await prepared?.release();
  }
}

/** SHA-256 of every file the dataset was read from, so a run records exactly which data it saw. */
export function dataChecksums(dataset: Dataset): {
  dataset: string;
  sourceDir: string;
  files: Record<string, { path: string; sha256: string }>;
} {
  const files: Record<string, { path: string; sha256: string }> = {};
  for (const [role, path] of Object.entries(dataset.files)) {
    files[role] = { path, sha256: createHash('sha256').update(readFileSync(path)).digest('hex') };
  }
  return { dataset: dataset.name, sourceDir: dataset.sourceDir, files };
}

/** The dataset with profile embeddings and/or A′ taken from `promax embed` / `promax augment` outputs. */
export function withOverrides(ds: Dataset, config: Pick<RunConfig, 'embeddings' | 'aug'>): Dataset {
  if (!config.embeddings && !config.aug) return ds;
  const out: Dataset = { ...ds, files: { ...ds.files } };
  if (config.embeddings) {
    const pair = loadEmbeddingPair(config.embeddings, ds, '--dataset');
    out.userEmb = pair.userEmb;
    out.itemEmb = pair.itemEmb;
    out.files.userEmb = pair.userFile;
    out.files.itemEmb = pair.itemFile;
  }
  if (config.aug) {
    const aug = loadSparseMatrix(config.aug);
    if (aug.rows !== ds.numUsers || aug.cols !== ds.numItems) {
      throw new PromaxError({
        code: 'SHAPE_MISMATCH',
        file: config.aug,
        field: '--aug',
        message: `A′ is ${aug.rows}×${aug.cols} but dataset ${ds.name} has ${ds.numUsers} users × ${ds.numItems} items`,
        fix: `build it for this dataset: promax augment --dataset ${ds.name} --embeddings DIR --out DIR`,
      });
    }
    out.aug = aug;
    out.files.aug = config.aug;
  }
  return out;
}
