import type { Rng } from '@promax/core';

const TWO_POW_MINUS_24 = 2 ** -24;

/**
 * Fills `out` with U(0, 1) float32 values. Perturbations need millions of values per step
 * (2 views × L layers × (users + items) × d), so a local xoshiro128** stream seeded with four
 * words of `rng` runs inline (~3 ns per value) instead of one `rng` call per value: the result is
 * still a deterministic function of the trainer's seeded Rng.
 */
export function fillUniform(out: Float32Array, rng: Rng): void {
  let s0 = rng.nextUint32() | 0;
  let s1 = rng.nextUint32() | 0;
  let s2 = rng.nextUint32() | 0;
  let s3 = rng.nextUint32() | 0;
  if ((s0 | s1 | s2 | s3) === 0) s0 = 1;
  for (let i = 0; i < out.length; i++) {
    const x = Math.imul(s1, 5);
    const r = Math.imul((x << 7) | (x >>> 25), 9) >>> 0;
    const t = s1 << 9;
    s2 ^= s0;
    s3 ^= s1;
    s1 ^= s2;
    s0 ^= s3;
    s2 ^= t;
    s3 = (s3 << 11) | (s3 >>> 21);
    // 24 random bits: every value is exactly representable in float32 and lies in [0, 1).
    out[i] = (r >>> 8) * TWO_POW_MINUS_24;
  }
}
