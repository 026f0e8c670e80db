import { preprocessSettingsSchema, s2drSettingsSchema, sdrSettingsSchema } from '@promax/loss';
import * as z from 'zod';

/** Every ProMax setting; unknown keys are errors. Defaults are the released code's (method.md §6). */
export const promaxSettingsSchema = z.strictObject({
  /** Supervised reshaping towards the profile distribution (needs profile embeddings). */
  sdr: sdrSettingsSchema,
  /** Self-supervised reshaping between the original and augmented views (needs A′). */
  s2dr: s2drSettingsSchema,
  /** How profile vectors are preprocessed before the teacher. */
  preprocess: preprocessSettingsSchema,
});

/** Resolved settings (every default applied). */
export type PromaxSettings = z.output<typeof promaxSettingsSchema>;
/** Settings as a user writes them: every field optional. */
export type PromaxSettingsInput = z.input<typeof promaxSettingsSchema>;

/** Per canonical dataset name: method.md §6 and the released config. */
export const PROMAX_PRESETS = {
  'amazon-book': { sdr: { lambda1: 1.5 }, s2dr: { lambda2: 0.05 } },
  yelp: { sdr: { lambda1: 0.5 }, s2dr: { lambda2: 0.1 } },
  steam: { sdr: { lambda1: 0.5 }, s2dr: { lambda2: 0.1, tauS: 0.5 } },
} as const satisfies Record<string, PromaxSettingsInput>;
