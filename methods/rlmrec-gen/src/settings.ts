import * as z from 'zod';

/** The knobs that differ per base model in the released `*_gene.yml`. */
const genSchema = z.strictObject({
  maskRatio: z.number().gt(0).max(1).optional(),
  reconWeight: z.number().min(0).optional(),
  reconTemperature: z.number().positive().optional(),
});

/** Every RLMRec-Gen setting; unknown keys are errors. Defaults: `lightgcn_gene.yml` (amazon). */
export const rlmrecGenSettingsSchema = z.strictObject({
  /** mask_ratio: M = max(⌊N·maskRatio⌋, 1) of all N users and items are masked per step. */
  maskRatio: z.number().gt(0).max(1).default(0.15),
  /** recon_weight of the reconstruction term. 0 trains the base model alone (no masking). */
  reconWeight: z.number().min(0).default(0.1),
  /** re_temperature τ of the reconstruction InfoNCE (ssl_con_loss). */
  reconTemperature: z.number().positive().default(0.5),
  /** Hidden width of the decoder; null: ⌊(D + d)/2⌋ as released (32 → 784 → 1536). */
  hidden: z.number().int().positive().nullable().default(null),
  /** Per base model (lightgcn, gccf, sgl, simgcl): values that replace the top level on that model. */
  perModel: z.record(z.string(), genSchema).default({}),
});

export type RlmrecGenSettings = z.output<typeof rlmrecGenSettingsSchema>;
export type RlmrecGenSettingsInput = z.input<typeof rlmrecGenSettingsSchema>;

const gcf = (maskRatio: number, reconWeight: number, reconTemperature: number) => ({
  maskRatio,
  reconWeight,
  reconTemperature,
});

/** The `*_gene.yml` values (baselines.md §2.3): LightGCN at the top level, other bases per model. */
export const RLMREC_GEN_PRESETS = {
  'amazon-book': {
    ...gcf(0.15, 0.1, 0.5),
    perModel: { gccf: gcf(0.1, 0.01, 0.1), sgl: gcf(0.2, 0.1, 0.2), simgcl: gcf(0.05, 0.1, 0.2) },
  },
  yelp: {
    ...gcf(0.05, 0.01, 0.1),
    perModel: { gccf: gcf(0.05, 0.01, 1.0), sgl: gcf(0.15, 0.1, 0.2), simgcl: gcf(0.01, 0.01, 0.05) },
  },
  steam: {
    ...gcf(0.15, 0.1, 0.5),
    perModel: { gccf: gcf(0.1, 0.01, 0.1), sgl: gcf(0.1, 0.1, 0.2), simgcl: gcf(0.05, 0.01, 0.1) },
  },
} as const satisfies Record<string, RlmrecGenSettingsInput>;

/** The settings in force on one base model (its `perModel` entry over the top level). */
export function effectiveGenSettings(settings: RlmrecGenSettings, modelId: string) {
  const own = settings.perModel[modelId] ?? {};
  return {
    maskRatio: own.maskRatio ?? settings.maskRatio,
    reconWeight: own.reconWeight ?? settings.reconWeight,
    reconTemperature: own.reconTemperature ?? settings.reconTemperature,
    hidden: settings.hidden,
  };
}
