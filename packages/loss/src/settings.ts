import { PromaxError } from '@promax/core';
import * as z from 'zod';

/** SDR: supervised distribution reshaping, profile teacher → model (method.md §4). */
export const sdrSettingsSchema = z
  .strictObject({
    /** Add the SDR term to the loss. */
    enabled: z.boolean().default(true),
    /** λ1, the SDR weight (1.5 Amazon-book, 0.5 Yelp and Steam; dataset presets set it). */
    lambda1: z.number().nonnegative().default(0.5),
    /** τp, temperature of the profile teacher p(i|u) = softmax(cos/τp). */
    tauP: z.number().positive().default(0.2),
    /** τq, temperature of the model distribution q(i|u) = softmax(cos/τq). */
    tauQ: z.number().positive().default(0.2),
    /** Drop each user's train items from p(i|u) and renormalise (the reference does not). */
    maskTrain: z.boolean().default(false),
    /** Keep only the top-K teacher probabilities per user and renormalise; null keeps all items (the reference). */
    topK: z.number().int().positive().nullable().default(null),
    /**
     * 'dense': p(i|u) over all items ([Bu, N] rows per batch; the reference). 'sparse': each
     * user's top `sparseK` items only (memory |U|·K), and the student's cross-entropy over that
     * support plus `sparseNegatives` sampled items with a log((N−K)/M) correction (exact when
     * K = N; see sparseSdrLoss).
     */
    teacher: z.enum(['dense', 'sparse']).default('dense'),
    /** K of the sparse teacher (clamped to the item count, with a note). */
    sparseK: z.number().int().positive().default(256),
    /** Negatives sampled per user and batch outside the sparse teacher's support. */
    sparseNegatives: z.number().int().nonnegative().default(256),
    /** [lo, hi] bounds of the entropy weight w_u = clip(1 − H_u/log N, lo, hi). */
    weightClip: z
      .tuple([z.number().min(0).max(1), z.number().min(0).max(1)])
      .default([0.1, 1])
      .refine(([lo, hi]) => lo <= hi, { message: 'weightClip must be [lo, hi] with lo ≤ hi' }),
    /**
     * 'exact': −Σ p log(q + 1e-8) literally (spec and reference); 'logSoftmax': −Σ p log q, cheaper,
     * differs only where q is comparable to 1e-8.
     */
    form: z.enum(['exact', 'logSoftmax']).default('exact'),
    /** Bytes the precomputed teacher rows may take before they are computed per batch instead. */
    memoryBudgetBytes: z
      .number()
      .int()
      .nonnegative()
      .default(2 ** 30),
  })
  .prefault({});

/** S2DR: self-supervised distribution reshaping between the original and augmented graph views. */
export const s2drSettingsSchema = z
  .strictObject({
    /** Add the S2DR term to the loss. */
    enabled: z.boolean().default(true),
    /** λ2, the S2DR weight (0.05 Amazon-book, 0.1 Yelp and Steam; dataset presets set it). */
    lambda2: z.number().nonnegative().default(0.1),
    /** τs, InfoNCE temperature (0.2; 0.5 on Steam). */
    tauS: z.number().positive().default(0.2),
    /**
     * ε inside −log(pos/Σ + ε) of the user and item InfoNCE terms. Default 1e-5 as in the released
     * code that produced the reference numbers (method.md writes the plain form: set 0 for it).
     */
    infoNceEpsilon: z.number().nonnegative().default(1e-5),
  })
  .prefault({});

/** Profile preprocessing before the teacher (method.md §2). */
export const preprocessSettingsSchema = z
  .strictObject({
    /** 'separate' whitening per side (reference), 'joint' on stacked users + items, or 'none' (cosine in the full space). */
    mode: z.enum(['separate', 'joint', 'none']).default('separate'),
    /** Whitened dimension; null means the model's embedding size. Ignored by mode 'none'. */
    dim: z.number().int().positive().nullable().default(null),
    /** Added to the eigenvalues before the inverse square root (0: plain whitening; > 0 also tolerates rank < dim). */
    eps: z.number().nonnegative().default(0),
  })
  .prefault({});

/** Every ProMax loss setting; unknown keys are errors. */
export const promaxSettingsSchema = z.strictObject({
  /** Supervised reshaping towards the profile distribution. */
  sdr: sdrSettingsSchema,
  /** Self-supervised reshaping between the original and augmented views. */
  s2dr: s2drSettingsSchema,
  /** How profile vectors are preprocessed. */
  preprocess: preprocessSettingsSchema,
});

/** Resolved settings (every default applied). */
export type PromaxSettings = z.output<typeof promaxSettingsSchema>;
/** Settings as written by a user: every field optional. */
export type PromaxSettingsInput = z.input<typeof promaxSettingsSchema>;

/** Overrides of the defaults per dataset (method.md §6 and the released config). */
export const PROMAX_PRESETS = {
  'amazon-book': { sdr: { lambda1: 1.5 }, s2dr: { lambda2: 0.05 } },
  yelp: { sdr: { lambda1: 0.5 }, s2dr: { lambda2: 0.1 } },
  steam: { sdr: { lambda1: 0.5 }, s2dr: { lambda2: 0.1, tauS: 0.5 } },
} as const satisfies Record<string, PromaxSettingsInput>;

export type PromaxPresetName = keyof typeof PROMAX_PRESETS;

const PRESET_ALIASES: Readonly<Record<string, PromaxPresetName>> = {
  'amazon-book': 'amazon-book',
  amazon_book: 'amazon-book',
  amazonbook: 'amazon-book',
  amazon: 'amazon-book',
  yelp: 'yelp',
  steam: 'steam',
};

/** The preset name for a dataset name or alias (`amazon_book` → `amazon-book`), if there is one. */
export function promaxPresetName(dataset: string): PromaxPresetName | undefined {
  return PRESET_ALIASES[dataset.toLowerCase()];
}

/**
 * Defaults, then the dataset's preset (if it has one), then `overrides` (deeply merged), validated.
 * Datasets without a preset get the plain defaults (λ1 0.5, λ2 0.1, τ 0.2). Throws
 * PromaxError('INVALID_CONFIG') listing every bad key.
 */
export function resolvePromaxSettings(dataset: string | null, overrides: unknown = {}): PromaxSettings {
  if (overrides === null || typeof overrides !== 'object' || Array.isArray(overrides)) {
    throw new PromaxError({
      code: 'INVALID_CONFIG',
      field: 'overrides',
      message: `ProMax settings overrides must be an object, got ${Array.isArray(overrides) ? 'an array' : typeof overrides}`,
    });
  }
  const preset = dataset === null ? undefined : promaxPresetName(dataset);
  const merged = preset ? deepMerge(PROMAX_PRESETS[preset], overrides as Record<string, unknown>) : overrides;
  const parsed = promaxSettingsSchema.safeParse(merged);
  if (parsed.success) return parsed.data;
  const issues = parsed.error.issues.map((i) => ({ path: i.path.map(String).join('.'), message: i.message }));
  throw new PromaxError({
    code: 'INVALID_CONFIG',
    field: issues[0]?.path,
    message: `invalid ProMax settings: ${issues.map((i) => `${i.path || '(root)'}: ${i.message}`).join('; ')}`,
    fix: 'correct the keys listed above (see promaxSettingsSchema)',
    details: { issues, dataset, preset },
  });
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function deepMerge(
  base: Readonly<Record<string, unknown>>,
  over: Readonly<Record<string, unknown>>,
): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(over)) {
    out[k] = isPlainObject(v) && isPlainObject(out[k]) ? deepMerge(out[k] as Record<string, unknown>, v) : v;
  }
  return out;
}
