/**
 * Pure pooling kernels over row-major float32 buffers (no allocation when `out` is given).
 * The encoder's validating boundary lives in onnx-embedder.ts.
 */

/**
 * Mean of the hidden states of the tokens whose mask is non-zero:
 * out[b, :] = Σ_t mask[b,t]·h[b,t,:] / max(Σ_t mask[b,t], 1e-9). Sums run in float64.
 */
export function meanPoolImpl(
  hidden: Float32Array,
  mask: BigInt64Array | Int32Array | Uint8Array | Float32Array,
  batch: number,
  seq: number,
  dim: number,
  out: Float32Array = new Float32Array(batch * dim),
): Float32Array {
  const acc = new Float64Array(dim);
  for (let b = 0; b < batch; b++) {
    acc.fill(0);
    let count = 0;
    for (let t = 0; t < seq; t++) {
      const m = Number(mask[b * seq + t]);
      if (m === 0) continue;
      count += m;
      const base = (b * seq + t) * dim;
      for (let d = 0; d < dim; d++) acc[d] = (acc[d] as number) + m * (hidden[base + d] as number);
    }
    const denom = Math.max(count, 1e-9);
    for (let d = 0; d < dim; d++) out[b * dim + d] = (acc[d] as number) / denom;
  }
  return out;
}

/** Scales each row to unit L2 norm in place (rows of norm < 1e-12 are divided by 1e-12, as torch does). */
export function l2NormalizeRowsImpl(data: Float32Array, rows: number, dim: number): Float32Array {
  for (let r = 0; r < rows; r++) {
    let s = 0;
    const base = r * dim;
    for (let d = 0; d < dim; d++) {
      const v = data[base + d] as number;
      s += v * v;
    }
    const inv = 1 / Math.max(Math.sqrt(s), 1e-12);
    for (let d = 0; d < dim; d++) data[base + d] = (data[base + d] as number) * inv;
  }
  return data;
}
