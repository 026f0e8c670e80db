import { PromaxError } from './errors.js';

/**
 * A compressed-sparse-row matrix. Row r's column indices are
 * `indices[indptr[r] .. indptr[r+1])`, sorted ascending and unique when `canonical`.
 * `data` is omitted for binary (implicit-feedback) matrices: every stored entry is 1.
 */
export interface CsrMatrix {
  readonly rows: number;
  readonly cols: number;
  readonly indptr: Int32Array;
  readonly indices: Int32Array;
  readonly data?: Float32Array;
}

export function csrNnz(m: CsrMatrix): number {
  return m.indptr[m.rows] ?? 0;
}

export function csrRow(m: CsrMatrix, r: number): Int32Array {
  return m.indices.subarray(m.indptr[r], m.indptr[r + 1]);
}

export function csrRowDegrees(m: CsrMatrix): Int32Array {
  const out = new Int32Array(m.rows);
  for (let r = 0; r < m.rows; r++) out[r] = m.indptr[r + 1] - m.indptr[r];
  return out;
}

export function csrColDegrees(m: CsrMatrix): Int32Array {
  const out = new Int32Array(m.cols);
  const nnz = csrNnz(m);
  for (let k = 0; k < nnz; k++) out[m.indices[k]]++;
  return out;
}

/** Binary search in a sorted row: does (r, c) exist? */
export function csrHas(m: CsrMatrix, r: number, c: number): boolean {
  let lo = m.indptr[r];
  let hi = m.indptr[r + 1] - 1;
  const idx = m.indices;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const v = idx[mid];
    if (v === c) return true;
    if (v < c) lo = mid + 1;
    else hi = mid - 1;
  }
  return false;
}

export interface CooInput {
  rows: number;
  cols: number;
  row: ArrayLike<number>;
  col: ArrayLike<number>;
  /** Values; omitted means all ones. */
  data?: ArrayLike<number>;
}

export interface CsrFromCooOptions {
  /** How duplicate (row, col) entries combine: 'sum' (SciPy's behaviour) or 'max' / 'binary'. */
  duplicates?: 'sum' | 'max' | 'binary';
  /** Drop explicit zeros (default true). */
  dropZeros?: boolean;
  /** Store no data array when every kept value is 1 (default true). */
  binaryWhenOnes?: boolean;
}

export interface CsrBuildReport {
  duplicates: number;
  zerosDropped: number;
}

/** Builds a canonical CSR (sorted, unique column indices) from coordinates. O(nnz + rows). */
export function csrFromCoo(
  input: CooInput,
  options: CsrFromCooOptions = {},
): { matrix: CsrMatrix; report: CsrBuildReport } {
  const { rows, cols, row, col, data } = input;
  const mode = options.duplicates ?? 'sum';
  const dropZeros = options.dropZeros ?? true;
  const n = row.length;
  if (col.length !== n || (data && data.length !== n)) {
    throw new PromaxError({
      code: 'SHAPE_MISMATCH',
      message: `COO arrays differ in length: row ${n}, col ${col.length}${data ? `, data ${data.length}` : ''}`,
      fix: 'pass row, col (and data) arrays of equal length',
    });
  }
  const counts = new Int32Array(rows + 1);
  for (let k = 0; k < n; k++) {
    const r = row[k];
    const c = col[k];
    if (!(r >= 0 && r < rows && Number.isInteger(r)) || !(c >= 0 && c < cols && Number.isInteger(c))) {
      throw new PromaxError({
        code: 'ID_OUT_OF_RANGE',
        message: `entry ${k} = (${r}, ${c}) lies outside the ${rows}×${cols} matrix`,
        fix: 'check the matrix shape and the ids',
        details: { index: k, row: r, col: c, rows, cols },
      });
    }
    counts[r + 1]++;
  }
  for (let r = 0; r < rows; r++) counts[r + 1] += counts[r];
  const pos = counts.slice(0, rows);
  const idx = new Int32Array(n);
  const val = new Float64Array(n);
  for (let k = 0; k < n; k++) {
    const p = pos[row[k]]++;
    idx[p] = col[k];
    val[p] = data ? data[k] : 1;
  }
  // sort each row by column (insertion sort for short rows, else index sort)
  const outIndptr = new Int32Array(rows + 1);
  const outIdx = new Int32Array(n);
  const outVal = new Float32Array(n);
  let w = 0;
  let duplicates = 0;
  let zerosDropped = 0;
  let allOnes = true;
  for (let r = 0; r < rows; r++) {
    const s = counts[r];
    const e = counts[r + 1];
    sortRow(idx, val, s, e);
    let k = s;
    while (k < e) {
      const c = idx[k];
      let v = val[k];
      let j = k + 1;
      while (j < e && idx[j] === c) {
        duplicates++;
        if (mode === 'sum') v += val[j];
        else if (mode === 'max') v = Math.max(v, val[j]);
        j++;
      }
      if (mode === 'binary') v = v !== 0 ? 1 : 0;
      if (!(dropZeros && v === 0)) {
        outIdx[w] = c;
        outVal[w] = v;
        if (v !== 1) allOnes = false;
        w++;
      } else zerosDropped++;
      k = j;
    }
    outIndptr[r + 1] = w;
  }
  const binary = allOnes && (options.binaryWhenOnes ?? true);
  return {
    matrix: {
      rows,
      cols,
      indptr: outIndptr,
      indices: outIdx.slice(0, w),
      data: binary ? undefined : outVal.slice(0, w),
    },
    report: { duplicates, zerosDropped },
  };
}

function sortRow(idx: Int32Array, val: Float64Array, s: number, e: number): void {
  if (e - s < 32) {
    for (let i = s + 1; i < e; i++) {
      const c = idx[i];
      const v = val[i];
      let j = i - 1;
      while (j >= s && idx[j] > c) {
        idx[j + 1] = idx[j];
        val[j + 1] = val[j];
        j--;
      }
      idx[j + 1] = c;
      val[j + 1] = v;
    }
    return;
  }
  const order = Array.from({ length: e - s }, (_, i) => s + i).sort((a, b) => idx[a] - idx[b]);
  const ci = order.map((o) => idx[o]);
  const cv = order.map((o) => val[o]);
  for (let i = 0; i < ci.length; i++) {
    idx[s + i] = ci[i];
    val[s + i] = cv[i];
  }
}

/** Transpose (CSR of the transposed matrix, i.e. CSC of the input), keeping sorted rows. */
export function csrTranspose(m: CsrMatrix): CsrMatrix {
  const nnz = csrNnz(m);
  const indptr = new Int32Array(m.cols + 1);
  for (let k = 0; k < nnz; k++) indptr[m.indices[k] + 1]++;
  for (let c = 0; c < m.cols; c++) indptr[c + 1] += indptr[c];
  const pos = indptr.slice(0, m.cols);
  const indices = new Int32Array(nnz);
  const data = m.data ? new Float32Array(nnz) : undefined;
  for (let r = 0; r < m.rows; r++) {
    for (let k = m.indptr[r]; k < m.indptr[r + 1]; k++) {
      const p = pos[m.indices[k]]++;
      indices[p] = r;
      if (data && m.data) data[p] = m.data[k];
    }
  }
  return { rows: m.cols, cols: m.rows, indptr, indices, data };
}

/** Expands CSR to parallel (row, col) arrays. */
export function csrToCoo(m: CsrMatrix): { row: Int32Array; col: Int32Array } {
  const nnz = csrNnz(m);
  const row = new Int32Array(nnz);
  for (let r = 0; r < m.rows; r++) row.fill(r, m.indptr[r], m.indptr[r + 1]);
  return { row, col: m.indices.slice(0, nnz) };
}

/** Checks the structural invariants of a CSR matrix; throws a PromaxError naming the problem. */
export function assertCsr(m: CsrMatrix, what = 'matrix'): void {
  const fail = (message: string): never => {
    throw new PromaxError({ code: 'INVALID_DATA', message: `${what}: ${message}`, field: what });
  };
  if (m.indptr.length !== m.rows + 1)
    fail(`indptr has length ${m.indptr.length}, expected rows+1 = ${m.rows + 1}`);
  if (m.indptr[0] !== 0) fail('indptr[0] must be 0');
  const nnz = m.indptr[m.rows];
  if (m.indices.length < nnz) fail(`indices has length ${m.indices.length} < nnz ${nnz}`);
  if (m.data && m.data.length < nnz) fail(`data has length ${m.data.length} < nnz ${nnz}`);
  for (let r = 0; r < m.rows; r++) {
    if (m.indptr[r + 1] < m.indptr[r]) fail(`indptr decreases at row ${r}`);
    for (let k = m.indptr[r]; k < m.indptr[r + 1]; k++) {
      const c = m.indices[k];
      if (c < 0 || c >= m.cols) fail(`column ${c} at row ${r} is outside [0, ${m.cols})`);
      if (k > m.indptr[r] && m.indices[k - 1] >= c) fail(`row ${r} has unsorted or duplicate columns`);
    }
  }
}
