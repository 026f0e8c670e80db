import { PromaxError } from '@promax/core';

/** Metric families computed by the evaluator. */
export const METRICS = ['recall', 'ndcg', 'precision', 'hit', 'mrr'] as const;
export type MetricName = (typeof METRICS)[number];

/** Validates and sorts cutoffs (`[20, 5, 10]` → `[5, 10, 20]`). */
export function normaliseKs(ks: readonly number[]): number[] {
  if (ks.length === 0) {
    throw new PromaxError({
      code: 'INVALID_ARGUMENT',
      field: 'ks',
      message: 'no cutoff K given',
      fix: 'pass e.g. [5, 10, 20]',
    });
  }
  for (const k of ks) {
    if (!Number.isInteger(k) || k < 1) {
      throw new PromaxError({
        code: 'INVALID_ARGUMENT',
        field: 'ks',
        message: `cutoff K must be a positive integer, got ${k}`,
        fix: 'pass positive integers such as 5,10,20',
      });
    }
  }
  return [...new Set(ks)].sort((a, b) => a - b);
}

/**
 * Accumulates per-user ranking metrics (method.md §7). For one user, `ranked` holds the
 * recommended item ids best-first (train items already removed) and `isRelevant` tells the
 * held-out items; `numRelevant` = |T_u| ≥ 1.
 *
 * Recall@K = hits@K / |T_u| (denominator NOT min(K, |T_u|)); NDCG@K uses binary gains,
 * 1/log2(rank+1) discounts and IDCG over min(K, |T_u|) ideal hits; Precision@K = hits@K / K;
 * HitRate@K = [hits@K > 0]; MRR@K = 1/rank of the first hit within K (0 if none).
 */
export class MetricAccumulator {
  readonly ks: number[];
  /** Ranks actually walked: max K, bounded by the candidate count (no list is ever longer). */
  private readonly maxK: number;
  private readonly sums: Float64Array; // [metric][k]
  private readonly discounts: Float64Array;
  private readonly idcg: Float64Array;
  users = 0;

  /**
   * `maxRanked` bounds the ranked lists (the item count): cutoffs beyond it are still reported
   * exactly (nothing changes past the last rank) without walking or allocating up to K.
   */
  constructor(ks: readonly number[], maxRanked = Number.POSITIVE_INFINITY) {
    this.ks = normaliseKs(ks);
    this.maxK = Math.min(this.ks[this.ks.length - 1], maxRanked);
    this.sums = new Float64Array(METRICS.length * this.ks.length);
    this.discounts = new Float64Array(this.maxK + 1);
    this.idcg = new Float64Array(this.maxK + 1);
    for (let r = 1; r <= this.maxK; r++) {
      this.discounts[r] = 1 / Math.log2(r + 1);
      this.idcg[r] = this.idcg[r - 1] + this.discounts[r];
    }
  }

  /** Adds one user. `ranked` may be shorter than max K (fewer candidate items). */
  addUser(
    ranked: ArrayLike<number>,
    rankedLength: number,
    isRelevant: (item: number) => boolean,
    numRelevant: number,
  ): void {
    const ks = this.ks;
    const nk = ks.length;
    const s = this.sums;
    let hits = 0;
    let dcg = 0;
    let firstHit = 0;
    let ki = 0;
    const len = Math.min(rankedLength, this.maxK);
    for (let r = 1; r <= this.maxK; r++) {
      if (r <= len && isRelevant(ranked[r - 1])) {
        hits++;
        dcg += this.discounts[r];
        if (firstHit === 0) firstHit = r;
      }
      while (ki < nk && (ks[ki] === r || (r === this.maxK && ks[ki] > r))) {
        const k = ks[ki];
        s[0 * nk + ki] += hits / numRelevant;
        s[1 * nk + ki] += dcg / this.idcg[Math.min(k, numRelevant, this.maxK)];
        s[2 * nk + ki] += hits / k;
        s[3 * nk + ki] += hits > 0 ? 1 : 0;
        s[4 * nk + ki] += firstHit > 0 ? 1 / firstHit : 0;
        ki++;
      }
    }
    this.users++;
  }

  /** Mean over the users added so far, keyed `recall@20`, `ndcg@5`, …. */
  result(): Record<string, number> {
    const out: Record<string, number> = {};
    const nk = this.ks.length;
    for (let m = 0; m < METRICS.length; m++) {
      for (let ki = 0; ki < nk; ki++) {
        out[`${METRICS[m]}@${this.ks[ki]}`] = this.users > 0 ? this.sums[m * nk + ki] / this.users : 0;
      }
    }
    return out;
  }
}
