import { PromaxError } from '@promax/core';

/**
 * The statistics every report and the tuner share: mean, sample std, paired tests over seeds and
 * t confidence intervals. The tests match SciPy's defaults (`scipy.stats.ttest_rel`,
 * `scipy.stats.wilcoxon`, `scipy.stats.t.interval`) to 1e-10 on fixtures computed with
 * tools/stats_fixtures.py.
 */

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

/** Mean / sample std per key over several metric records (a key missing in a record is skipped). */
export function aggregateMetrics(records: readonly Record<string, number>[]): Record<string, MeanStd> {
  const values = new Map<string, number[]>();
  for (const r of records) {
    for (const [k, v] of Object.entries(r)) {
      if (!Number.isFinite(v)) continue;
      const list = values.get(k) ?? [];
      list.push(v);
      values.set(k, list);
    }
  }
  const out: Record<string, MeanStd> = {};
  for (const [k, v] of values) out[k] = meanStd(v);
  return out;
}

/** A two-sided t confidence interval of a mean. */
export interface Interval {
  low: number;
  high: number;
  confidence: number;
}

/** `mean ± t_{(1+c)/2, n−1} · s/√n` (as `scipy.stats.t.interval(c, n−1, mean, sem)`); null when n < 2. */
export function tInterval(values: readonly number[], confidence = 0.95): Interval | null {
  checkConfidence(confidence);
  const s = meanStd(values);
  if (s.std === null) return null;
  const half = studentTQuantile((1 + confidence) / 2, s.n - 1) * (s.std / Math.sqrt(s.n));
  return { low: s.mean - half, high: s.mean + half, confidence };
}

/** A paired t-test of `treated − base` (as `scipy.stats.ttest_rel(treated, base)`). */
export interface PairedTTest {
  n: number;
  /** Mean of the paired differences `treated − base`. */
  meanDiff: number;
  /** Sample std of the differences; null when n < 2. */
  stdDiff: number | null;
  statistic: number;
  df: number;
  /** Two-sided p-value; NaN when it is undefined (n < 2, or every difference 0). */
  pValue: number;
  /** t confidence interval of the mean difference; null when n < 2. */
  ci: Interval | null;
}

export function pairedTTest(
  treated: readonly number[],
  base: readonly number[],
  confidence = 0.95,
): PairedTTest {
  const d = differences(treated, base);
  const n = d.length;
  const s = meanStd(d);
  const df = n - 1;
  if (s.std === null) {
    return { n, meanDiff: s.mean, stdDiff: null, statistic: Number.NaN, df, pValue: Number.NaN, ci: null };
  }
  // 0/0 (every difference equal to 0) is NaN as in SciPy; a non-zero mean over 0 spread is ±∞, p = 0.
  const statistic = s.mean / (s.std / Math.sqrt(n));
  const pValue = Number.isNaN(statistic)
    ? Number.NaN
    : Number.isFinite(statistic)
      ? studentTTwoSided(statistic, df)
      : 0;
  return { n, meanDiff: s.mean, stdDiff: s.std, statistic, df, pValue, ci: tInterval(d, confidence) };
}

/** A Wilcoxon signed-rank test of `treated − base` with SciPy's defaults (zero_method 'wilcox'). */
export interface WilcoxonTest {
  /** Number of pairs, zeros included. */
  n: number;
  /** min(R+, R−), SciPy's two-sided statistic. */
  statistic: number;
  pValue: number;
  /**
   * How the p-value was computed, as `scipy.stats.wilcoxon(method='auto')` decides: 'exact' for
   * n ≤ 50 without ties or zero differences, 'permutation' (all 2^n sign flips) for n ≤ 13 with
   * them, 'asymptotic' (normal, tie-corrected, no continuity correction) otherwise.
   */
  method: 'exact' | 'permutation' | 'asymptotic';
}

export function wilcoxonSignedRank(treated: readonly number[], base: readonly number[]): WilcoxonTest {
  const d = differences(treated, base);
  const n = d.length;
  const nonzero = d.filter((v) => v !== 0);
  const zeros = n - nonzero.length;
  const { ranks, tieCorrection, hasTies } = averageRanks(nonzero.map(Math.abs));
  let rPlus = 0;
  let rMinus = 0;
  for (let i = 0; i < nonzero.length; i++) {
    if (nonzero[i] > 0) rPlus += ranks[i];
    else rMinus += ranks[i];
  }
  const statistic = Math.min(rPlus, rMinus);
  const count = nonzero.length;
  let method: WilcoxonTest['method'];
  if (n <= 50 && !hasTies && zeros === 0) method = 'exact';
  else if (n <= 13) method = 'permutation';
  else method = 'asymptotic';
  let pValue: number;
  if (method === 'exact') {
    const counts = signedRankCounts(count);
    const total = 2 ** count;
    let cdf = 0;
    let sf = 0;
    for (let k = 0; k < counts.length; k++) {
      if (k <= Math.ceil(rPlus)) cdf += counts[k];
      if (k >= Math.floor(rPlus)) sf += counts[k];
    }
    pValue = Math.min(1, (2 * Math.min(sf, cdf)) / total);
  } else if (method === 'permutation') {
    // Every sign assignment of the non-zero differences (zeros never count towards R+), compared
    // with SciPy's relative tolerance of 100 ulp.
    const gamma = Math.abs(100 * Number.EPSILON * rPlus);
    let less = 0;
    let greater = 0;
    const total = 2 ** count;
    for (let mask = 0; mask < total; mask++) {
      let t = 0;
      for (let i = 0; i < count; i++) if (mask & (1 << i)) t += ranks[i];
      if (t <= rPlus + gamma) less++;
      if (t >= rPlus - gamma) greater++;
    }
    pValue = Math.min(1, Math.max(0, (2 * Math.min(less, greater)) / total));
  } else {
    const mean = (count * (count + 1)) / 4;
    const se = Math.sqrt((count * (count + 1) * (2 * count + 1) - tieCorrection / 2) / 24);
    const z = (rPlus - mean) / se;
    pValue = Math.min(1, 2 * normalSf(Math.abs(z)));
  }
  return { n, statistic, pValue, method };
}

/** The paired comparison the reports print: a t-test always, Wilcoxon from `wilcoxonFrom` pairs on. */
export interface PairedComparison {
  n: number;
  meanDiff: number;
  t: PairedTTest;
  wilcoxon: WilcoxonTest | null;
}

export function comparePaired(
  treated: readonly number[],
  base: readonly number[],
  options: { wilcoxonFrom?: number; confidence?: number } = {},
): PairedComparison {
  const t = pairedTTest(treated, base, options.confidence);
  const wilcoxon = t.n >= (options.wilcoxonFrom ?? 5) ? wilcoxonSignedRank(treated, base) : null;
  return { n: t.n, meanDiff: t.meanDiff, t, wilcoxon };
}

/** One run's value of a metric and the seed that pairs it with another arm's run. */
export interface SeededValue {
  seed: number;
  value: number;
}

/**
 * A paired comparison of two arms over the seeds both ran, in the form every report and JSON output
 * stores it: the t-test always, Wilcoxon from 5 pairs on, null where a statistic is undefined.
 */
export interface SeedPairedTest {
  /** Seeds both arms ran with a finite value. */
  n: number;
  /** Two-sided paired t-test p-value; null when undefined (n < 2, or every difference 0). */
  p_value: number | null;
  /** Wilcoxon signed-rank p-value with ≥ 5 pairs, else null. */
  wilcoxon_p: number | null;
  /** 95% t interval of the mean paired difference (treated − base); null when n < 2. */
  ci95: [number, number] | null;
}

/** `treated` against `base`, matched by seed whatever their order; seeds one arm lacks are skipped. */
export function pairedBySeed(treated: readonly SeededValue[], base: readonly SeededValue[]): SeedPairedTest {
  const t: number[] = [];
  const b: number[] = [];
  for (const r of treated) {
    const other = base.find((x) => x.seed === r.seed);
    if (!other || !Number.isFinite(other.value) || !Number.isFinite(r.value)) continue;
    t.push(r.value);
    b.push(other.value);
  }
  if (!t.length) return { n: 0, p_value: null, wilcoxon_p: null, ci95: null };
  const c = comparePaired(t, b);
  const finite = (x: number) => (Number.isFinite(x) ? x : null);
  return {
    n: c.n,
    p_value: finite(c.t.pValue),
    wilcoxon_p: c.wilcoxon ? finite(c.wilcoxon.pValue) : null,
    ci95: c.t.ci ? [c.t.ci.low, c.t.ci.high] : null,
  };
}

/** `p = 0.012` (paired t), with `, W p = 0.031` when Wilcoxon ran; '' for no comparison. */
export function formatPaired(p: SeedPairedTest | undefined): string {
  if (!p) return '';
  return `${formatPValue(p.p_value)}${p.wilcoxon_p === null ? '' : `, W ${formatPValue(p.wilcoxon_p)}`}`;
}

/** `p = 0.012` / `p < 1e-4` / `p = –` for a report cell. */
export function formatPValue(p: number | null | undefined): string {
  if (p === null || p === undefined || !Number.isFinite(p)) return 'p = –';
  if (p < 1e-4) return 'p < 1e-4';
  return `p = ${p < 0.001 ? p.toExponential(1) : p.toFixed(3)}`;
}

/** P(T ≤ t) for Student's t with `df` degrees of freedom. */
export function studentTCdf(t: number, df: number): number {
  if (Number.isNaN(t)) return Number.NaN;
  if (t === Number.POSITIVE_INFINITY) return 1;
  if (t === Number.NEGATIVE_INFINITY) return 0;
  const tail = 0.5 * regularizedBeta(df / (df + t * t), df / 2, 0.5);
  return t >= 0 ? 1 - tail : tail;
}

/** P(|T| ≥ |t|), computed without the cancellation of 1 − cdf. */
function studentTTwoSided(t: number, df: number): number {
  return regularizedBeta(df / (df + t * t), df / 2, 0.5);
}

/** The `p` quantile of Student's t (bisection to machine precision on the tail probability). */
export function studentTQuantile(p: number, df: number): number {
  if (!(p > 0 && p < 1) || !(df > 0)) return Number.NaN;
  if (p === 0.5) return 0;
  const tail = p < 0.5 ? p : 1 - p;
  // Find t > 0 with P(T ≥ t) = tail; P(T ≥ t) = I_{df/(df+t²)}(df/2, 1/2) / 2 decreases in t.
  let lo = 0;
  let hi = 1;
  while (studentTTwoSided(hi, df) / 2 > tail) hi *= 2;
  for (let i = 0; i < 200 && hi - lo > 1e-15 * hi; i++) {
    const mid = (lo + hi) / 2;
    if (studentTTwoSided(mid, df) / 2 > tail) lo = mid;
    else hi = mid;
  }
  const t = (lo + hi) / 2;
  return p < 0.5 ? -t : t;
}

/** P(Z ≥ z) for a standard normal: erfc(z/√2)/2 through the regularized incomplete gamma. */
export function normalSf(z: number): number {
  const x = (z * z) / 2;
  const q = 0.5 * regularizedGammaQ(0.5, x);
  return z >= 0 ? q : 1 - q;
}

function differences(treated: readonly number[], base: readonly number[]): number[] {
  if (treated.length !== base.length) {
    throw new PromaxError({
      code: 'SHAPE_MISMATCH',
      field: 'treated',
      message: `a paired test needs one treated value per base value, got ${treated.length} and ${base.length}`,
      fix: 'pair the runs by seed and pass only seeds present in both arms',
      details: { treated: treated.length, base: base.length },
    });
  }
  const d = treated.map((v, i) => v - base[i]);
  if (d.some((v) => !Number.isFinite(v))) {
    throw new PromaxError({
      code: 'NON_FINITE',
      field: 'treated',
      message: 'a paired test got a non-finite value',
      fix: 'drop failed runs (NaN metrics) from both arms before testing',
    });
  }
  return d;
}

function checkConfidence(c: number): void {
  if (!(c > 0 && c < 1)) {
    throw new PromaxError({
      code: 'INVALID_ARGUMENT',
      field: 'confidence',
      message: `confidence must lie in (0, 1), got ${c}`,
      fix: 'pass e.g. 0.95',
    });
  }
}

/** Average ranks (1-based) of `values`, the tie correction Σ(t³ − t) and whether any tie exists. */
function averageRanks(values: readonly number[]): {
  ranks: number[];
  tieCorrection: number;
  hasTies: boolean;
} {
  const order = values.map((_, i) => i).sort((a, b) => values[a] - values[b]);
  const ranks = new Array<number>(values.length);
  let tieCorrection = 0;
  let hasTies = false;
  for (let i = 0; i < order.length; ) {
    let j = i;
    while (j + 1 < order.length && values[order[j + 1]] === values[order[i]]) j++;
    const rank = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) ranks[order[k]] = rank;
    const t = j - i + 1;
    if (t > 1) hasTies = true;
    tieCorrection += t * t * t - t;
    i = j + 1;
  }
  return { ranks, tieCorrection, hasTies };
}

/** Number of sign assignments of ranks 1..n giving each rank sum R+ (exact, n ≤ 50 fits a double). */
function signedRankCounts(n: number): number[] {
  const max = (n * (n + 1)) / 2;
  const counts = new Array<number>(max + 1).fill(0);
  counts[0] = 1;
  for (let r = 1; r <= n; r++) {
    for (let s = (r * (r + 1)) / 2; s >= r; s--) counts[s] += counts[s - r];
  }
  return counts;
}

// Lanczos approximation (g = 607/128, 15 terms), relative error ~1e-15.
const LANCZOS_G = 607 / 128;
const LANCZOS = [
  0.9999999999999971, 57.15623566586292, -59.59796035547549, 14.136097974741746, -0.4919138160976202,
  0.00003399464998481189, 0.00004652362892704858, -0.00009837447530487956, 0.0001580887032249125,
  -0.00021026444172410488, 0.00021743961811521265, -0.0001643181065367639, 0.00008441822398385275,
  -0.000026190838401581408, 0.0000036899182659531625,
];

function logGamma(x: number): number {
  if (x < 0.5) return Math.log(Math.PI / Math.abs(Math.sin(Math.PI * x))) - logGamma(1 - x);
  const z = x - 1;
  let a = LANCZOS[0];
  const t = z + LANCZOS_G + 0.5;
  for (let i = 1; i < LANCZOS.length; i++) a += LANCZOS[i] / (z + i);
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(a);
}

/** I_x(a, b), the regularized incomplete beta function (Lentz's continued fraction). */
function regularizedBeta(x: number, a: number, b: number): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const front = Math.exp(logGamma(a + b) - logGamma(a) - logGamma(b) + a * Math.log(x) + b * Math.log1p(-x));
  if (x < (a + 1) / (a + b + 2)) return (front * betaFraction(x, a, b)) / a;
  return 1 - (front * betaFraction(1 - x, b, a)) / b;
}

function betaFraction(x: number, a: number, b: number): number {
  const tiny = 1e-300;
  let c = 1;
  let d = 1 - ((a + b) * x) / (a + 1);
  if (Math.abs(d) < tiny) d = tiny;
  d = 1 / d;
  let h = d;
  for (let m = 1; m <= 10000; m++) {
    const m2 = 2 * m;
    let aa = (m * (b - m) * x) / ((a + m2 - 1) * (a + m2));
    d = 1 + aa * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + aa / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    h *= d * c;
    aa = (-(a + m) * (a + b + m) * x) / ((a + m2) * (a + m2 + 1));
    d = 1 + aa * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + aa / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const delta = d * c;
    h *= delta;
    if (Math.abs(delta - 1) < 1e-16) break;
  }
  return h;
}

/** Q(a, x) = Γ(a, x)/Γ(a), the upper regularized incomplete gamma function. */
function regularizedGammaQ(a: number, x: number): number {
  if (x <= 0) return 1;
  const logFront = a * Math.log(x) - x - logGamma(a);
  if (x < a + 1) {
    let sum = 1 / a;
    let term = sum;
    for (let n = 1; n < 10000; n++) {
      term *= x / (a + n);
      sum += term;
      if (Math.abs(term) < Math.abs(sum) * 1e-17) break;
    }
    return 1 - sum * Math.exp(logFront);
  }
  const tiny = 1e-300;
  let b = x + 1 - a;
  let c = 1 / tiny;
  let d = 1 / b;
  let h = d;
  for (let i = 1; i < 10000; i++) {
    const an = -i * (i - a);
    b += 2;
    d = an * d + b;
    if (Math.abs(d) < tiny) d = tiny;
    c = b + an / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const delta = d * c;
    h *= delta;
    if (Math.abs(delta - 1) < 1e-16) break;
  }
  return Math.exp(logFront) * h;
}
