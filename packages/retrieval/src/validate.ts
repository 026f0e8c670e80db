import { type CsrMatrix, type Matrix, PromaxError } from '@promax/core';

/**
 * Checks a dense matrix at a public boundary: integer shape, data length, and finite values.
 * The first non-finite value is reported with its matrix name, row and column.
 */
export function checkMatrix(m: Matrix, name: string, options: { minRows?: number } = {}): void {
  if (!m || !(m.data instanceof Float32Array)) {
    throw new PromaxError({
      code: 'INVALID_ARGUMENT',
      field: name,
      message: `${name} must be a Matrix { rows, cols, data: Float32Array }`,
      fix: 'pass a row-major Float32Array with its rows and cols',
    });
  }
  const { rows, cols, data } = m;
  if (!Number.isInteger(rows) || !Number.isInteger(cols) || rows < 0 || cols < 1) {
    throw new PromaxError({
      code: 'SHAPE_MISMATCH',
      field: name,
      message: `${name} has shape ${rows}×${cols}; rows must be a non-negative integer and cols a positive one`,
      fix: 'pass integer rows and cols ≥ 1',
    });
  }
  if (data.length !== rows * cols) {
    throw new PromaxError({
      code: 'SHAPE_MISMATCH',
      field: name,
      message: `${name} holds ${data.length} values, expected rows×cols = ${rows}×${cols} = ${rows * cols}`,
      fix: 'pass a row-major Float32Array of rows*cols values',
      details: { rows, cols, length: data.length },
    });
  }
  if (options.minRows !== undefined && rows < options.minRows) {
    throw new PromaxError({
      code: 'SHAPE_MISMATCH',
      field: name,
      message: `${name} has ${rows} rows, at least ${options.minRows} needed`,
      fix: `pass at least ${options.minRows} row(s)`,
    });
  }
  for (let p = 0; p < data.length; p++) {
    if (!Number.isFinite(data[p])) {
      const row = Math.floor(p / cols);
      const col = p % cols;
      throw new PromaxError({
        code: 'NON_FINITE',
        field: name,
        message: `${name} row ${row}, column ${col} is ${data[p]}`,
        fix: `replace non-finite values in ${name} (row ${row}) before retrieval`,
        details: { row, col, value: String(data[p]) },
      });
    }
  }
}

/** Checks a CSR matrix's shape and structure (monotone indptr, in-range indices). Sortedness is not required. */
export function checkCsr(
  m: CsrMatrix,
  name: string,
  rows: number,
  cols: number,
  what = `${rows}×${cols}`,
): void {
  if (!m || !(m.indptr instanceof Int32Array) || !(m.indices instanceof Int32Array)) {
    throw new PromaxError({
      code: 'INVALID_ARGUMENT',
      field: name,
      message: `${name} must be a CsrMatrix { rows, cols, indptr: Int32Array, indices: Int32Array }`,
      fix: 'build it with csrFromCoo from @promax/core',
    });
  }
  if (m.rows !== rows || m.cols !== cols) {
    throw new PromaxError({
      code: 'SHAPE_MISMATCH',
      field: name,
      message: `${name} is ${m.rows}×${m.cols}, expected ${what}`,
      fix: `pass a ${rows}×${cols} matrix`,
      details: { rows: m.rows, cols: m.cols, expectedRows: rows, expectedCols: cols },
    });
  }
  if (m.indptr.length !== rows + 1 || m.indptr[0] !== 0) {
    throw new PromaxError({
      code: 'INVALID_DATA',
      field: name,
      message: `${name} has an indptr of length ${m.indptr.length} starting at ${m.indptr[0]}; expected length ${rows + 1} starting at 0`,
      fix: 'build it with csrFromCoo from @promax/core',
    });
  }
  for (let r = 0; r < rows; r++) {
    const s = m.indptr[r];
    const e = m.indptr[r + 1];
    if (e < s || e > m.indices.length) {
      throw new PromaxError({
        code: 'INVALID_DATA',
        field: name,
        message: `${name} indptr is invalid at row ${r} (${s} → ${e}, ${m.indices.length} indices)`,
        fix: 'build it with csrFromCoo from @promax/core',
      });
    }
    for (let p = s; p < e; p++) {
      const c = m.indices[p];
      if (c < 0 || c >= cols) {
        throw new PromaxError({
          code: 'ID_OUT_OF_RANGE',
          field: name,
          message: `${name} row ${r} holds column ${c}, outside [0, ${cols})`,
          fix: 'check the ids against the corpus size',
          details: { row: r, col: c, cols },
        });
      }
    }
  }
}

export function checkPositiveInt(value: number, name: string, fix = `pass an integer ≥ 1 as ${name}`): void {
  if (!Number.isInteger(value) || value < 1) {
    throw new PromaxError({
      code: 'INVALID_ARGUMENT',
      field: name,
      message: `${name} must be an integer ≥ 1, got ${value}`,
      fix,
    });
  }
}

export function checkNonNegativeInt(value: number, name: string): void {
  if (!Number.isInteger(value) || value < 0) {
    throw new PromaxError({
      code: 'INVALID_ARGUMENT',
      field: name,
      message: `${name} must be an integer ≥ 0, got ${value}`,
      fix: `pass an integer ≥ 0 as ${name}`,
    });
  }
}

export function throwIfAborted(signal: AbortSignal | undefined, task: string): void {
  if (signal?.aborted) {
    throw new PromaxError({
      code: 'ABORTED',
      message: `${task} was aborted`,
      cause: signal.reason,
    });
  }
}
