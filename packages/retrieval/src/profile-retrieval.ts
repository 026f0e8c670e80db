import { type CsrMatrix, csrColDegrees, type Matrix, type ProgressHandler, PromaxError } from '@promax/core';
import { type EvaluateResult, MetricAccumulator, RankingEvaluator } from '@promax/eval';
import type { EngineOptions } from '@promax/tensor';
import { l2NormalizeRows } from './normalize.js';
import { expectedRandomMetrics } from './random-baseline.js';
import type { Retriever } from './retriever.js';
import { checkCsr, checkMatrix } from './validate.js';

export interface ProfileRetrievalInput {
  /** User profile embeddings (users × D), e.g. PCA-whitened LLM profile vectors. */
  userProfileEmb: Matrix;
  /** Item profile embeddings (items × D), same space as the users'. */
  itemProfileEmb: Matrix;
  /** Train matrix: these items are masked from each user's ranking; popularity = train degree. */
  train: CsrMatrix;
  /** Held-out matrix (validation or test): only users with ≥ 1 held-out item count. */
  heldOut: CsrMatrix;
  /** Cutoffs (default [5, 10, 20]). */
  ks?: readonly number[];
  engine?: EngineOptions;
  /**
   * Ranks the profile side with this retriever (e.g. an ANN index) instead of exact scoring of
   * every item; popularity and random stay exact. The caller owns (and releases) it.
   */
  retriever?: Retriever;
  onProgress?: ProgressHandler;
}

export interface ProfileRetrievalReport {
  /** Users evaluated (≥ 1 held-out item). */
  users: number;
  ks: number[];
  /** Ranking all items by cos(profile_u, profile_i). */
  profile: Record<string, number>;
  /** Ranking all items by train popularity (ties → lower id), the usual floor for a CF signal. */
  popularity: Record<string, number>;
  /** Exact expectation of a uniformly random ranking of the non-train items. */
  random: Record<string, number>;
  /** profile / random per metric (Infinity when random is 0 and profile is not; NaN when both are 0). */
  liftOverRandom: Record<string, number>;
  /** profile / popularity per metric. */
  liftOverPopularity: Record<string, number>;
  evalMs: number;
}

/**
 * Profile-only retrieval (method.md §3): ranks all items for each user by the cosine of the
 * profile embeddings, masks train items and scores the held-out items with the §7 protocol
 * through `@promax/eval`. A popularity ranking and the expected random ranking are evaluated
 * on the same users, so the report tells whether profiles carry collaborative signal
 * (liftOverRandom ≫ 1) and whether they beat the cheapest CF baseline (liftOverPopularity > 1).
 */
export async function evaluateProfileRetrieval(
  input: ProfileRetrievalInput,
): Promise<ProfileRetrievalReport> {
  const t0 = performance.now();
  const { userProfileEmb, itemProfileEmb, train, heldOut } = input;
  checkMatrix(userProfileEmb, 'userProfileEmb', { minRows: 1 });
  checkMatrix(itemProfileEmb, 'itemProfileEmb', { minRows: 1 });
  if (userProfileEmb.cols !== itemProfileEmb.cols) {
    throw new PromaxError({
      code: 'SHAPE_MISMATCH',
      field: 'itemProfileEmb',
      message: `user profiles have ${userProfileEmb.cols} dimensions, item profiles ${itemProfileEmb.cols}`,
      fix: 'embed (and reduce) users and items into the same space',
    });
  }
  const users = userProfileEmb.rows;
  const items = itemProfileEmb.rows;
  checkCsr(train, 'train', users, items, `users × items = ${users}×${items} (from the profile embeddings)`);
  checkCsr(
    heldOut,
    'heldOut',
    users,
    items,
    `users × items = ${users}×${items} (from the profile embeddings)`,
  );

  const evaluator = new RankingEvaluator({
    ks: input.ks,
    engine: input.engine,
    onProgress: input.onProgress,
  });
  let profile: EvaluateResult;
  let popularity: EvaluateResult;
  try {
    profile = input.retriever
      ? await evaluateWithRetriever(input.retriever, input, input.ks ?? [5, 10, 20])
      : await evaluator.evaluate({
          userEmb: l2NormalizeRows(userProfileEmb),
          itemEmb: l2NormalizeRows(itemProfileEmb),
          train,
          heldOut,
        });
    // score(u, i) = 1 · degree(i): a rank-1 "embedding" reuses the same exact evaluator.
    const degrees = csrColDegrees(train);
    popularity = await evaluator.evaluate({
      userEmb: { rows: users, cols: 1, data: new Float32Array(users).fill(1) },
      itemEmb: { rows: items, cols: 1, data: Float32Array.from(degrees) },
      train,
      heldOut,
    });
  } finally {
    await evaluator.release();
  }
  const ks = Object.keys(profile.metrics)
    .filter((key) => key.startsWith('recall@'))
    .map((key) => Number(key.slice('recall@'.length)));
  const random = expectedRandomMetrics({ train, heldOut }, ks).metrics;
  return {
    users: profile.users,
    ks,
    profile: profile.metrics,
    popularity: popularity.metrics,
    random,
    liftOverRandom: ratio(profile.metrics, random),
    liftOverPopularity: ratio(profile.metrics, popularity.metrics),
    evalMs: performance.now() - t0,
  };
}

/** §7 metrics of the retriever's cosine top-(max K) lists, train items excluded. */
async function evaluateWithRetriever(
  retriever: Retriever,
  input: ProfileRetrievalInput,
  ks: readonly number[],
): Promise<EvaluateResult> {
  const t0 = performance.now();
  const { train, heldOut, userProfileEmb } = input;
  const users: number[] = [];
  for (let u = 0; u < heldOut.rows; u++) if (heldOut.indptr[u + 1] > heldOut.indptr[u]) users.push(u);
  const d = userProfileEmb.cols;
  const queries: Matrix = { rows: users.length, cols: d, data: new Float32Array(users.length * d) };
  const indptr = new Int32Array(users.length + 1);
  for (let r = 0; r < users.length; r++) {
    const u = users[r];
    queries.data.set(userProfileEmb.data.subarray(u * d, u * d + d), r * d);
    indptr[r + 1] = indptr[r] + train.indptr[u + 1] - train.indptr[u];
  }
  const indices = new Int32Array(indptr[users.length]);
  for (let r = 0; r < users.length; r++)
    indices.set(train.indices.subarray(train.indptr[users[r]], train.indptr[users[r] + 1]), indptr[r]);
  const acc = new MetricAccumulator(ks);
  const k = acc.ks[acc.ks.length - 1];
  // Held-out entries that are also train entries can never be hit (train items are excluded).
  const overlap = { entries: 0, users: 0 };
  const inTrain = new Uint8Array(train.cols);
  for (const u of users) {
    for (let p = train.indptr[u]; p < train.indptr[u + 1]; p++) inTrain[train.indices[p]] = 1;
    let n = 0;
    for (let p = heldOut.indptr[u]; p < heldOut.indptr[u + 1]; p++) n += inTrain[heldOut.indices[p]];
    for (let p = train.indptr[u]; p < train.indptr[u + 1]; p++) inTrain[train.indices[p]] = 0;
    overlap.entries += n;
    if (n > 0) overlap.users++;
  }
  const warnings =
    overlap.entries > 0
      ? [
          `${overlap.entries} held-out entries of ${overlap.users} users are also train entries (masked, never hit)`,
        ]
      : [];
  if (users.length > 0) {
    await retriever.index(input.itemProfileEmb);
    const res = await retriever.doSearch({
      queries,
      k,
      metric: 'cosine',
      exclude: { rows: users.length, cols: train.cols, indptr, indices },
    });
    const held = new Uint8Array(heldOut.cols);
    for (let r = 0; r < users.length; r++) {
      const u = users[r];
      const s = heldOut.indptr[u];
      const e = heldOut.indptr[u + 1];
      for (let p = s; p < e; p++) held[heldOut.indices[p]] = 1;
      acc.addUser(res.indices.subarray(r * k, r * k + k), res.counts[r], (i) => held[i] === 1, e - s);
      for (let p = s; p < e; p++) held[heldOut.indices[p]] = 0;
    }
  }
  return { users: acc.users, overlap, warnings, metrics: acc.result(), evalMs: performance.now() - t0 };
}

function ratio(a: Record<string, number>, b: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const key of Object.keys(a)) out[key] = a[key] / b[key];
  return out;
}
