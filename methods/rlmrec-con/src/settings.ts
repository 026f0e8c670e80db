import * as z from 'zod';

/** The knobs that differ per base model in the released ymls. */
const kdSchema = z.strictObject({
  /** kd_weight: the InfoNCE terms are scaled by kdWeight / B. */
  kdWeight: z.number().min(0).optional(),
  /** kd_temperature τ of the InfoNCE terms. */
  kdTemperature: z.number().positive().optional(),
});

/** Every RLMRec-Con setting; unknown keys are errors. Defaults: `lightgcn_plus.yml` (amazon, yelp). */
export const rlmrecConSettingsSchema = z.strictObject({
  /** kd_weight (the KD InfoNCE sum is multiplied by kdWeight / B). 0 trains the base model alone. */
  kdWeight: z.number().min(0).default(1e-2),
  /** kd_temperature τ. */
  kdTemperature: z.number().positive().default(0.2),
  /** Hidden width of the profile MLP; null: ⌊(D + d)/2⌋ as released (1536 → 784 → 32). */
  hidden: z.number().int().positive().nullable().default(null),
  /**
   * Per base model (lightgcn, gccf, sgl, simgcl): values that replace kdWeight / kdTemperature when
   * the run's model has that id (the released ymls differ per base). Presets fill these.
   */
  perModel: z.record(z.string(), kdSchema).default({}),
});

export type RlmrecConSettings = z.output<typeof rlmrecConSettingsSchema>;
export type RlmrecConSettingsInput = z.input<typeof rlmrecConSettingsSchema>;

/** The `*_plus.yml` values (baselines.md §2.3): LightGCN at the top level, other bases per model. */
export const RLMREC_CON_PRESETS = {
  'amazon-book': {
    kdWeight: 1e-2,
    kdTemperature: 0.2,
    perModel: {
      gccf: { kdWeight: 1e-3, kdTemperature: 0.1 },
      sgl: { kdWeight: 1e-2, kdTemperature: 0.5 },
      simgcl: { kdWeight: 1e-2, kdTemperature: 0.2 },
    },
  },
  yelp: {
    kdWeight: 1e-2,
    kdTemperature: 0.2,
    perModel: {
      gccf: { kdWeight: 1e-3, kdTemperature: 0.2 },
      sgl: { kdWeight: 1e-2, kdTemperature: 1.0 },
      simgcl: { kdWeight: 1e-2, kdTemperature: 0.1 },
    },
  },
  steam: {
    kdWeight: 1e-3,
    kdTemperature: 0.1,
    perModel: {
      gccf: { kdWeight: 1e-2, kdTemperature: 0.5 },
      sgl: { kdWeight: 1e-2, kdTemperature: 1.0 },
      simgcl: { kdWeight: 1e-2, kdTemperature: 0.2 },
    },
  },
} as const satisfies Record<string, RlmrecConSettingsInput>;

/** The settings in force on one base model (its `perModel` entry over the top level). */
export function effectiveConSettings(settings: RlmrecConSettings, modelId: string) {
  const own = settings.perModel[modelId] ?? {};
  return {
    kdWeight: own.kdWeight ?? settings.kdWeight,
    kdTemperature: own.kdTemperature ?? settings.kdTemperature,
    hidden: settings.hidden,
  };
}
