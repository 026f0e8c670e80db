import * as z from 'zod';

/**
 * Every KAR (adapted) setting; unknown keys are errors. Defaults: the hybrid-expert adaptor of
 * KAR's `main_ctr.py` (2 shared + 6 specific experts, arch [128, d], ReLU, dropout 0) and the
 * fusion of baselines.md §4.2. The released code has no top-K configuration, so there are no
 * per-dataset presets.
 */
export const karSettingsSchema = z.strictObject({
  /** Shared experts, applied to both towers (`export_num`). */
  sharedExperts: z.number().int().min(0).default(2),
  /** Experts specific to each tower (`specific_export_num`). */
  specificExperts: z.number().int().min(1).default(6),
  /** Hidden width of each expert; the output width is the model's (`convert_arch` [128, d]). */
  expertHidden: z.number().int().positive().default(128),
  /**
   * How the augmented vectors a_u, a_i join the model's final vectors: 'add' (z + a, the
   * recommended plug-in) or 'concat' ([z; a], scores z·z′ + a·a′).
   */
  fusion: z.enum(['add', 'concat']).default('add'),
  /** Scale of the augmented vectors (1 as released; 0 trains and scores the base model alone). */
  weight: z.number().min(0).default(1),
});

export type KarSettings = z.output<typeof karSettingsSchema>;
export type KarSettingsInput = z.input<typeof karSettingsSchema>;
