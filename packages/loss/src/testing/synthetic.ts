import { type Matrix, Rng } from '@promax/core';

/**
 * SYNTHETIC profile-like embeddings (not real profiles): rows = μ + Σ_j z_j·σ_j·r_j + noise with
 * a common offset μ (text embeddings share a large mean direction), `rank` latent directions r_j
 * with power-law scales σ_j = j^(−decay), isotropic noise, and clusters (`clusters` > 0 adds a
 * per-cluster centre so cosine neighbourhoods exist).
 */
export function syntheticProfiles(options: {
  rows: number;
  dim: number;
  seed: number;
  rank?: number;
  decay?: number;
  noise?: number;
  offset?: number;
  clusters?: number;
}): Matrix {
  const { rows, dim, seed } = options;
  const rank = Math.min(options.rank ?? 64, dim);
  const decay = options.decay ?? 0.7;
  const noise = options.noise ?? 0.02;
  const offset = options.offset ?? 0.5;
  const clusters = options.clusters ?? 0;
  const rng = new Rng(seed);
  const basis = Float32Array.from({ length: rank * dim }, () => rng.nextNormal() / Math.sqrt(dim));
  const mean = Float32Array.from({ length: dim }, () => (offset * rng.nextNormal()) / Math.sqrt(dim));
  const centres = Float32Array.from({ length: clusters * rank }, () => rng.nextNormal());
  const scales = Float32Array.from({ length: rank }, (_, j) => (j + 1) ** -decay);
  const data = new Float32Array(rows * dim);
  const z = new Float64Array(rank);
  for (let r = 0; r < rows; r++) {
    const c = clusters > 0 ? rng.nextInt(clusters) : -1;
    for (let j = 0; j < rank; j++)
      z[j] = scales[j] * (rng.nextNormal() + (c >= 0 ? centres[c * rank + j] : 0));
    const o = r * dim;
    for (let i = 0; i < dim; i++) data[o + i] = mean[i] + noise * rng.nextNormal();
    for (let j = 0; j < rank; j++) {
      const zj = z[j];
      const b = j * dim;
      for (let i = 0; i < dim; i++) data[o + i] += zj * basis[b + i];
    }
  }
  return { rows, cols: dim, data };
}
