import * as z from 'zod';

/**
 * SimGCL settings; defaults are RLMRec's configuration for the Amazon-book and Yelp splits
 * (λ 0.1, ε 0.9, τ 0.2, 3 layers) on the reference LightGCN encoder (d 32, Σ of layers 1..L). The
 * SimGCL paper's Yelp2018 values (λ 0.5, ε 0.1) peak early and end below LightGCN on these splits
 * (Amazon-book test Recall@20 0.1429 vs 0.1498 for LightGCN). Unknown keys are errors.
 */
export const simGclSettingsSchema = z.strictObject({
  /** Embedding size d of the user and item tables (32). */
  embeddingSize: z.number().int().positive().default(32),
  /** Propagation layers L of the LightGCN encoder (3). */
  layers: z.number().int().positive().default(3),
  /**
   * Layer combination of the encoder: 'sum' = Σ_{l=1..L} E^(l) (default; the SimGCL paper also
   * skips layer 0, with a mean, which only rescales), 'mean' = mean over E^(0..L).
   */
  layerCombination: z.enum(['sum', 'mean']).default('sum'),
  /** λ_cl, weight of the contrastive term between the two perturbed views (0.1). */
  lambdaCl: z.number().nonnegative().default(0.1),
  /** τ, InfoNCE temperature (0.2). */
  temperature: z.number().positive().default(0.2),
  /** ε, magnitude of the per-layer noise ε·sign(e)⊙normalize(U(0,1)) (0.9). */
  eps: z.number().nonnegative().default(0.9),
});

/** Per-dataset settings of RLMRec's SimGCL configuration (Steam differs: τ 0.5, ε 0.2). */
export const simGclPresets = {
  'amazon-book': { lambdaCl: 0.1, temperature: 0.2, eps: 0.9 },
  yelp: { lambdaCl: 0.1, temperature: 0.2, eps: 0.9 },
  steam: { lambdaCl: 0.1, temperature: 0.5, eps: 0.2 },
} as const satisfies Record<string, z.input<typeof simGclSettingsSchema>>;

/** Resolved SimGCL settings. */
export type SimGclSettings = z.output<typeof simGclSettingsSchema>;
/** SimGCL settings as written by a user (every field optional). */
export type SimGclSettingsInput = z.input<typeof simGclSettingsSchema>;
