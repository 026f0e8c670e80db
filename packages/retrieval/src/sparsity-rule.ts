import { PromaxError } from '@promax/core';
import { checkNonNegativeInt, checkPositiveInt } from './validate.js';

/** Percentile definitions, named as in `numpy.percentile(method=…)`. */
export type PercentileMethod = 'linear' | 'lower' | 'higher' | 'midpoint';

/**
 * Which users get new edges and how many (method.md §5). Default: the released rule — quartile
 * boundaries q1, q2, q3 of user train degree; a user with degree < q3 is topped up to
 * (the first boundary above their degree) + 1.
 */
export interface SparsityRule {
  /** Percentiles (0–100, increasing) of user train degree that form the bucket boundaries. Default [25, 50, 75]. */
  quantiles?: readonly number[];
  /** Percentile definition. Default 'linear' (numpy's default); on Amazon-book and Yelp all four agree. */
  percentileMethod?: PercentileMethod;
  /** Added to the next boundary to form a user's target degree. Default 1. */
  offset?: number;
  /** When set, every user below the last boundary gets exactly this many items instead of a top-up. */
  fixedN?: number;
  /** Upper limit on items added to one user. Default: none. */
  maxPerUser?: number;
}

export interface SparsityPlan {
  /** Boundary values (percentiles of user train degree), one per quantile. */
  boundaries: number[];
  /** Target degree per bucket below the last boundary (ceil(boundary) + offset), or null with fixedN. */
  targets: (number | null)[];
  /** Bucket per user: 0 … boundaries.length − 1 for users below the last boundary, boundaries.length for the rest. */
  bucketOf: Int32Array;
  /** Items to add per user (0 for users at or above the last boundary). */
  planned: Int32Array;
  /** Human-readable bucket labels, e.g. 'deg < 5', '5 ≤ deg < 7', 'deg ≥ 11'. */
  bucketLabels: string[];
}

/** `numpy.percentile(values, p, method)` for p in [0, 100]. */
export function percentile(
  sortedValues: ArrayLike<number>,
  p: number,
  method: PercentileMethod = 'linear',
): number {
  const n = sortedValues.length;
  if (n === 0)
    throw new PromaxError({
      code: 'INVALID_ARGUMENT',
      message: 'percentile of an empty list',
      fix: 'pass at least one value',
    });
  if (!(p >= 0 && p <= 100)) {
    throw new PromaxError({
      code: 'INVALID_ARGUMENT',
      field: 'quantiles',
      message: `percentile must lie in [0, 100], got ${p}`,
      fix: 'pass e.g. [25, 50, 75]',
    });
  }
  const pos = (p / 100) * (n - 1);
  const lo = Math.floor(pos);
  const hi = Math.min(n - 1, lo + 1);
  const frac = pos - lo;
  const a = sortedValues[lo];
  const b = sortedValues[hi];
  switch (method) {
    case 'lower':
      return a;
    case 'higher':
      return frac > 0 ? b : a;
    case 'midpoint':
      return frac > 0 ? (a + b) / 2 : a;
    default:
      return a + (b - a) * frac;
  }
}

/** Resolves the rule's defaults and checks it; unknown keys are errors. */
export function resolveSparsityRule(
  rule: SparsityRule = {},
): Required<Omit<SparsityRule, 'fixedN' | 'maxPerUser'>> & Pick<SparsityRule, 'fixedN' | 'maxPerUser'> {
  const known = new Set(['quantiles', 'percentileMethod', 'offset', 'fixedN', 'maxPerUser']);
  for (const key of Object.keys(rule)) {
    if (!known.has(key)) {
      throw new PromaxError({
        code: 'INVALID_CONFIG',
        field: `sparsity.${key}`,
        message: `unknown sparsity rule setting '${key}'`,
        fix: `use one of ${[...known].join(', ')}`,
      });
    }
  }
  const quantiles = [...(rule.quantiles ?? [25, 50, 75])];
  if (
    quantiles.length === 0 ||
    quantiles.some((q, i) => !(q >= 0 && q <= 100) || (i > 0 && q <= quantiles[i - 1]))
  ) {
    throw new PromaxError({
      code: 'INVALID_CONFIG',
      field: 'sparsity.quantiles',
      message: `quantiles must be increasing percentiles in [0, 100], got [${quantiles.join(', ')}]`,
      fix: 'pass e.g. [25, 50, 75]',
    });
  }
  const percentileMethod = rule.percentileMethod ?? 'linear';
  if (!['linear', 'lower', 'higher', 'midpoint'].includes(percentileMethod)) {
    throw new PromaxError({
      code: 'INVALID_CONFIG',
      field: 'sparsity.percentileMethod',
      message: `unknown percentile method '${percentileMethod}'`,
      fix: "use 'linear', 'lower', 'higher' or 'midpoint'",
    });
  }
  const offset = rule.offset ?? 1;
  checkNonNegativeInt(offset, 'sparsity.offset');
  if (rule.fixedN !== undefined) checkPositiveInt(rule.fixedN, 'sparsity.fixedN');
  if (rule.maxPerUser !== undefined) checkNonNegativeInt(rule.maxPerUser, 'sparsity.maxPerUser');
  return { quantiles, percentileMethod, offset, fixedN: rule.fixedN, maxPerUser: rule.maxPerUser };
}

/**
 * Applies the sparsity-shift rule to user train degrees. With the default rule on Amazon-book
 * (boundaries 5/7/11): degree ≤ 4 → 6, 5–6 → 8, 7–10 → 12, ≥ 11 unchanged.
 */
export function planSparsityShift(degrees: Int32Array, rule: SparsityRule = {}): SparsityPlan {
  const r = resolveSparsityRule(rule);
  const sorted = Int32Array.from(degrees).sort();
  const boundaries =
    degrees.length === 0
      ? r.quantiles.map(() => 0)
      : r.quantiles.map((q) => percentile(sorted, q, r.percentileMethod));
  const targets = boundaries.map((b) => (r.fixedN === undefined ? Math.ceil(b) + r.offset : null));
  const nb = boundaries.length;
  const bucketOf = new Int32Array(degrees.length);
  const planned = new Int32Array(degrees.length);
  for (let u = 0; u < degrees.length; u++) {
    const deg = degrees[u];
    let b = 0;
    while (b < nb && deg >= boundaries[b]) b++;
    bucketOf[u] = b;
    if (b === nb) continue;
    let add = r.fixedN ?? (targets[b] as number) - deg;
    if (r.maxPerUser !== undefined) add = Math.min(add, r.maxPerUser);
    planned[u] = Math.max(0, add);
  }
  const fmt = (v: number): string => String(Math.round(v * 1000) / 1000);
  const bucketLabels = boundaries.map((b, i) =>
    i === 0 ? `deg < ${fmt(b)}` : `${fmt(boundaries[i - 1])} ≤ deg < ${fmt(b)}`,
  );
  bucketLabels.push(`deg ≥ ${fmt(boundaries[nb - 1])}`);
  return { boundaries, targets, bucketOf, planned, bucketLabels };
}
