import * as z from 'zod';

/** LR-GCCF settings (defaults follow RLMRec's GCCF baseline). Unknown keys are errors. */
export const gccfSettingsSchema = z.strictObject({
  /** Embedding size d of the user and item tables (32). */
  embeddingSize: z.number().int().positive().default(32),
  /** Propagation layers L (2: RLMRec's setting on Amazon-book, Yelp and Steam). */
  layers: z.number().int().positive().default(2),
  /**
   * Propagate over D̃^-½ (A + I) D̃^-½: every node keeps a share of its own embedding, the
   * residual "self connection" of LR-GCCF (default true).
   */
  selfLoops: z.boolean().default(true),
  /**
   * Multiply each layer by a learned d×d matrix W^(l), E^(l) = Â E^(l−1) W^(l), as the LR-GCCF paper
   * (default false: RLMRec's GCCF drops W, "performs better without W").
   */
  layerTransform: z.boolean().default(false),
});

/** Resolved GCCF settings. */
export type GccfSettings = z.output<typeof gccfSettingsSchema>;
/** GCCF settings as written by a user (every field optional). */
export type GccfSettingsInput = z.input<typeof gccfSettingsSchema>;
