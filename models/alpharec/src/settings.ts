import * as z from 'zod';

/**
 * AlphaRec settings (baselines.md §5). Defaults are the official model (LehengTHU/AlphaRec) with
 * the RLMRec-data port's MLP ratio; unknown keys are errors.
 */
export const alphaRecSettingsSchema = z.strictObject({
  /** d: width of the MLP output and of the final vectors (64 in the official runs; the port uses 32). */
  embeddingSize: z.number().int().positive().default(64),
  /**
   * D: width of the item profile embeddings. 'auto' (default): the width of the profiles the run
   * reads (1536 for RLMRec's ada-002 itm_emb_np.pkl, 384 for all-MiniLM-L6-v2); a number must
   * equal it (the MLP is sized by it).
   */
  inputSize: z.union([z.number().int().positive(), z.literal('auto')]).default('auto'),
  /** 'mlp': D → ⌊m·D⌋ → d with LeakyReLU (the default); 'homo': one bias-free Linear D → d. */
  mlp: z.enum(['mlp', 'homo']).default('mlp'),
  /**
   * m: the hidden width is ⌊m·D⌋ (1/2: the port's ada-002 mapping, 1536 → 768; the official code
   * ties m to the language model: 1/2 for v3, 2 for v2, 8 for BERT/RoBERTa, 9/32 for 4096-d LLMs).
   */
  hiddenRatio: z.number().positive().default(0.5),
  /** L: parameter-free LightGCN propagation layers; the output is the mean over layers 0..L (2). */
  layers: z.number().int().positive().default(2),
  /** τ of the sampled softmax (0.15: Amazon-book and the port; the official Amazon-game run used 0.2). */
  tau: z.number().positive().default(0.15),
  /** K: negatives per positive, drawn for every batch outside the user's train items (256). */
  negatives: z.number().int().positive().default(256),
  /** Score by cosine (the official `--pred_norm`, default); false: the port's un-normalised dot product. */
  predNorm: z.boolean().default(true),
  /**
   * Regularise the MLP with the trainer's λreg·Σ‖θ‖² (trainer.l2, 1e-6 by default: the port's reg).
   * False (default): no L2, as the official code.
   */
  regularize: z.boolean().default(false),
});

/** Resolved AlphaRec settings. */
export type AlphaRecSettings = z.output<typeof alphaRecSettingsSchema>;
/** AlphaRec settings as written by a user (every field optional). */
export type AlphaRecSettingsInput = z.input<typeof alphaRecSettingsSchema>;

/**
 * The RLMRec-data port's per-dataset values (IRLLRec alpharec.yml: layers 2, τ 0.15 on amazon,
 * yelp and steam). Its d 32, lr 1e-3, batch 1024 and reg 1e-6 are NOT applied: d stays the
 * official 64, and the others are trainer settings (README).
 */
export const ALPHAREC_PRESETS: Readonly<Record<string, AlphaRecSettingsInput>> = {
  'amazon-book': { layers: 2, tau: 0.15 },
  yelp: { layers: 2, tau: 0.15 },
  steam: { layers: 2, tau: 0.15 },
};
