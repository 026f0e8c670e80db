import { extname } from 'node:path';
import { type CsrMatrix, type Matrix, type NdArray, PromaxError } from '@promax/core';
import { isStringArray, type NpyArray } from './dtype.js';
import { invalidFile, readFileBytes, writeFileAtomic } from './files.js';
import { encodeNpy, parseNpy } from './npy.js';
import { parseNpz } from './npz.js';
import { parsePickle } from './pickle.js';
import {
  denseToCsr,
  type LoadedSparse,
  type SparseReadOptions,
  scipySparsePartsFromNpz,
  sparsePartsFromPickle,
  sparsePartsToCsr,
} from './scipy-sparse.js';

type Kind = 'npz' | 'npy' | 'pickle';

const EXT: Record<string, Kind> = { '.npz': 'npz', '.npy': 'npy', '.pkl': 'pickle', '.pickle': 'pickle' };

/** The container format, by extension first and by magic bytes for other names. */
function kindOf(path: string, bytes: Uint8Array): Kind {
  const byExt = EXT[extname(path).toLowerCase()];
  if (byExt) return byExt;
  if (bytes[0] === 0x50 && bytes[1] === 0x4b) return 'npz';
  if (bytes[0] === 0x93 && bytes[1] === 0x4e) return 'npy';
  if (bytes[0] === 0x80) return 'pickle';
  throw new PromaxError({
    code: 'UNSUPPORTED_FORMAT',
    message: 'not an .npz, .npy or pickle file',
    file: path,
    fix: 'pass a scipy.sparse .npz, a NumPy .npy or an RLMRec .pkl file',
  });
}

function pickleBytes(bytes: Uint8Array, path: string): Uint8Array {
  if (bytes[0] !== 0x80) {
    throw invalidFile(
      path,
      'not a pickle of protocol 2–5 (those start with byte 0x80)',
      'pass the original .pkl file',
    );
  }
  return bytes;
}

/**
 * Reads an interaction matrix as canonical CSR with a report of what canonicalising found: a
 * scipy.sparse .npz (csr/csc/coo), a dense 0/1 .npy, or an RLMRec/ProRec pickle (scipy coo/csr
 * matrix or dense ndarray, restricted reader). By default values are binarised like the
 * reference (`value != 0 → 1`); duplicates are summed first, and both are counted in the report.
 */
export function readSparseMatrix(path: string, options: SparseReadOptions = {}): LoadedSparse {
  const bytes = readFileBytes(path);
  const kind = kindOf(path, bytes);
  if (kind === 'npy') return denseToCsr(parseNpy(bytes, path), path, options);
  if (kind === 'npz') {
    const arrays = parseNpz(bytes, path);
    if (arrays.has('format')) return sparsePartsToCsr(scipySparsePartsFromNpz(arrays, path), path, options);
    if (arrays.size === 1) return denseToCsr([...arrays.values()][0], path, options);
    throw invalidFile(
      path,
      `neither a scipy.sparse npz (no 'format' entry) nor a single dense array (keys: ${[...arrays.keys()].join(', ')})`,
      'save the matrix with scipy.sparse.save_npz',
    );
  }
  const value = parsePickle(pickleBytes(bytes, path), path);
  if (value && typeof value === 'object' && 'kind' in value) {
    if (value.kind === 'sparse') return sparsePartsToCsr(sparsePartsFromPickle(value), path, options);
    return denseToCsr(value.array, path, options);
  }
  throw invalidFile(
    path,
    'the pickle holds neither a scipy.sparse matrix nor a numpy array',
    'pass an RLMRec *_mat.pkl file',
  );
}

/**
 * Loads an interaction matrix (.npz scipy sparse, dense 0/1 .npy, or RLMRec .pkl) as canonical,
 * binarised CSR. `readSparseMatrix` also returns the report (duplicates, zeros, non-binary values).
 */
export function loadSparseMatrix(path: string, options: SparseReadOptions = {}): CsrMatrix {
  return readSparseMatrix(path, options).matrix;
}

export interface EmbeddingReadOptions {
  /** For an .npz with several arrays: which one to read. */
  key?: string;
}

/**
 * Loads an embedding table (rows = users or items) as a float32 `Matrix` from .npy, a pickled
 * ndarray (RLMRec `usr_emb_np.pkl`), or a single-array .npz. NaN/±Inf are refused with
 * 'NON_FINITE' naming the first offending row and column.
 */
export function loadEmbeddings(path: string, options: EmbeddingReadOptions = {}): Matrix {
  const bytes = readFileBytes(path);
  const kind = kindOf(path, bytes);
  let arr: NpyArray;
  if (kind === 'npy') arr = parseNpy(bytes, path);
  else if (kind === 'npz') {
    const arrays = parseNpz(bytes, path);
    const keys = [...arrays.keys()];
    const key = options.key ?? (keys.length === 1 ? keys[0] : undefined);
    const found = key === undefined ? undefined : arrays.get(key);
    if (!found) {
      throw new PromaxError({
        code: 'INVALID_ARGUMENT',
        message: `${options.key ? `no array '${options.key}'` : `${keys.length} arrays`} in the npz (keys: ${keys.join(', ') || 'none'})`,
        file: path,
        field: 'key',
        fixFor: {
          cli: `pass a .npy file, or an .npz holding exactly one array (this one has: ${keys.join(', ') || 'none'})`,
          library: 'pass { key } naming the embedding array',
        },
      });
    }
    arr = found;
  } else {
    const value = parsePickle(pickleBytes(bytes, path), path);
    if (!value || typeof value !== 'object' || !('kind' in value) || value.kind !== 'ndarray') {
      throw invalidFile(path, 'the pickle does not hold a numpy array', 'pass a pickled 2-D numpy array');
    }
    arr = value.array;
  }
  return toMatrix(arr, path);
}

/** A float32 matrix from a 2-D numeric array, refusing NaN/Inf. */
export function toMatrix(arr: NpyArray, file: string): Matrix {
  if (isStringArray(arr) || arr.shape.length !== 2 || arr.dtype === 'bool') {
    throw new PromaxError({
      code: 'SHAPE_MISMATCH',
      message: `expected a 2-D numeric embedding array, found ${arr.dtype} of shape (${arr.shape.join(', ')})`,
      file,
      fix: 'save the embeddings as a rows × dims float array',
    });
  }
  const [rows, cols] = arr.shape;
  const src = (arr as NdArray).data;
  let data: Float32Array;
  if (src instanceof Float32Array) data = src;
  else if (src instanceof BigInt64Array) data = Float32Array.from(src, (v) => Number(v));
  else data = Float32Array.from(src as ArrayLike<number>);
  assertFinite({ rows, cols, data }, file);
  return { rows, cols, data };
}

/** Throws 'NON_FINITE' naming the first NaN/Inf (row, column) and how many there are. */
export function assertFinite(m: Matrix, file?: string, what = 'embedding matrix'): void {
  const d = m.data;
  let first = -1;
  let count = 0;
  for (let k = 0; k < d.length; k++) {
    const v = d[k];
    if (v - v !== 0) {
      if (first < 0) first = k;
      count++;
    }
  }
  if (first < 0) return;
  const row = Math.floor(first / m.cols);
  const col = first - row * m.cols;
  throw new PromaxError({
    code: 'NON_FINITE',
    message: `${what} has ${count} non-finite value${count === 1 ? '' : 's'}; the first is ${d[first]} at row ${row}, column ${col}`,
    file,
    fix: 'recompute the embeddings (NaN/Inf usually means an upstream failure) or drop the bad rows',
    details: { row, col, count },
  });
}

/**
 * Writes a float32 matrix as .npy, atomically (a reader never sees half a file). Refuses NaN/±Inf
 * with 'NON_FINITE' rather than store embeddings nothing can rank with; filesystem faults become
 * named errors with the path (see `writeFileAtomic`).
 */
export function saveEmbeddings(path: string, m: Matrix): void {
  assertFinite(m, path);
  writeFileAtomic(path, encodeNpy({ dtype: 'float32', shape: [m.rows, m.cols], data: m.data }));
}
