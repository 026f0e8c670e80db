import { PromaxError, parseSettings } from '@promax/core';
import { canonicalDatasetName } from '@promax/data';
import * as z from 'zod';
import { getByPath } from './config-validation.js';

/** What settings resolution needs of a model or method definition. */
export interface SettingsOwner {
  readonly kind: 'model' | 'method';
  readonly id: string;
  readonly settingsSchema: z.ZodType;
  readonly presets?: Readonly<Record<string, unknown>>;
}

/** Settings of one plugin for one run: the preset used (null: none) and the validated values. */
export interface ResolvedPluginSettings<S = Record<string, unknown>> {
  readonly preset: string | null;
  readonly settings: S;
}

/**
 * The preset a run uses: `requested` when given (null or 'none': no preset; another name must
 * exist), else the one named like the dataset's canonical name (`amazon_book` → `amazon-book`)
 * when the plugin has it. The one place presets are matched to datasets.
 */
export function presetFor(
  owner: SettingsOwner,
  dataset: string | null,
  requested?: string | null,
): string | null {
  const presets = owner.presets ?? {};
  if (requested === undefined) {
    if (dataset === null) return null;
    const canonical = canonicalDatasetName(dataset) ?? dataset;
    return Object.hasOwn(presets, canonical) ? canonical : null;
  }
  if (requested === null || requested === 'none') return null;
  if (!Object.hasOwn(presets, requested)) {
    const names = Object.keys(presets);
    throw new PromaxError({
      code: 'INVALID_CONFIG',
      field: owner.kind === 'model' ? 'modelPreset' : `methodPresets.${owner.id}`,
      message: `${owner.kind} '${owner.id}' has no settings preset '${requested}'`,
      fix: names.length
        ? `use one of: ${names.join(', ')}, or none`
        : `${owner.kind} '${owner.id}' has no presets; use none`,
    });
  }
  return requested;
}

/**
 * Resolves a plugin's settings once: schema defaults < the dataset's preset < the user's values
 * (deeply merged), validated by the plugin's strict schema. Errors name the key path under
 * `path` (e.g. `modelSettings.layers`) with the closest valid key.
 */
export function resolvePluginSettings(
  owner: SettingsOwner,
  options: {
    dataset: string | null;
    preset?: string | null;
    overrides?: unknown;
    path?: string;
    source?: string;
  },
): ResolvedPluginSettings {
  const overrides = options.overrides ?? {};
  if (overrides === null || typeof overrides !== 'object' || Array.isArray(overrides)) {
    throw new PromaxError({
      code: 'INVALID_CONFIG',
      field: options.path,
      message: `${owner.id} settings must be a mapping of keys, got ${Array.isArray(overrides) ? 'an array' : typeof overrides}`,
      fix: `write ${options.path ?? 'the settings'} as key: value pairs`,
    });
  }
  const preset = presetFor(owner, options.dataset, options.preset);
  const base = preset ? (owner.presets?.[preset] as Record<string, unknown>) : {};
  const merged = deepMerge(base, overrides as Record<string, unknown>);
  const value = options.path ? nest(options.path, merged) : merged;
  const schema = options.path ? nestSchema(options.path, owner.settingsSchema) : owner.settingsSchema;
  const parsed = parseSettings(schema, value, {
    what: `${owner.id} settings`,
    source: options.source,
    details: { [owner.kind]: owner.id, preset },
  }) as Record<string, unknown>;
  return {
    preset,
    settings: (options.path ? unnest(options.path, parsed) : parsed) as Record<string, unknown>,
  };
}

// Validation under a key path, so messages say `modelSettings.layerz`, not `layerz`.

function nest(path: string, value: unknown): unknown {
  return path
    .split('.')
    .reverse()
    .reduce((acc, key) => ({ [key]: acc }), value);
}

function nestSchema(path: string, schema: z.ZodType): z.ZodType {
  return path
    .split('.')
    .reverse()
    .reduce((acc, key) => z.strictObject({ [key]: acc }) as z.ZodType, schema);
}

function unnest(path: string, value: unknown): unknown {
  return getByPath(value, path);
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** `over` merged into `base`: nested mappings merge, everything else replaces. */
export function deepMerge(
  base: Readonly<Record<string, unknown>>,
  over: Readonly<Record<string, unknown>>,
): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(over)) {
    out[k] = isPlainObject(v) && isPlainObject(out[k]) ? deepMerge(out[k] as Record<string, unknown>, v) : v;
  }
  return out;
}
