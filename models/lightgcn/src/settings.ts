import * as z from 'zod';

/** LightGCN settings; defaults are the reference configuration (method.md §6). Unknown keys are errors. */
export const lightGcnSettingsSchema = z.strictObject({
  /** Embedding size d of the user and item tables (32 in the reference). */
  embeddingSize: z.number().int().positive().default(32),
  /** Propagation layers L (3 in the reference). */
  layers: z.number().int().positive().default(3),
  /**
   * How the layer outputs combine into the final representation: 'sum' = Σ_{l=1..L} E^(l), layer 0
   * excluded (the released ProMax code, the default); 'mean' = mean over E^(0..L) (the LightGCN paper);
   * 'sum0' = Σ_{l=0..L} E^(l), layer 0 included (RLMRec's released LightGCN, `--protocol rlmrec`).
   */
  layerCombination: z.enum(['sum', 'mean', 'sum0']).default('sum'),
  /**
   * Probability that each stored entry of the normalised adjacency Â survives in a training step
   * (RLMRec's `SpAdjEdgeDrop`, `keep_rate` 0.8 in its LightGCN ymls, set by `--protocol rlmrec`):
   * every training encoding multiplies Â entry-wise by a fresh Bernoulli(keep) 0/1 mask per view
   * and step, drawn from the trainer's seeded Rng, without rescaling or renormalising; u→i and
   * i→u are drawn separately. Evaluation uses the full Â. 1 (default): no dropout (ProRec, ProMax).
   */
  edgeKeepRate: z.number().gt(0).max(1).default(1),
});

/** Resolved LightGCN settings. */
export type LightGcnSettings = z.output<typeof lightGcnSettingsSchema>;
/** LightGCN settings as written by a user (every field optional). */
export type LightGcnSettingsInput = z.input<typeof lightGcnSettingsSchema>;
