import * as z from 'zod';

/** BPR-MF settings. Unknown keys are errors. */
export const mfSettingsSchema = z.strictObject({
  /** Embedding size d of the user and item tables (32, as the reference LightGCN). */
  embeddingSize: z.number().int().positive().default(32),
});

/** Resolved MF settings. */
export type MfSettings = z.output<typeof mfSettingsSchema>;
/** MF settings as written by a user (every field optional). */
export type MfSettingsInput = z.input<typeof mfSettingsSchema>;
