import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import {
  assertRecommenderMethodV1,
  assertRecommenderModelV1,
  type Matrix,
  type MethodInputKind,
  type MethodInputs,
  type MethodModelInfo,
  type MethodRunReport,
  missingInputError,
  type NeighbourSearch,
  type ProgressHandler,
  PromaxError,
  parseSettings,
} from '@promax/core';
import { canonicalDatasetName, type Dataset, saveEmbeddings, writeFileAtomic } from '@promax/data';
import type { RankingEvaluator } from '@promax/eval';
import * as z from 'zod';
import {
  createModelTrainable,
  type RecommenderMethod,
  type RecommenderModel,
  type TrainableMethod,
} from './model-trainable.js';
import { resolvePluginSettings } from './plugin-settings.js';
import type { AnyMethodDefinition, AnyModelDefinition } from './plugins.js';
import { RunDirectory } from './run-directory.js';
import { type TrainResult, train } from './train.js';
import { type TrainerConfig, type TrainerConfigInput, trainerConfigSchema } from './trainer-config.js';

/** The base model of an experiment: its definition, the user's settings and the preset choice. */
export interface ModelChoice {
  readonly definition: AnyModelDefinition;
  /** The user's settings (over the preset, over the schema defaults). */
  readonly settings?: unknown;
  /** A preset name; null or 'none' for none; undefined: the dataset's own when the model has it. */
  readonly preset?: string | null;
}

/** A method of an experiment (same fields as {@link ModelChoice}). */
export interface MethodChoice {
  readonly definition: AnyMethodDefinition;
  readonly settings?: unknown;
  readonly preset?: string | null;
}

export interface ExperimentOptions {
  readonly dataset: Dataset;
  readonly model: ModelChoice;
  /** Methods trained with the model (none: the base model alone). */
  readonly methods?: readonly MethodChoice[];
  /** Trainer settings (method.md §6 defaults). */
  readonly trainer?: TrainerConfigInput;
  /** Seed of initialisation, sampling and stochastic inputs (default 2025). */
  readonly seed?: number;
  /** onnxruntime intra-op threads (default: onnxruntime's choice). 1 makes same-seed runs bit-identical. */
  readonly threads?: number;
  /** Method inputs; by default the dataset's own (profile embeddings, A′). */
  readonly inputs?: MethodInputs;
  /** The run directory to write (config, metrics, checkpoint, results, embeddings, data checksums). */
  readonly out?: string;
  /** Replace a finished run in `out`. */
  readonly overwrite?: boolean;
  /** Extra fields recorded in config.json (e.g. the raw config a CLI resolved). */
  readonly record?: Readonly<Record<string, unknown>>;
  /** Settings sources for error messages ("config.yaml + --set"). */
  readonly source?: string;
  readonly onProgress?: ProgressHandler;
  /** Aborting stops after the current batch; what finished is tested and written. */
  readonly signal?: AbortSignal;
  /** An evaluator to reuse across experiments (not released here). */
  readonly evaluator?: RankingEvaluator;
  /**
   * A nearest-neighbour index handed to every method (the sparse SDR teacher's top-K search);
   * owned by the caller, not released here. Absent: methods search exactly.
   */
  readonly neighbours?: NeighbourSearch;
}

/** Everything an experiment resolved before training: what a run directory records. */
export interface ResolvedExperiment {
  readonly dataset: string;
  /** The dataset's canonical name (presets are matched by it), null for an unregistered folder. */
  readonly canonicalDataset: string | null;
  readonly seed: number;
  readonly threads: number | null;
  readonly trainer: TrainerConfig;
  readonly model: ResolvedPlugin;
  readonly methods: readonly ResolvedPlugin[];
  /** `model+method+…`, e.g. `lightgcn+promax`. */
  readonly label: string;
}

export interface ResolvedPlugin {
  readonly id: string;
  readonly packageName: string;
  readonly preset: string | null;
  readonly settings: Record<string, unknown>;
  /** Set for methods that are the project's adaptation of a published method. */
  readonly adaptation?: string;
}

/** One method's record in results.json. */
export interface MethodRecord extends ResolvedPlugin {
  readonly report: MethodRunReport;
}

/** results.json of an experiment: the trainer's result plus what ran. */
export type ExperimentResults = TrainResult & {
  model_id: string;
  model_settings: Record<string, unknown>;
  model_preset: string | null;
  /** The inputs the model read, by kind, with their source (only models that declare inputs). */
  model_inputs?: Partial<Record<MethodInputKind, string>>;
  methods: MethodRecord[];
  /** ProMax's terms when the promax method ran (kept for readers of earlier run directories). */
  promax: { enabled: boolean; components?: unknown; settings?: unknown };
};

export interface ExperimentResult {
  readonly results: ExperimentResults;
  readonly resolved: ResolvedExperiment;
  /** Final user and item vectors of the tested parameters (with the methods' scoring changes). */
  readonly embeddings: { users: Matrix; items: Matrix };
  readonly runDir?: string;
}

interface Instances {
  resolved: ResolvedExperiment;
  model: RecommenderModel;
  methods: RecommenderMethod[];
  inputs: MethodInputs;
}

/**
 * Resolves and validates every setting of an experiment once, without training: presets by
 * canonical dataset name, the model's and each method's strict schema (errors name the key path),
 * the trainer config, which methods the model supports, and each method's required inputs.
 * `runExperiment` calls it first; sweeps call it to check every run before starting any.
 */
export function resolveExperiment(options: ExperimentOptions): ResolvedExperiment {
  return instantiate(options).resolved;
}

function instantiate(options: ExperimentOptions): Instances {
  const { dataset } = options;
  const canonical = canonicalDatasetName(dataset.name) ?? null;
  const datasetKey = canonical ?? dataset.name;
  const seed = options.seed ?? 2025;
  if (!Number.isInteger(seed)) {
    throw new PromaxError({
      code: 'INVALID_CONFIG',
      field: 'seed',
      message: `seed must be an integer, got ${seed}`,
    });
  }
  // Validated under `trainer` so messages name `trainer.lr`, as a config file spells it.
  const trainer = parseSettings(
    z.strictObject({ trainer: trainerConfigSchema }),
    { trainer: { ...(options.trainer ?? {}), seed } },
    { source: options.source, what: 'trainer config' },
  ).trainer as TrainerConfig;
  const mdef = options.model.definition;
  const m = resolvePluginSettings(mdef, {
    dataset: datasetKey,
    preset: options.model.preset,
    overrides: options.model.settings,
    path: 'modelSettings',
    source: options.source,
  });
  const model = mdef.create(m.settings) as RecommenderModel;
  assertRecommenderModelV1(model);
  const info: MethodModelInfo = {
    modelId: model.modelId,
    capabilities: model.capabilities,
    embeddingSize: model.embeddingSize,
    ...(model.outputSize !== undefined ? { outputSize: model.outputSize } : {}),
    encodesViews: model.capabilities.usesGraph || typeof model.doEncodeView === 'function',
  };
  const inputs = options.inputs ?? datasetInputs(dataset);
  for (const spec of mdef.inputs ?? [])
    if (spec.need === 'required' && !hasInput(inputs, spec.kind))
      throw missingInputError(mdef.id, spec.kind, inputs, 'model');
  const seen = new Set<string>();
  const methods: RecommenderMethod[] = [];
  const resolvedMethods: ResolvedPlugin[] = [];
  for (const choice of options.methods ?? []) {
    const def = choice.definition;
    if (seen.has(def.id)) {
      throw new PromaxError({
        code: 'INVALID_CONFIG',
        field: 'methods',
        message: `method '${def.id}' is listed twice`,
        fix: 'list each method once',
      });
    }
    seen.add(def.id);
    const why = def.unsupportedReason?.(info);
    if (why) {
      throw new PromaxError({
        code: 'UNSUPPORTED_COMBINATION',
        field: 'methods',
        message: `method ${def.id} does not support model ${model.modelId}: ${why}`,
        fix: `choose another model for ${def.id} (see promax methods)`,
      });
    }
    for (const spec of def.inputs)
      if (spec.need === 'required' && !hasInput(inputs, spec.kind))
        throw missingInputError(def.id, spec.kind, inputs);
    const r = resolvePluginSettings(def, {
      dataset: datasetKey,
      preset: choice.preset,
      overrides: choice.settings,
      path: `methodSettings.${def.id}`,
      source: options.source,
    });
    const method = def.create(r.settings) as RecommenderMethod;
    assertRecommenderMethodV1(method);
    methods.push(method);
    resolvedMethods.push({
      id: def.id,
      packageName: def.packageName,
      preset: r.preset,
      settings: method.settings as Record<string, unknown>,
      ...(def.adaptation ? { adaptation: def.adaptation } : {}),
    });
  }
  const resolved: ResolvedExperiment = {
    dataset: dataset.name,
    canonicalDataset: canonical,
    seed,
    threads: options.threads ?? null,
    trainer,
    model: {
      id: mdef.id,
      packageName: mdef.packageName,
      preset: m.preset,
      settings: model.settings as Record<string, unknown>,
    },
    methods: resolvedMethods,
    label: [mdef.id, ...resolvedMethods.map((r) => r.id)].join('+'),
  };
  return { resolved, model, methods, inputs };
}

/**
 * The one training recipe: resolves and validates everything ({@link resolveExperiment}),
 * prepares each method, builds ONE trainable (model + methods), trains with early stopping on
 * validation, tests once, and writes the run directory once (config.json, metrics.jsonl,
 * checkpoint, results.json, user_emb.npy / item_emb.npy, data.json). The CLI, the examples, the
 * benchmarks and the model/method conformance suites all train through it.
 */
export async function runExperiment(options: ExperimentOptions): Promise<ExperimentResult> {
  const { dataset, onProgress } = options;
  const { resolved, model, methods, inputs } = instantiate(options);
  // Everything is validated before anything is computed or written; an existing run stays until
  // the new one has finished (it is staged beside `out` and swapped in on commit).
  if (options.out) await RunDirectory.validate(options.out, { overwrite: options.overwrite });
  const engine = options.threads ? { intraOpNumThreads: options.threads } : undefined;
  for (const p of [resolved.model, ...resolved.methods]) {
    if (p.preset)
      onProgress?.({
        type: 'info',
        message: `${p.id} settings: preset '${p.preset}' → ${JSON.stringify(p.settings)}`,
      });
  }
  const info: MethodModelInfo = {
    modelId: model.modelId,
    capabilities: model.capabilities,
    embeddingSize: model.embeddingSize,
    ...(model.outputSize !== undefined ? { outputSize: model.outputSize } : {}),
    encodesViews: model.capabilities.usesGraph || typeof model.doEncodeView === 'function',
  };
  const prepared: TrainableMethod[] = [];
  let trainable: Awaited<ReturnType<typeof createModelTrainable>> | undefined;
  try {
    for (const method of methods) {
      const p = await method.doPrepare({
        dataset: {
          name: resolved.canonicalDataset ?? dataset.name,
          numUsers: dataset.numUsers,
          numItems: dataset.numItems,
          train: dataset.train,
        },
        model: info,
        inputs,
        seed: resolved.seed,
        engine,
        ...(options.neighbours ? { neighbours: options.neighbours } : {}),
        onProgress,
      });
      prepared.push({ id: method.methodId, prepared: p });
      const r = p.report;
      onProgress?.({
        type: 'info',
        message: `${method.methodId}: ${r.active.length ? `runs ${r.active.join(' + ')}` : 'no term runs'}${
          Object.keys(r.used).length
            ? `; uses ${Object.entries(r.used)
                .map(([k, v]) => `${k} (${v})`)
                .join(', ')}`
            : ''
        }${r.notes.length ? ` (${r.notes.join('; ')})` : ''}`,
        data: { method: method.methodId, active: r.active, used: r.used, notes: r.notes },
      });
    }
    const usesAug = prepared.some((p) => p.prepared.usesAugmentedView);
    trainable = await createModelTrainable({
      model,
      data: {
        numUsers: dataset.numUsers,
        numItems: dataset.numItems,
        train: dataset.train,
        aug: usesAug ? inputs.aug : undefined,
        inputs,
      },
      seed: resolved.seed,
      optimizer: { lr: resolved.trainer.lr },
      l2: resolved.trainer.l2,
      methods: prepared,
      engine,
    });
    const runDir = options.out
      ? await RunDirectory.create(options.out, { overwrite: options.overwrite })
      : undefined;
    const methodRecords: MethodRecord[] = resolved.methods.map((r, k) => ({
      ...r,
      report: prepared[k].prepared.report,
    }));
    const promaxIndex = resolved.methods.findIndex((r) => r.id === 'promax');
    const modelInputs = modelInputSources(options.model.definition, inputs);
    const extras = {
      model_id: resolved.model.id,
      model_settings: (model.resolvedSettings?.() ?? resolved.model.settings) as Record<string, unknown>,
      model_preset: resolved.model.preset,
      ...(modelInputs ? { model_inputs: modelInputs } : {}),
      methods: methodRecords,
      promax:
        promaxIndex < 0
          ? { enabled: false }
          : {
              enabled: true,
              components: prepared[promaxIndex].prepared.report.details?.components,
              settings: resolved.methods[promaxIndex].settings,
            },
    };
    let result: ExperimentResults;
    let embeddings: { users: Matrix; items: Matrix };
    try {
      result = (await train({
        trainable,
        data: dataset,
        config: resolved.trainer,
        onProgress,
        signal: options.signal,
        model: resolved.label,
        dataset: dataset.name,
        runDir,
        runConfig: {
          dataset: resolved.dataset,
          model: resolved.model.id,
          seed: resolved.seed,
          threads: resolved.threads,
          modelPreset: resolved.model.preset,
          modelSettings: resolved.model.settings,
          methods: resolved.methods,
          label: resolved.label,
          ...options.record,
        },
        evaluator: options.evaluator,
        resultExtras: () => extras,
      })) as ExperimentResults;
      embeddings = await trainable.embed();
      if (runDir) {
        saveEmbeddings(runDir.path('user_emb.npy'), embeddings.users);
        saveEmbeddings(runDir.path('item_emb.npy'), embeddings.items);
        writeFileAtomic(runDir.path('data.json'), `${JSON.stringify(dataChecksums(dataset), null, 2)}\n`);
        await runDir.commit();
      }
    } catch (e) {
      await runDir?.abort();
      throw e;
    }
    return { results: result, resolved, embeddings, runDir: options.out };
  } finally {
    if (trainable) await trainable.release();
    else for (const p of prepared) await p.prepared.release();
  }
}

/** The method inputs a dataset carries: its profile embeddings and A′, with where they came from. */
export function datasetInputs(dataset: Dataset): MethodInputs {
  const sources: Partial<Record<MethodInputKind, string>> = {};
  if (dataset.userEmb && dataset.itemEmb)
    sources.profileEmbeddings = [dataset.files.userEmb, dataset.files.itemEmb].filter(Boolean).join(' + ');
  if (dataset.itemEmb) sources.itemProfileEmbeddings = dataset.files.itemEmb;
  if (dataset.aug) sources.augmentedGraph = dataset.files.aug;
  const extra = dataset.extraProfiles;
  const complete = extra && extra.missing.length === 0 && extra.users.length > 0;
  // Profile embeddings from another folder (`--embeddings DIR`): its extra variants are read there too.
  const embDir = dataset.files.userEmb ? dirname(dataset.files.userEmb) : undefined;
  const elsewhere =
    embDir && resolve(embDir) !== resolve(dataset.sourceDir)
      ? `${join(embDir, 'usr_emb_np_{1,2,3}.npy')} + itm_emb_np_{1,2,3}.npy, or `
      : '';
  if (complete) sources.extraProfileEmbeddings = extra.files.join(' + ');
  return {
    userProfiles: dataset.userEmb,
    itemProfiles: dataset.itemEmb,
    ...(complete ? { extraProfiles: { users: extra.users, items: extra.items } } : {}),
    aug: dataset.aug,
    sources,
    lookedFor: {
      profileEmbeddings: `${join(dataset.sourceDir, 'usr_emb_np.pkl')} + itm_emb_np.pkl (or usr_emb.npy + itm_emb.npy)`,
      itemProfileEmbeddings: `${join(dataset.sourceDir, 'itm_emb_np.pkl')} (or itm_emb_np.npy, or itm_emb.npy in --embeddings DIR)`,
      extraProfileEmbeddings:
        extra && extra.missing.length > 0
          ? `${extra.missing.join(', ')} (the other extra profile files exist: the set is incomplete)`
          : `${elsewhere}${join(dataset.sourceDir, 'usr_emb_np_{1,2,3}.pkl')} + itm_emb_np_{1,2,3}.pkl`,
      augmentedGraph: join(dataset.sourceDir, 'aug_trn_mat.npz'),
    },
  };
}

/** The inputs a model that declares some read, by kind, with their source (undefined: it reads none). */
function modelInputSources(
  definition: AnyModelDefinition,
  inputs: MethodInputs,
): Partial<Record<MethodInputKind, string>> | undefined {
  const specs = (definition.inputs ?? []).filter((spec) => hasInput(inputs, spec.kind));
  if (specs.length === 0) return undefined;
  return Object.fromEntries(specs.map((spec) => [spec.kind, inputs.sources?.[spec.kind] ?? 'given']));
}

function hasInput(inputs: MethodInputs, kind: MethodInputKind): boolean {
  if (kind === 'profileEmbeddings')
    return inputs.userProfiles !== undefined && inputs.itemProfiles !== undefined;
  if (kind === 'itemProfileEmbeddings') return inputs.itemProfiles !== undefined;
  if (kind === 'extraProfileEmbeddings') return (inputs.extraProfiles?.users.length ?? 0) > 0;
  return inputs.aug !== undefined;
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
