import { PromaxError } from '@promax/core';
import { encodeNpy, parseNpy, parseNpyHeader } from '@promax/data';

/**
 * Checkpoint tensors as `.npy`: float32, C order, through @promax/data's codec, with the
 * stricter checks a checkpoint needs (the exact dtype and order saveCheckpoint writes).
 */
export function encodeNpyFloat32(shape: readonly number[], data: Float32Array): Uint8Array {
  return encodeNpy({ dtype: 'float32', shape: [...shape], data });
}

/** Decodes a `.npy` holding little-endian float32 in C order; errors name `file`. */
export function decodeNpyFloat32(bytes: Uint8Array, file: string): { shape: number[]; data: Float32Array } {
  const fail = (message: string): never => {
    throw new PromaxError({
      code: 'INVALID_FILE',
      file,
      message,
      fix: 'rewrite the checkpoint with saveCheckpoint (float32, C order .npy)',
    });
  };
  const header = parseNpyHeader(bytes, file);
  if (header.descr !== '<f4') fail(`dtype ${header.descr} found, expected float32 '<f4'`);
  if (header.fortranOrder) fail('Fortran-ordered array found, expected C order');
  const arr = parseNpy(bytes, file);
  return { shape: [...arr.shape], data: arr.data as Float32Array };
}
