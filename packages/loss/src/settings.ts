import * as z from 'zod';

/** SDR: supervised distribution reshaping, profile teacher → model (method.md §4). */
export const sdrSettingsSchema = z
  .strictObject({
    /** Add the SDR term to the loss. */
    enabled: z.boolean().default(true),
    /** λ1, the SDR weight (1.5 Amazon-book, 0.5 Yelp and Steam; dataset presets set it). */
    lambda1: z.number().nonnegative().default(0.5),
    /** τp, temperature of the profile teacher p(i|u) = softmax(cos/τp). */
    tauP: z.number().positive().default(0.2),
    /** τq, temperature of the model distribution q(i|u) = softmax(cos/τq). */
    tauQ: z.number().positive().default(0.2),
    /** Drop each user's train items from p(i|u) and renormalise (the reference does not). */
    maskTrain: z.boolean().default(false),
    /** Keep only the top-K teacher probabilities per user and renormalise; null keeps all items (the reference). */
    topK: z.number().int().positive().nullable().default(null),
    /**
     * 'dense': p(i|u) over all items ([Bu, N] rows per batch; the reference). 'sparse': each
     * user's top `sparseK` items with their dense probabilities plus the row's remaining mass
     * (memory |U|·(K+1)); the student's cross-entropy runs over that support plus `sparseNegatives`
     * sampled items that share the remaining mass, with a log((N−K)/M) correction of the partition
     * sum (exact when K = N; see sparseSdrLoss). With `topK` set, the sparse teacher holds exactly
     * that truncated, renormalised teacher (K = topK; `sparseK` unused).
     */
    teacher: z.enum(['dense', 'sparse']).default('dense'),
    /** K of the sparse teacher (clamped to the item count, with a note). */
    sparseK: z.number().int().positive().default(256),
    /** Negatives sampled per user and batch outside the sparse teacher's support. */
    sparseNegatives: z.number().int().nonnegative().default(256),
    /**
     * How the sparse term computes its candidates' logits (same values): 'gather' the
     * Bu·(K+M) item vectors, one [Bu, N] 'product' of users and items, or 'auto': the product
     * when N ≤ (K+M)·d (it moves less memory there: Amazon-book with K 256 uses it).
     */
    sparseLogits: z.enum(['auto', 'gather', 'product']).default('auto'),
    /** [lo, hi] bounds of the entropy weight w_u = clip(1 − H_u/log N, lo, hi). */
    weightClip: z
      .tuple([z.number().min(0).max(1), z.number().min(0).max(1)])
      .default([0.1, 1])
      .refine(([lo, hi]) => lo <= hi, { message: 'weightClip must be [lo, hi] with lo ≤ hi' }),
    /**
     * 'exact': −Σ p log(q + 1e-8) literally (spec and reference); 'logSoftmax': −Σ p log q, cheaper,
     * differs only where q is comparable to 1e-8.
     */
    form: z.enum(['exact', 'logSoftmax']).default('exact'),
    /**
     * Epochs over which λ1 ramps linearly from 0 (epoch 1) to its value (epoch warmupEpochs + 1).
     * 0 (default, the paper): the full λ1 from the first step. Not in the paper: see s2dr.warmupEpochs.
     */
    warmupEpochs: z.number().int().nonnegative().default(0),
    /** Bytes the precomputed teacher rows may take before they are computed per batch instead. */
    memoryBudgetBytes: z
      .number()
      .int()
      .nonnegative()
      .default(2 ** 30),
  })
  .prefault({});

/** S2DR: self-supervised distribution reshaping between the original and augmented graph views. */
export const s2drSettingsSchema = z
  .strictObject({
    /** Add the S2DR term to the loss. */
    enabled: z.boolean().default(true),
    /** λ2, the S2DR weight (0.05 Amazon-book, 0.1 Yelp and Steam; dataset presets set it). */
    lambda2: z.number().nonnegative().default(0.1),
    /** τs, InfoNCE temperature (0.2; 0.5 on Steam). */
    tauS: z.number().positive().default(0.2),
    /**
     * ε inside −log(pos/Σ + ε) of the user and item InfoNCE terms. Default 1e-5 as in the released
     * code that produced the reference numbers (method.md writes the plain form: set 0 for it).
     */
    infoNceEpsilon: z.number().nonnegative().default(1e-5),
    /**
     * Epochs over which λ2 ramps linearly from 0 (epoch 1) to its value (epoch warmupEpochs + 1).
     * 0 (default, the paper and the released code): the full λ2 from the first step. Not in the
     * paper: on dense data the cosine terms (S2DR's InfoNCE, SDR's cross-entropy) dominate BPR while
     * the embeddings are still small, and BPR never leaves log 2 (MovieLens-100K; see the promax
     * method README).
     */
    warmupEpochs: z.number().int().nonnegative().default(0),
  })
  .prefault({});

/** Profile preprocessing before the teacher (method.md §2). */
export const preprocessSettingsSchema = z
  .strictObject({
    /** 'separate' whitening per side (reference), 'joint' on stacked users + items, or 'none' (cosine in the full space). */
    mode: z.enum(['separate', 'joint', 'none']).default('separate'),
    /** Whitened dimension; null means the model's embedding size. Ignored by mode 'none'. */
    dim: z.number().int().positive().nullable().default(null),
    /** Added to the eigenvalues before the inverse square root (0: plain whitening; > 0 also tolerates rank < dim). */
    eps: z.number().nonnegative().default(0),
  })
  .prefault({});
