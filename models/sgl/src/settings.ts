import * as z from 'zod';

/**
 * SGL-ED settings; defaults follow the SGL paper / SELFRec (edge dropout ρ 0.1, λ_ssl 0.1,
 * τ 0.2, 3 layers) with the reference LightGCN encoder (d 32, Σ of layers 1..L). Unknown keys
 * are errors.
 */
export const sglSettingsSchema = z.strictObject({
  /** Embedding size d of the user and item tables (32). */
  embeddingSize: z.number().int().positive().default(32),
  /** Propagation layers L of the LightGCN encoder (3). */
  layers: z.number().int().positive().default(3),
  /**
   * Layer combination of the encoder: 'sum' = Σ_{l=1..L} E^(l) (default, as the reference
   * LightGCN), 'mean' = mean over E^(0..L) (the SGL paper).
   */
  layerCombination: z.enum(['sum', 'mean']).default('sum'),
  /** ρ, probability of dropping each train interaction from a view (0.1). */
  dropRate: z.number().min(0).lt(1).default(0.1),
  /** λ_ssl, weight of the contrastive term between the two dropped-edge views (0.1). */
  lambdaSsl: z.number().nonnegative().default(0.1),
  /** τ, InfoNCE temperature (0.2). */
  temperature: z.number().positive().default(0.2),
  /** When the two views are redrawn: every 'epoch' (the SGL paper, default) or every 'step'. */
  resample: z.enum(['epoch', 'step']).default('epoch'),
  /**
   * < 1 switches the two views to RLMRec's SGL (`sgl.py`, `keep_rate` 0.8 in its ymls, set by
   * `--protocol rlmrec`): each view is the full normalised Â with every stored entry kept with this
   * probability (u→i and i→u drawn separately), unscaled and not renormalised, redrawn every step
   * from the trainer's seeded Rng; `dropRate` and `resample` then do not apply. BPR (and every
   * method's encoding, e.g. RLMRec's KD term) stays on the full graph, as RLMRec's third forward
   * with keep 1.0. 1 (default): the SGL-paper views above.
   */
  edgeKeepRate: z.number().gt(0).max(1).default(1),
});

/**
 * Per-dataset settings of RLMRec's SGL configuration for these splits (edge keep rate 0.8, i.e.
 * ρ 0.2; Yelp uses a much smaller contrastive weight and temperature; Steam 2 layers).
 */
export const sglPresets = {
  'amazon-book': { dropRate: 0.2, lambdaSsl: 0.1, temperature: 0.2 },
  yelp: { dropRate: 0.2, lambdaSsl: 0.001, temperature: 0.1 },
  steam: { layers: 2, dropRate: 0.2, lambdaSsl: 0.1, temperature: 0.5 },
} as const satisfies Record<string, z.input<typeof sglSettingsSchema>>;

/** Resolved SGL settings. */
export type SglSettings = z.output<typeof sglSettingsSchema>;
/** SGL settings as written by a user (every field optional). */
export type SglSettingsInput = z.input<typeof sglSettingsSchema>;
