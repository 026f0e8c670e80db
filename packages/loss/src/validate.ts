import { type Matrix, PromaxError } from '@promax/core';

/** Throws unless `m` is a well-formed row-major float32 matrix with at least one row and column. */
export function checkMatrix(m: Matrix, field: string): void {
  if (
    !m ||
    !(m.data instanceof Float32Array) ||
    !Number.isInteger(m.rows) ||
    !Number.isInteger(m.cols) ||
    m.rows < 1 ||
    m.cols < 1 ||
    m.data.length !== m.rows * m.cols
  ) {
    throw new PromaxError({
      code: 'SHAPE_MISMATCH',
      field,
      message: `${field} must be a Matrix with rows, cols ≥ 1 and a Float32Array of rows·cols values, got ${describe(m)}`,
      fix: 'pass { rows, cols, data: Float32Array } in row-major order',
    });
  }
}

function describe(m: Matrix): string {
  if (!m || typeof m !== 'object') return String(m);
  const len = (m.data as { length?: number } | undefined)?.length;
  return `rows=${m.rows}, cols=${m.cols}, data=${m.data?.constructor?.name ?? typeof m.data}(${len ?? '?'})`;
}

/** Throws NON_FINITE naming the first row holding NaN or ±Infinity. */
export function checkFiniteRows(m: Matrix, field: string): void {
  const { rows, cols, data } = m;
  for (let r = 0; r < rows; r++) {
    const o = r * cols;
    for (let c = 0; c < cols; c++) {
      if (!Number.isFinite(data[o + c])) {
        throw new PromaxError({
          code: 'NON_FINITE',
          field,
          message: `${field} row ${r} holds a non-finite value (${data[o + c]}) at column ${c}`,
          fix: 'drop or re-embed that profile (NaN rows usually mean a failed embedding request)',
          details: { row: r, col: c },
        });
      }
    }
  }
}

export function checkPositiveNumber(value: number, field: string): void {
  if (!(typeof value === 'number' && Number.isFinite(value) && value > 0)) {
    throw new PromaxError({
      code: 'INVALID_ARGUMENT',
      field,
      message: `${field} must be a finite number > 0, got ${value}`,
    });
  }
}

export function checkNonNegativeNumber(value: number, field: string): void {
  if (!(typeof value === 'number' && Number.isFinite(value) && value >= 0)) {
    throw new PromaxError({
      code: 'INVALID_ARGUMENT',
      field,
      message: `${field} must be a finite number ≥ 0, got ${value}`,
    });
  }
}

export function checkPositiveInt(value: number, field: string): void {
  if (!(Number.isInteger(value) && value >= 1)) {
    throw new PromaxError({
      code: 'INVALID_ARGUMENT',
      field,
      message: `${field} must be an integer ≥ 1, got ${value}`,
    });
  }
}

/** Throws ID_OUT_OF_RANGE unless every id is an integer in [0, n). */
export function checkIds(ids: Int32Array, n: number, field: string): void {
  if (!(ids instanceof Int32Array)) {
    throw new PromaxError({ code: 'INVALID_ARGUMENT', field, message: `${field} must be an Int32Array` });
  }
  for (let i = 0; i < ids.length; i++) {
    const v = ids[i];
    if (v < 0 || v >= n) {
      throw new PromaxError({
        code: 'ID_OUT_OF_RANGE',
        field,
        message: `${field}[${i}] = ${v} is outside [0, ${n})`,
        details: { index: i, id: v, size: n },
      });
    }
  }
}
