/** Probabilities below this are clamped inside the log of the entropy (as the reference code). */
export const ENTROPY_CLAMP = 1e-12;

/** H = −Σ p log(max(p, 1e-12)) in float64 (zero entries contribute nothing). */
export function teacherEntropy(p: ArrayLike<number>): number {
  let h = 0;
  for (let i = 0; i < p.length; i++) {
    const v = p[i];
    if (v > 0) h -= v * Math.log(Math.max(v, ENTROPY_CLAMP));
  }
  return h;
}

/**
 * The confidence weight of a teacher row (method.md §4): w = clip(1 − H / log N, lo, hi), with N
 * the number of items (so a uniform row gets lo, a one-hot row gets hi).
 */
export function entropyWeight(
  entropy: number,
  numItems: number,
  clip: readonly [number, number] = [0.1, 1],
): number {
  const w = 1 - entropy / Math.log(numItems);
  return Math.min(clip[1], Math.max(clip[0], w));
}
