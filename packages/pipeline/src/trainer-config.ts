import { type ParseSettingsOptions, parseSettings } from '@promax/core';
import * as z from 'zod';

const METRIC = /^(recall|ndcg|precision|hit|mrr)@(\d+)$/;

/**
 * The training loop's settings, defaults from method.md §6 (the reference LightGCN run).
 * Unknown keys are errors.
 */
export const trainerConfigSchema = z
  .strictObject({
    /** Triples per mini-batch; the last, partial batch of each epoch is kept. */
    batchSize: z.number().int().positive().default(4096),
    /** Learning rate, read by the Trainable's optimiser (the loop itself does not use it). */
    lr: z.number().positive().default(1e-3),
    /** λreg: L2 weight over the embedding tables, read by the Trainable's loss. */
    l2: z.number().nonnegative().default(1e-6),
    /** Upper bound on epochs. */
    maxEpochs: z.number().int().positive().default(1000),
    /** Evaluate on validation after every `evalEvery` epochs (and after the last one). */
    evalEvery: z.number().int().positive().default(3),
    /** Stop after this many consecutive validation evaluations without improvement. */
    patience: z.number().int().positive().default(20),
    /** Cutoffs K for every evaluation. */
    ks: z.array(z.number().int().positive()).min(1).default([5, 10, 20]),
    /** Validation metric that picks the best epoch (higher is better); its K must be in `ks`. */
    selectMetric: z
      .string()
      .regex(METRIC, 'expected <recall|ndcg|precision|hit|mrr>@<K>')
      .default('recall@20'),
    /** Seed of the negative sampler / batch order (the Trainable's init takes its own seed). */
    seed: z.number().int().nonnegative().max(0xffffffff).default(2025),
    /**
     * When RUN_DIR/checkpoint is written: 'best' rewrites it at every validation improvement
     * (survives a crash), 'end' once with the restored best parameters, 'none' never.
     */
    checkpoint: z.enum(['best', 'end', 'none']).default('best'),
    /**
     * Evaluate the test split at the end (default). A tuner sets false so that only validation is
     * ever seen while searching: results then carry `test: {}`.
     */
    testSplit: z.boolean().default(true),
  })
  .superRefine((c, ctx) => {
    const k = Number(METRIC.exec(c.selectMetric)?.[2]);
    if (Number.isFinite(k) && !c.ks.includes(k)) {
      ctx.addIssue({
        code: 'custom',
        path: ['selectMetric'],
        message: `selectMetric ${c.selectMetric} needs K = ${k} in ks [${c.ks.join(', ')}]`,
      });
    }
  });

/** Resolved trainer settings (every default applied). */
export type TrainerConfig = z.output<typeof trainerConfigSchema>;
/** Trainer settings as written by a user: every field optional. */
export type TrainerConfigInput = z.input<typeof trainerConfigSchema>;

/** Validates trainer settings and applies defaults; throws PromaxError('INVALID_CONFIG'). */
export function parseConfig(value: unknown = {}, options: ParseSettingsOptions = {}): TrainerConfig {
  return parseSettings(trainerConfigSchema, value, options);
}
