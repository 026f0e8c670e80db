import { type CsrMatrix, csrNnz, csrTranspose, type NdArray, PromaxError } from '@promax/core';
import { isStringArray, type NpyArray, toFloat64, toInt32 } from './dtype.js';
import { invalidFile, writeFileAtomic } from './files.js';
import { encodeNpz, type NpzArrays } from './npz.js';
import type { PickledSparse } from './pickle.js';
import { cooToCsr, csrPartsToCsr, type SparseBuildReport, type Values } from './sparse-build.js';

/** How a sparse matrix was stored and what canonicalising it found. */
export interface SparseLoadReport extends SparseBuildReport {
  /** Storage format of the source. */
  format: 'csr' | 'csc' | 'coo' | 'dense';
  /** dtype of the stored values. */
  sourceDtype: string;
  /** Whether values were binarised (`value != 0 → 1`). */
  binarized: boolean;
}

export interface LoadedSparse {
  matrix: CsrMatrix;
  report: SparseLoadReport;
}

export interface SparseReadOptions {
  /**
   * Set every non-zero to 1 and keep no values, like the reference loaders'
   * `(m != 0).astype(float32)` (default true). false keeps the (summed) values as float32.
   */
  binarize?: boolean;
}

/** The raw parts of a sparse matrix in any of SciPy's storage formats. */
export interface SparseParts {
  format: 'csr' | 'csc' | 'coo';
  shape: readonly [number, number];
  data: NdArray;
  indices?: NdArray;
  indptr?: NdArray;
  row?: NdArray;
  col?: NdArray;
}

function values(a: NdArray, file: string): Values {
  const d = a.data;
  if (d instanceof Float32Array || d instanceof Float64Array) return d;
  return toFloat64(a, file, 'data');
}

/** Canonical CSR from SciPy sparse parts (csr, csc or coo). Duplicates are summed like SciPy. */
export function sparsePartsToCsr(
  parts: SparseParts,
  file: string,
  options: SparseReadOptions = {},
): LoadedSparse {
  const binarize = options.binarize ?? true;
  const [rows, cols] = parts.shape;
  const data = values(parts.data, file);
  const need = (a: NdArray | undefined, key: string): NdArray => {
    if (!a) throw invalidFile(file, `${parts.format} matrix lacks '${key}'`);
    return a;
  };
  let built: ReturnType<typeof cooToCsr>;
  if (parts.format === 'coo') {
    built = cooToCsr(
      rows,
      cols,
      toInt32(need(parts.row, 'row'), file, 'row'),
      toInt32(need(parts.col, 'col'), file, 'col'),
      data,
      { binarize, file },
    );
  } else {
    const indptr = toInt32(need(parts.indptr, 'indptr'), file, 'indptr');
    const indices = toInt32(need(parts.indices, 'indices'), file, 'indices');
    if (parts.format === 'csr') built = csrPartsToCsr(rows, cols, indptr, indices, data, { binarize, file });
    else {
      const t = csrPartsToCsr(cols, rows, indptr, indices, data, { binarize, file });
      built = { matrix: csrTranspose(t.matrix), report: t.report };
    }
  }
  return {
    matrix: built.matrix,
    report: { ...built.report, format: parts.format, sourceDtype: parts.data.dtype, binarized: binarize },
  };
}

/** True when an npz holds a scipy.sparse matrix (it has a `format` entry). */
export function isScipySparseNpz(arrays: NpzArrays): boolean {
  return arrays.has('format');
}

/** Reads the arrays of a `scipy.sparse.save_npz` archive (csr, csc or coo) as sparse parts. */
export function scipySparsePartsFromNpz(arrays: NpzArrays, file: string): SparseParts {
  const fmtArr = arrays.get('format');
  if (!fmtArr || !isStringArray(fmtArr) || fmtArr.data.length !== 1) {
    throw invalidFile(
      file,
      "not a scipy.sparse npz: no 0-d 'format' string",
      'save it with scipy.sparse.save_npz',
    );
  }
  const format = fmtArr.data[0];
  if (format !== 'csr' && format !== 'csc' && format !== 'coo') {
    throw new PromaxError({
      code: 'UNSUPPORTED_FORMAT',
      message: `scipy.sparse format '${format}' is not supported (csr, csc and coo are)`,
      file,
      fix: 'convert it with m.tocsr() before scipy.sparse.save_npz',
    });
  }
  const numeric = (key: string): NdArray | undefined => {
    const a = arrays.get(key);
    if (a && isStringArray(a)) throw invalidFile(file, `'${key}' is not numeric`);
    return a as NdArray | undefined;
  };
  const shapeArr = numeric('shape');
  if (shapeArr?.data.length !== 2) throw invalidFile(file, "scipy.sparse npz lacks a 2-element 'shape'");
  const shape = toFloat64(shapeArr, file, 'shape');
  if (!(shape[0] >= 0 && shape[1] >= 0 && shape[0] < 2 ** 31 && shape[1] < 2 ** 31)) {
    throw invalidFile(file, `invalid shape (${shape[0]}, ${shape[1]})`);
  }
  const data = numeric('data');
  if (!data) throw invalidFile(file, "scipy.sparse npz lacks 'data'");
  return {
    format,
    shape: [shape[0], shape[1]],
    data,
    indices: numeric('indices'),
    indptr: numeric('indptr'),
    row: numeric('row'),
    col: numeric('col'),
  };
}

/** Sparse parts of a pickled scipy matrix. */
export function sparsePartsFromPickle(s: PickledSparse): SparseParts {
  return {
    format: s.format,
    shape: s.shape,
    data: s.data,
    indices: s.indices,
    indptr: s.indptr,
    row: s.row,
    col: s.col,
  };
}

/** Canonical CSR of a dense 2-D array: every non-zero becomes an entry. */
export function denseToCsr(arr: NpyArray, file: string, options: SparseReadOptions = {}): LoadedSparse {
  if (isStringArray(arr) || arr.shape.length !== 2) {
    throw new PromaxError({
      code: 'SHAPE_MISMATCH',
      message: `expected a 2-D numeric array for an interaction matrix, found ${arr.dtype} of shape (${arr.shape.join(', ')})`,
      file,
      fix: 'save a users × items matrix',
    });
  }
  const binarize = options.binarize ?? true;
  const [rows, cols] = arr.shape;
  const v = values(arr as NdArray, file);
  let nnz = 0;
  for (let k = 0; k < v.length; k++) if (v[k] !== 0) nnz++;
  const indptr = new Int32Array(rows + 1);
  const indices = new Int32Array(nnz);
  const data = new Float32Array(nnz);
  let w = 0;
  let nonBinary = 0;
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      const x = v[r * cols + c];
      if (x === 0) continue;
      if (x !== 1) nonBinary++;
      indices[w] = c;
      data[w++] = x;
    }
    indptr[r + 1] = w;
  }
  return {
    matrix: { rows, cols, indptr, indices, data: binarize || nonBinary === 0 ? undefined : data },
    report: {
      format: 'dense',
      sourceDtype: arr.dtype,
      binarized: binarize,
      stored: nnz,
      duplicates: 0,
      zerosDropped: 0,
      nonBinary,
    },
  };
}

/**
 * The arrays `scipy.sparse.save_npz` writes for a csr_matrix: indices, indptr, format (b'csr'),
 * shape (int64) and data (float32; ones for a binary matrix).
 */
export function scipyCsrArrays(m: CsrMatrix): Map<string, NpyArray> {
  const nnz = csrNnz(m);
  const data = m.data ? m.data.subarray(0, nnz) : new Float32Array(nnz).fill(1);
  return new Map<string, NpyArray>([
    ['indices', { dtype: 'int32', shape: [nnz], data: m.indices.subarray(0, nnz) }],
    ['indptr', { dtype: 'int32', shape: [m.rows + 1], data: m.indptr }],
    ['format', { dtype: 'bytes', shape: [], data: ['csr'] }],
    ['shape', { dtype: 'int64', shape: [2], data: BigInt64Array.from([BigInt(m.rows), BigInt(m.cols)]) }],
    ['data', { dtype: 'float32', shape: [nnz], data }],
  ]);
}

/** Encodes a CSR matrix as a `scipy.sparse.load_npz`-readable archive. */
export function encodeScipyCsrNpz(m: CsrMatrix, options: { compress?: boolean } = {}): Uint8Array {
  return encodeNpz(scipyCsrArrays(m), { compress: options.compress ?? true });
}

/** Writes a CSR matrix as a `scipy.sparse.load_npz`-readable .npz (compressed by default). */
export function saveSparseMatrix(path: string, m: CsrMatrix, options: { compress?: boolean } = {}): void {
  writeFileAtomic(path, encodeScipyCsrNpz(m, options));
}
