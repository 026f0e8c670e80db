import { type CsrMatrix, PromaxError } from '@promax/core';
import { invalidFile } from './files.js';

/** Stored values of a sparse matrix. */
export type Values = Float32Array | Float64Array;

/** What canonicalising a sparse matrix found: nothing here is an error. */
export interface SparseBuildReport {
  /** Entries stored in the source (before merging duplicates). */
  stored: number;
  /** Entries that repeated an earlier (row, col) and were merged into it. */
  duplicates: number;
  /** Entries whose (merged) value was 0 and were dropped. */
  zerosDropped: number;
  /** Kept entries whose value was not 1 (set to 1 when binarising). */
  nonBinary: number;
}

export interface BuildCsrOptions {
  /** Set every non-zero to 1 and store no values (the reference loader's `(m != 0)`). */
  binarize: boolean;
  /** File named in errors. */
  file: string;
}

function outOfRange(file: string, rows: number, cols: number, r: number, c: number, k: number): PromaxError {
  return new PromaxError({
    code: 'ID_OUT_OF_RANGE',
    message: `entry ${k} = (${r}, ${c}) lies outside the ${rows}×${cols} matrix`,
    file,
    fix: 'the matrix shape is smaller than its ids: fix the shape or the ids',
    details: { index: k, row: r, col: c, rows, cols },
  });
}

/**
 * Canonical CSR (rows sorted, unique columns) from coordinates, merging duplicates by summing
 * them as SciPy does. Two counting-sort passes (column, then stable by row): O(nnz + rows + cols),
 * no per-entry allocation.
 */
export function cooToCsr(
  rows: number,
  cols: number,
  row: Int32Array,
  col: Int32Array,
  data: Values | undefined,
  options: BuildCsrOptions,
): { matrix: CsrMatrix; report: SparseBuildReport } {
  const n = row.length;
  if (col.length !== n || (data && data.length !== n)) {
    throw invalidFile(
      options.file,
      `coordinate arrays differ in length: row ${n}, col ${col.length}${data ? `, data ${data.length}` : ''}`,
    );
  }
  for (let k = 0; k < n; k++) {
    const r = row[k];
    const c = col[k];
    if (r < 0 || r >= rows || c < 0 || c >= cols) throw outOfRange(options.file, rows, cols, r, c, k);
  }
  const colStart = new Int32Array(cols + 1);
  for (let k = 0; k < n; k++) colStart[col[k] + 1]++;
  for (let c = 0; c < cols; c++) colStart[c + 1] += colStart[c];
  const byCol = new Int32Array(n);
  for (let k = 0; k < n; k++) byCol[colStart[col[k]]++] = k;
  const indptrAll = new Int32Array(rows + 1);
  for (let k = 0; k < n; k++) indptrAll[row[k] + 1]++;
  for (let r = 0; r < rows; r++) indptrAll[r + 1] += indptrAll[r];
  const pos = indptrAll.slice(0, rows);
  const order = new Int32Array(n);
  for (let t = 0; t < n; t++) {
    const k = byCol[t];
    order[pos[row[k]]++] = k;
  }
  return mergeSorted(rows, cols, indptrAll, order, col, data, options);
}

/** Walks entries already sorted by (row, col) via `order`, merging duplicates and dropping zeros. */
function mergeSorted(
  rows: number,
  cols: number,
  indptrIn: Int32Array,
  order: Int32Array | null,
  colOf: Int32Array,
  data: Values | undefined,
  options: BuildCsrOptions,
): { matrix: CsrMatrix; report: SparseBuildReport } {
  const n = indptrIn[rows];
  const indptr = new Int32Array(rows + 1);
  const indices = new Int32Array(n);
  const values = options.binarize ? undefined : new Float32Array(n);
  let w = 0;
  let duplicates = 0;
  let zerosDropped = 0;
  let nonBinary = 0;
  for (let r = 0; r < rows; r++) {
    let t = indptrIn[r];
    const end = indptrIn[r + 1];
    while (t < end) {
      const k = order ? order[t] : t;
      const c = colOf[k];
      let v = data ? data[k] : 1;
      t++;
      while (t < end && colOf[order ? order[t] : t] === c) {
        duplicates++;
        if (data) v += data[order ? order[t] : t];
        t++;
      }
      if (v === 0) {
        zerosDropped++;
        continue;
      }
      if (v !== 1) nonBinary++;
      indices[w] = c;
      if (values) values[w] = v;
      w++;
    }
    indptr[r + 1] = w;
  }
  const allOnes = nonBinary === 0;
  return {
    matrix: {
      rows,
      cols,
      indptr,
      indices: w === n ? indices : indices.slice(0, w),
      data: values && !allOnes ? (w === n ? values : values.slice(0, w)) : undefined,
    },
    report: { stored: n, duplicates, zerosDropped, nonBinary },
  };
}

/**
 * Canonical CSR from CSR parts as stored on disk (SciPy does not guarantee sorted or unique
 * column indices). Validates the structure, then takes a fast path when rows are already
 * sorted and unique.
 */
export function csrPartsToCsr(
  rows: number,
  cols: number,
  indptr: Int32Array,
  indices: Int32Array,
  data: Values | undefined,
  options: BuildCsrOptions,
): { matrix: CsrMatrix; report: SparseBuildReport } {
  const { file } = options;
  if (indptr.length !== rows + 1) {
    throw invalidFile(file, `indptr has length ${indptr.length}, expected rows + 1 = ${rows + 1}`);
  }
  if (indptr[0] !== 0) throw invalidFile(file, `indptr[0] is ${indptr[0]}, expected 0`);
  const nnz = indptr[rows];
  if (nnz > indices.length || (data && nnz > data.length)) {
    throw invalidFile(
      file,
      `indptr says ${nnz} entries but indices has ${indices.length}${data ? ` and data ${data.length}` : ''}`,
    );
  }
  let sorted = true;
  for (let r = 0; r < rows; r++) {
    const s = indptr[r];
    const e = indptr[r + 1];
    if (e < s) throw invalidFile(file, `indptr decreases at row ${r} (${s} → ${e})`);
    for (let k = s; k < e; k++) {
      const c = indices[k];
      if (c < 0 || c >= cols) throw outOfRange(file, rows, cols, r, c, k);
      if (k > s && indices[k - 1] >= c) sorted = false;
    }
  }
  if (sorted) return mergeSorted(rows, cols, indptr, null, indices, data, options);
  const row = new Int32Array(nnz);
  for (let r = 0; r < rows; r++) row.fill(r, indptr[r], indptr[r + 1]);
  return cooToCsr(rows, cols, row, indices.subarray(0, nnz), data?.subarray(0, nnz), options);
}
