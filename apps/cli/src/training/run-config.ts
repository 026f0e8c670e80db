import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { PromaxError } from '@promax/core';
import { preprocessSettingsSchema, s2drSettingsSchema, sdrSettingsSchema } from '@promax/loss';
import { applyOverrides, closestKey, trainerConfigSchema, validateConfig } from '@promax/pipeline';
import { parse as parseYaml } from 'yaml';
import * as z from 'zod';
import { type AnyModelDefinition, BUILT_IN_MODELS } from './model-registry.js';

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

export function modelDefinition(id: string): AnyModelDefinition {
  const def = BUILT_IN_MODELS[id];
  if (!def) {
    const near = closestKey(id, Object.keys(BUILT_IN_MODELS));
    throw new PromaxError({
      code: 'INVALID_CONFIG',
      field: 'model',
      message: `unknown model '${id}'${near ? ` — did you mean '${near}'?` : ''}`,
      fix: `use one of: ${Object.keys(BUILT_IN_MODELS).join(', ')}`,
    });
  }
  return def;
}

/** The schema of a whole run config for one model (so every key path is checked at once). */
export function runConfigSchema(def: AnyModelDefinition) {
  return z.strictObject({
    /** Dataset name (amazon-book, yelp, steam, dbbook, ml100k) or a dataset folder. */
    dataset: z.string().default('amazon-book'),
    /** Base model id. */
    model: z.string().default('lightgcn'),
    /** Profile embeddings folder (usr_emb.npy / itm_emb.npy from `promax embed`); overrides the dataset's own. */
    embeddings: z.string().optional(),
    /** Augmented train matrix A′ (aug_trn_mat.npz from `promax augment`); overrides the dataset's own. */
    aug: z.string().optional(),
    /** Seed of the initialisation, sampling and stochastic inputs. */
    seed: z.number().int().default(2025),
    /**
     * onnxruntime intra-op threads of this run (default: onnxruntime's choice, every core). Speed
     * only; 1 makes same-seed runs bit-identical and lets parallel runs share the cores.
     */
    threads: z.number().int().positive().optional(),
    /** Trainer settings (method.md §6 defaults). */
    trainer: trainerConfigSchema.prefault({}),
    /**
     * The model's settings preset: by default the one named like the dataset when the model has
     * it (e.g. SimGCL and SGL carry RLMRec's per-dataset values); a preset name, or null for none.
     * `modelSettings` override the preset's values.
     */
    modelPreset: z.string().nullable().optional(),
    /** Settings of the chosen base model. */
    modelSettings: (def.settingsSchema as z.ZodType).prefault({}),
    /** ProMax: off by default; `promax.enabled: true` or `--promax` turns it on. */
    promax: z
      .strictObject({
        enabled: z.boolean().default(false),
        sdr: sdrSettingsSchema,
        s2dr: s2drSettingsSchema,
        preprocess: preprocessSettingsSchema,
      })
      .prefault({}),
  });
}

export type RunConfig = {
  dataset: string;
  embeddings?: string;
  aug?: string;
  model: string;
  seed: number;
  threads?: number;
  /** The model settings preset applied beneath `modelSettings` (null: none). */
  modelPreset: string | null;
  trainer: z.output<typeof trainerConfigSchema>;
  modelSettings: Record<string, unknown>;
  /** `enabled` plus the user's own ProMax overrides (dataset presets are applied beneath them later). */
  promax: { enabled: boolean; overrides: Record<string, unknown> };
};

/**
 * Resolves a run config: file (YAML/JSON) < flags < `--set key=value` overrides, validated against
 * the schemas of the trainer, the chosen model and ProMax. Unknown keys and wrong types are errors
 * that name the key, the expected type and the closest valid key.
 */
export function resolveRunConfig(input: {
  file?: string;
  flags?: Record<string, unknown>;
  sets?: readonly string[];
}): RunConfig {
  const raw: Record<string, unknown> = input.file ? readConfigFile(input.file) : {};
  for (const [k, v] of Object.entries(input.flags ?? {})) {
    if (v === undefined) continue;
    if (k.includes('.')) applyOverrides(raw, [`${k}=${JSON.stringify(v)}`]);
    else raw[k] = v;
  }
  applyOverrides(raw, [...(input.sets ?? [])]);
  const modelId = typeof raw.model === 'string' ? raw.model : 'lightgcn';
  const def = modelDefinition(modelId);
  const modelPreset = applyModelPreset(def, raw);
  const source =
    [input.file, input.sets?.length ? '--set' : undefined].filter(Boolean).join(' + ') || 'flags';
  const parsed = validateConfig(runConfigSchema(def), raw, { source });
  const { enabled: _enabled, ...overrides } = (raw.promax ?? {}) as Record<string, unknown>;
  return {
    dataset: parsed.dataset,
    embeddings: parsed.embeddings,
    aug: parsed.aug,
    model: parsed.model,
    seed: parsed.seed,
    threads: parsed.threads,
    modelPreset,
    trainer: parsed.trainer,
    modelSettings: parsed.modelSettings as Record<string, unknown>,
    promax: { enabled: parsed.promax.enabled, overrides },
  };
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
    modelPreset: config.modelPreset,
    modelSettings: config.modelSettings,
    promax: { enabled: config.promax.enabled, ...config.promax.overrides },
  };
  if (config.embeddings !== undefined) raw.embeddings = config.embeddings;
  if (config.aug !== undefined) raw.aug = config.aug;
  if (config.threads !== undefined) raw.threads = config.threads;
  return raw;
}

/**
 * Merges the model's settings preset beneath `raw.modelSettings` (in place) and returns its name:
 * `raw.modelPreset` when given (null or 'none': no preset), else the dataset's name when the model
 * has a preset for it.
 */
function applyModelPreset(def: AnyModelDefinition, raw: Record<string, unknown>): string | null {
  const presets = def.presets ?? {};
  const requested = raw.modelPreset;
  let name: string | null = null;
  if (requested === undefined) {
    const dataset = typeof raw.dataset === 'string' ? raw.dataset : 'amazon-book';
    name = Object.hasOwn(presets, dataset) ? dataset : null;
  } else if (requested === null || requested === 'none') {
    name = null;
  } else if (typeof requested === 'string') {
    if (!Object.hasOwn(presets, requested)) {
      const names = Object.keys(presets);
      throw new PromaxError({
        code: 'INVALID_CONFIG',
        field: 'modelPreset',
        message: `model '${def.id}' has no settings preset '${requested}'`,
        fix: names.length
          ? `use one of: ${names.join(', ')}, or none`
          : `model '${def.id}' has no presets; use none`,
      });
    }
    name = requested;
  } else return null; // wrong type: the schema reports it
  raw.modelPreset = name;
  if (name) {
    const own = raw.modelSettings;
    if (own === undefined || (own !== null && typeof own === 'object' && !Array.isArray(own))) {
      raw.modelSettings = {
        ...(presets[name] as Record<string, unknown>),
        ...((own as Record<string, unknown>) ?? {}),
      };
    }
  }
  return name;
}
