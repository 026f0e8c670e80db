import type { NpyArray } from './dtype.js';
import { readFileBytes, writeFileAtomic } from './files.js';
import { encodeNpy, parseNpy } from './npy.js';
import { readZip, writeZip } from './zip.js';

/** The arrays of an .npz archive by key (member name without `.npy`), in archive order. */
export type NpzArrays = Map<string, NpyArray>;

/**
 * Decodes an .npz archive (numpy.savez / savez_compressed / scipy.sparse.save_npz) held in
 * memory. Members whose names do not end in `.npy` are ignored, as NumPy would not load them
 * as arrays either.
 */
export function parseNpz(bytes: Uint8Array, file = '<npz>'): NpzArrays {
  const out: NpzArrays = new Map();
  for (const entry of readZip(bytes, { file })) {
    if (!entry.name.endsWith('.npy')) continue;
    const key = entry.name.slice(0, -4);
    out.set(key, parseNpy(entry.read(), `${file}[${key}]`));
  }
  return out;
}

/** Reads an .npz file. */
export function readNpz(path: string): NpzArrays {
  return parseNpz(readFileBytes(path), path);
}

export interface EncodeNpzOptions {
  /** true (default): deflate like numpy.savez_compressed; false: stored like numpy.savez. */
  compress?: boolean;
  /** Write zip64 records even for small archives (numpy reads both). */
  forceZip64?: boolean;
}

/** Encodes arrays as an .npz archive. */
export function encodeNpz(
  arrays: ReadonlyMap<string, NpyArray> | Readonly<Record<string, NpyArray>>,
  options: EncodeNpzOptions = {},
): Uint8Array {
  const entries = arrays instanceof Map ? [...arrays.entries()] : Object.entries(arrays);
  return writeZip(
    entries.map(([key, arr]) => ({ name: `${key}.npy`, data: encodeNpy(arr) })),
    { compression: options.compress === false ? 'stored' : 'deflate', forceZip64: options.forceZip64 },
  );
}

/** Writes an .npz file. */
export function writeNpz(
  path: string,
  arrays: ReadonlyMap<string, NpyArray> | Readonly<Record<string, NpyArray>>,
  options: EncodeNpzOptions = {},
): void {
  writeFileAtomic(path, encodeNpz(arrays, options));
}
