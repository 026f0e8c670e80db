/** Median of the finite values (NaN-free), or null when there are none. */
export function median(values: readonly number[]): number | null {
  const v = values.filter(Number.isFinite).sort((a, b) => a - b);
  if (v.length === 0) return null;
  const m = v.length >> 1;
  return v.length % 2 ? v[m] : (v[m - 1] + v[m]) / 2;
}

/** Summary of one metric over runs: sample std (n − 1 denominator), null when n < 2. */
export interface MeanStd {
  mean: number;
  std: number | null;
  n: number;
  values: number[];
}

export function meanStd(values: readonly number[]): MeanStd {
  const n = values.length;
  let sum = 0;
  for (const v of values) sum += v;
  const mean = n ? sum / n : Number.NaN;
  let ss = 0;
  for (const v of values) ss += (v - mean) * (v - mean);
  return { mean, std: n >= 2 ? Math.sqrt(ss / (n - 1)) : null, n, values: [...values] };
}
