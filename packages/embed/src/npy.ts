import { PromaxError } from '@promax/core';
import { encodeNpy, parseNpy } from '@promax/data';

/** Encodes a C-order float32 array as NumPy `.npy` (the @promax/data codec). */
export function encodeNpyFloat32(data: Float32Array, shape: readonly number[]): Uint8Array {
  return encodeNpy({ dtype: 'float32', shape: [...shape], data });
}

export interface NpyFloat32 {
  shape: number[];
  data: Float32Array;
}

/** Decodes a `.npy` holding float32 (any byte order / memory order is converted to C order). */
export function decodeNpyFloat32(bytes: Uint8Array, file?: string): NpyFloat32 {
  const arr = parseNpy(bytes, file);
  if (arr.dtype !== 'float32') {
    throw new PromaxError({
      code: 'INVALID_FILE',
      file,
      message: `expected a float32 .npy, found ${arr.dtype}`,
      fix: 'delete the cache folder so the embeddings are computed again',
    });
  }
  return { shape: [...arr.shape], data: arr.data as Float32Array };
}
