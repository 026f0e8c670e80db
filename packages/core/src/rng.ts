/**
 * Seeded pseudo-random numbers: xoshiro128** (Blackman & Vigna, 2018), 32-bit state words,
 * seeded through SplitMix32 so that any 32-bit seed gives a well-mixed state.
 * Deterministic across platforms (only 32-bit integer arithmetic).
 */
export class Rng {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;
  private spareNormal: number | null = null;

  constructor(seed: number) {
    let x = seed >>> 0;
    const next = (): number => {
      x = (x + 0x9e3779b9) | 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.s0 = next();
    this.s1 = next();
    this.s2 = next();
    this.s3 = next();
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 1;
  }

  /** Uniform 32-bit unsigned integer. */
  nextUint32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5), 7), 9) >>> 0;
    const t = this.s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    return result;
  }

  /** Uniform float in [0, 1) with 53 random bits. */
  nextFloat(): number {
    const hi = this.nextUint32() >>> 5; // 27 bits
    const lo = this.nextUint32() >>> 6; // 26 bits
    return (hi * 67108864 + lo) / 9007199254740992;
  }

  /** Uniform integer in [0, n), unbiased (Lemire's rejection method). n ≤ 2^32. */
  nextInt(n: number): number {
    if (!(n > 0) || n > 4294967296 || !Number.isInteger(n)) {
      throw new RangeError(`Rng.nextInt: n must be an integer in [1, 2^32], got ${n}`);
    }
    // Lemire: the high word of the 64-bit product x·n is uniform once low words below
    // (2^32 − n) mod n are rejected. The product is split so every step is exact in doubles.
    const threshold = (4294967296 - n) % n;
    for (;;) {
      const x = this.nextUint32();
      const a = (x >>> 16) * n; // < 2^48
      const b = (x & 0xffff) * n; // < 2^48
      const c = (a % 65536) * 65536 + b; // < 2^49
      const low = c % 4294967296;
      if (low >= threshold) return Math.floor(a / 65536) + Math.floor(c / 4294967296);
    }
  }

  /** Standard normal deviate (Marsaglia polar method). */
  nextNormal(): number {
    if (this.spareNormal !== null) {
      const v = this.spareNormal;
      this.spareNormal = null;
      return v;
    }
    for (;;) {
      const u = 2 * this.nextFloat() - 1;
      const v = 2 * this.nextFloat() - 1;
      const s = u * u + v * v;
      if (s > 0 && s < 1) {
        const f = Math.sqrt((-2 * Math.log(s)) / s);
        this.spareNormal = v * f;
        return u * f;
      }
    }
  }

  /** In-place Fisher–Yates shuffle. */
  shuffle<T extends { length: number; [i: number]: unknown }>(a: T): T {
    for (let i = a.length - 1; i > 0; i--) {
      const j = this.nextInt(i + 1);
      const t = a[i];
      a[i] = a[j];
      a[j] = t;
    }
    return a;
  }

  /** An independent generator derived from this one's stream (for sub-tasks). */
  fork(): Rng {
    return new Rng(this.nextUint32());
  }

  /** Snapshot of the internal state, for checkpoints. */
  getState(): [number, number, number, number] {
    return [this.s0 >>> 0, this.s1 >>> 0, this.s2 >>> 0, this.s3 >>> 0];
  }

  setState(state: readonly [number, number, number, number]): void {
    [this.s0, this.s1, this.s2, this.s3] = state.map((v) => v | 0) as [number, number, number, number];
    this.spareNormal = null;
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

export function createRng(seed: number): Rng {
  return new Rng(seed);
}
