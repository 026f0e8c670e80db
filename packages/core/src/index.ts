export { PromaxError, ensure } from './errors.js';
export type { PromaxErrorCode, PromaxErrorOptions } from './errors.js';
export { Rng, createRng } from './rng.js';
export {
  assertCsr,
  csrColDegrees,
  csrFromCoo,
  csrHas,
  csrNnz,
  csrRow,
  csrRowDegrees,
  csrToCoo,
  csrTranspose,
} from './csr.js';
export type { CooInput, CsrBuildReport, CsrFromCooOptions, CsrMatrix } from './csr.js';
export { noProgress } from './progress.js';
export type { ProgressEvent, ProgressHandler } from './progress.js';
export { shapeSize } from './ndarray.js';
export type { AnyTypedArray, DType, Matrix, NdArray, TypedArrayFor } from './ndarray.js';
