import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { PromaxError, parseSettings } from '@promax/core';
import { applyOverrides, deepMerge, protocolDefaults } from '@promax/pipeline';
import { parse as parseYaml } from 'yaml';
import * as z from 'zod';

/** Reads a YAML or JSON config file (by extension; YAML is a superset of JSON). */
export function readConfigFile(path: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (cause) {
    throw new PromaxError({
      code: 'FILE_NOT_FOUND',
      file: path,
      message: 'cannot read the config file',
      fix: 'check the --config path',
      cause,
    });
  }
  let value: unknown;
  try {
    value = extname(path).toLowerCase() === '.json' ? JSON.parse(text) : parseYaml(text);
  } catch (cause) {
    throw new PromaxError({
      code: 'INVALID_CONFIG',
      file: path,
      message: `the config file is not valid ${extname(path).toLowerCase() === '.json' ? 'JSON' : 'YAML'}: ${(cause as Error).message}`,
      fix: 'fix the syntax at the position given',
      cause,
    });
  }
  if (value === null || value === undefined) return {};
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw new PromaxError({
      code: 'INVALID_CONFIG',
      file: path,
      message: 'the config file must hold a mapping of keys',
      fix: 'write key: value pairs at the top level',
    });
  }
  return value as Record<string, unknown>;
}

const settingsRecord = z.record(z.string(), z.unknown());

/**
 * The shape of a run config. The settings of the model, the methods and the trainer are mappings
 * here: the one recipe (`runExperiment`) validates them against their own schemas, once, with the
 * same key paths (`modelSettings.layers`, `methodSettings.promax.sdr.lambda1`, `trainer.lr`).
 */
export const runConfigSchema = z.strictObject({
  /** Dataset name (amazon-book, yelp, steam, dbbook, ml100k) or a dataset folder. */
  dataset: z.string().default('amazon-book'),
  /** Base model id (`promax models` lists the installed ones). */
  model: z.string().default('lightgcn'),
  /** Methods trained with the model, by id (`promax methods` lists them); none: the base model. */
  methods: z.array(z.string()).default([]),
  /** Plugin packages (names or folders) to load besides those found by naming convention. */
  plugins: z.array(z.string()).default([]),
  /** Profile embeddings folder (usr_emb.npy / itm_emb.npy from `promax embed`); overrides the dataset's own. */
  embeddings: z.string().optional(),
  /** Augmented train matrix A′ (aug_trn_mat.npz from `promax augment`); overrides the dataset's own. */
  aug: z.string().optional(),
  /**
   * Nearest-neighbour search for the methods that search (the sparse SDR teacher's top-K items):
   * 'exact', 'lancedb' (an index in a temporary folder, built for the run), 'lancedb:DIR' (kept in
   * DIR and reused while the indexed profiles are unchanged) or 'auto' (lancedb from 500,000 items).
   * Unset: exact.
   */
  index: z.string().optional(),
  /**
   * Evaluation protocol (baselines.md §1): 'prorec' (method.md §6, the ProEx/ProMax logs) or
   * 'rlmrec' (seed 2023, patience 5, LightGCN over layers 0..L). Explicit values win.
   */
  protocol: z.enum(['prorec', 'rlmrec']).default('prorec'),
  /** Seed of the initialisation, sampling and stochastic inputs (the protocol's by default). */
  seed: z.number().int().default(2025),
  /**
   * onnxruntime intra-op threads of this run (default: onnxruntime's choice, every core). Speed
   * only; 1 makes same-seed runs bit-identical and lets parallel runs share the cores.
   */
  threads: z.number().int().positive().optional(),
  /** Trainer settings (method.md §6 defaults). */
  trainer: settingsRecord.default({}),
  /**
   * The model's settings preset: by default the one named like the dataset when the model has it
   * (e.g. SimGCL and SGL carry RLMRec's per-dataset values); a preset name, or null for none.
   */
  modelPreset: z.string().nullable().optional(),
  /** Settings of the chosen base model (over its preset). */
  modelSettings: settingsRecord.default({}),
  /** Settings per method id (over each method's preset). */
  methodSettings: z.record(z.string(), settingsRecord).default({}),
  /** Preset per method id (default: the dataset's own when the method has one; null: none). */
  methodPresets: z.record(z.string(), z.string().nullable()).default({}),
  /** Legacy form of `methods: [promax]` + `methodSettings.promax` (`promax.enabled: true`). */
  promax: settingsRecord.optional(),
});

export type RunConfig = Omit<z.output<typeof runConfigSchema>, 'promax' | 'modelPreset'> & {
  /** The model preset requested (undefined: the dataset's own when the model has one). */
  modelPreset?: string | null;
};

/**
 * Resolves a run config: file (YAML/JSON) < flags < `--set key=value` overrides, checked for its
 * shape (unknown keys and wrong types name the key and the closest valid one). `promax: {enabled,
 * …}` becomes `methods: [promax]` with those settings. Model, method and trainer settings are
 * validated by `runExperiment`.
 */
export function resolveRunConfig(input: {
  file?: string;
  flags?: Record<string, unknown>;
  sets?: readonly string[];
  /**
   * The methods of the sweep this run belongs to (reproduce: every --methods entry): settings for
   * one of them are dropped from the runs that do not use it (the base run) instead of refused.
   */
  sweepMethods?: readonly string[];
}): RunConfig {
  const raw: Record<string, unknown> = input.file ? readConfigFile(input.file) : {};
  for (const [k, v] of Object.entries(input.flags ?? {})) {
    if (v === undefined) continue;
    if (k.includes('.')) applyOverrides(raw, [`${k}=${JSON.stringify(v)}`]);
    else raw[k] = v;
  }
  applyOverrides(raw, [...(input.sets ?? [])]);
  const source =
    [input.file, input.sets?.length ? '--set' : undefined].filter(Boolean).join(' + ') || 'flags';
  const parsed = parseSettings(runConfigSchema, raw, { source });
  applyProtocol(parsed, raw);
  const { promax, ...config } = parsed;
  const methods = [...config.methods];
  const methodSettings = { ...config.methodSettings };
  if (promax) {
    const { enabled, ...settings } = promax;
    if (enabled !== undefined && typeof enabled !== 'boolean') {
      throw new PromaxError({
        code: 'INVALID_CONFIG',
        field: 'promax.enabled',
        file: source,
        message: `promax.enabled must be true or false, got ${JSON.stringify(enabled)}`,
      });
    }
    if (enabled && !methods.includes('promax')) methods.push('promax');
    if (Object.keys(settings).length)
      methodSettings.promax = { ...settings, ...(methodSettings.promax ?? {}) };
  }
  const duplicate = methods.find((m, i) => methods.indexOf(m) !== i);
  if (duplicate) {
    throw new PromaxError({
      code: 'INVALID_CONFIG',
      field: 'methods',
      message: `method '${duplicate}' is listed twice`,
      fix: 'list each method once',
    });
  }
  for (const id of Object.keys(methodSettings)) {
    if (!methods.includes(id) && input.sweepMethods?.includes(id)) {
      // a sweep's settings for a method that other runs of the sweep use
      delete methodSettings[id];
      continue;
    }
    if (!methods.includes(id) && Object.keys(methodSettings[id]).length) {
      // Settings of a method that does not run would silently do nothing.
      throw new PromaxError({
        code: 'INVALID_CONFIG',
        field: `methodSettings.${id}`,
        message: `settings for method '${id}', which this run does not use (methods: ${methods.join(', ') || 'none'})`,
        fix: `add ${id} to methods (--method ${id}) or drop methodSettings.${id}`,
      });
    }
  }
  return { ...config, methods, methodSettings, modelPreset: parsed.modelPreset };
}

/**
 * The raw (file-shaped) form of a resolved run config: `resolveRunConfig({ file })` on it gives the
 * same config back. Used to hand a run to a child process and to recognise finished runs.
 */
export function runConfigToRaw(config: RunConfig): Record<string, unknown> {
  const raw: Record<string, unknown> = {
    dataset: config.dataset,
    model: config.model,
    seed: config.seed,
    trainer: config.trainer,
    modelSettings: config.modelSettings,
  };
  if (config.methods.length) raw.methods = config.methods;
  if (Object.keys(config.methodSettings).length) raw.methodSettings = config.methodSettings;
  if (Object.keys(config.methodPresets).length) raw.methodPresets = config.methodPresets;
  if (config.plugins.length) raw.plugins = config.plugins;
  if (config.modelPreset !== undefined) raw.modelPreset = config.modelPreset;
  if (config.embeddings !== undefined) raw.embeddings = config.embeddings;
  if (config.aug !== undefined) raw.aug = config.aug;
  if (config.index !== undefined) raw.index = config.index;
  if (config.threads !== undefined) raw.threads = config.threads;
  return raw;
}

/** The protocol's defaults beneath what the config sets explicitly (`raw`: before schema defaults). */
function applyProtocol(config: z.output<typeof runConfigSchema>, raw: Record<string, unknown>): void {
  const defaults = protocolDefaults(config.protocol);
  if (raw.seed === undefined) config.seed = defaults.seed;
  config.trainer = deepMerge(defaults.trainer, config.trainer);
  const own = defaults.modelSettings[config.model];
  if (own) config.modelSettings = deepMerge(own, config.modelSettings);
}
