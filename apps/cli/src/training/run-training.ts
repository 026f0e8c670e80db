import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ProgressHandler } from '@promax/core';
import { noProgress, PromaxError } from '@promax/core';
import { type Dataset, loadDataset, loadExtraProfiles, loadSparseMatrix } from '@promax/data';
import { loadEmbeddingPair } from '@promax/embed';
import {
  type ExperimentResult,
  type ExperimentResults,
  type FindPluginsOptions,
  loadPlugin,
  type ResolvedExperiment,
  resolveExperiment,
  runExperiment,
} from '@promax/pipeline';
import type { ProbedRetriever } from '@promax/retrieval';
import { openIndexRetriever, parseIndexFlag } from '../profile-pipeline/index-flag.js';
import { emitDatasetWarnings } from '../render/loader-warnings.js';
import type { RunConfig } from './run-config.js';

export interface TrainingRun {
  results: ExperimentResults;
  runDir: string;
  embeddings: ExperimentResult['embeddings'];
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

/** The CLI package folder: its node_modules hold the built-in plugins. */
const CLI_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Where the CLI looks for plugins: from the working directory, the CLI's own packages, and `plugins:`. */
export function pluginSearch(cwd: string, plugins: readonly string[] = []): FindPluginsOptions {
  return { cwd, searchFrom: [CLI_DIR], plugins };
}

/** The experiment a run config describes: dataset (with overrides), model and methods loaded as plugins. */
async function experimentOf(config: RunConfig, cwd: string) {
  const search = pluginSearch(cwd, config.plugins);
  const dataset = withOverrides(getDataset(config.dataset), config);
  const model = await loadPlugin('model', config.model, search);
  const methods = await Promise.all(config.methods.map((id) => loadPlugin('method', id, search)));
  return {
    dataset,
    model: { definition: model, settings: config.modelSettings, preset: config.modelPreset },
    methods: methods.map((definition) => ({
      definition,
      settings: config.methodSettings[definition.id],
      preset: config.methodPresets[definition.id],
    })),
    trainer: config.trainer,
    seed: config.seed,
    threads: config.threads,
  };
}

/** Validates a run config completely (plugins, presets, every setting, required inputs) without training. */
export async function checkRunConfig(config: RunConfig, cwd: string): Promise<ResolvedExperiment> {
  return resolveExperiment(await experimentOf(config, cwd));
}

/** One training run as the CLI does it: the run config turned into one `runExperiment` call. */
export async function runTraining(options: {
  config: RunConfig;
  outDir: string;
  cwd?: string;
  overwrite?: boolean;
  onProgress?: ProgressHandler;
  signal?: AbortSignal;
}): Promise<TrainingRun> {
  const { config } = options;
  const spec = await experimentOf(config, options.cwd ?? process.cwd());
  emitDatasetWarnings(getDataset(config.dataset), options.onProgress);
  const neighbours = await openRunIndex(
    config.index,
    spec.dataset.numItems,
    options.onProgress ?? noProgress,
  );
  try {
    const out = await runExperiment({
      ...spec,
      out: options.outDir,
      overwrite: options.overwrite,
      onProgress: options.onProgress,
      signal: options.signal,
      ...(neighbours ? { neighbours: neighbours.retriever } : {}),
      record: {
        dataset: config.dataset,
        protocol: config.protocol,
        ...(config.embeddings ? { embeddings: config.embeddings } : {}),
        ...(config.aug ? { aug: config.aug } : {}),
        ...(config.index ? { index: config.index } : {}),
      },
    });
    return { results: out.results, runDir: options.outDir, embeddings: out.embeddings };
  } finally {
    await neighbours?.release();
  }
}

/**
 * The run's `index` setting as a retriever for the methods (recall against exact search reported
 * on every search): undefined for exact; a temporary LanceDB folder, removed after the run, unless
 * `lancedb:DIR` names one to keep.
 */
async function openRunIndex(
  value: string | undefined,
  items: number,
  onProgress: ProgressHandler,
): Promise<{ retriever: ProbedRetriever; release(): Promise<void> } | undefined> {
  if (value === undefined) return undefined;
  const temporary =
    value === 'lancedb' || value === 'auto' ? mkdtempSync(join(tmpdir(), 'promax-index-')) : undefined;
  try {
    const choice = parseIndexFlag(value, { dir: temporary ?? '', rows: items });
    const retriever = await openIndexRetriever(choice, onProgress);
    if (!retriever) {
      if (temporary) rmSync(temporary, { recursive: true, force: true });
      return undefined;
    }
    return {
      retriever,
      async release() {
        await retriever.release();
        if (temporary) rmSync(temporary, { recursive: true, force: true });
      },
    };
  } catch (e) {
    if (temporary) rmSync(temporary, { recursive: true, force: true });
    throw e;
  }
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
    // ProEx's extra variants beside them (usr_emb_np_{1,2,3}.npy, as promax embed writes them) replace the dataset's own.
    const extra = loadExtraProfiles(config.embeddings, {
      numUsers: ds.numUsers,
      numItems: ds.numItems,
      width: pair.userEmb.cols,
    });
    if (extra) {
      out.extraProfiles = extra;
      extra.files.forEach((f, k) => {
        out.files[`extra${k % 2 === 0 ? 'User' : 'Item'}Emb${(k >> 1) + 1}`] = f;
      });
    }
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
