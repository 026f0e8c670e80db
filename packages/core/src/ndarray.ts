/** Element types ProMax reads and writes (NumPy names). */
export type DType =
  | 'float32'
  | 'float64'
  | 'int32'
  | 'int64'
  | 'bool'
  | 'uint8'
  | 'int8'
  | 'int16'
  | 'uint16'
  | 'uint32';

export type TypedArrayFor<D extends DType> = D extends 'float32'
  ? Float32Array
  : D extends 'float64'
    ? Float64Array
    : D extends 'int32'
      ? Int32Array
      : D extends 'int64'
        ? BigInt64Array
        : D extends 'int8'
          ? Int8Array
          : D extends 'int16'
            ? Int16Array
            : D extends 'uint16'
              ? Uint16Array
              : D extends 'uint32'
                ? Uint32Array
                : Uint8Array;

export type AnyTypedArray =
  | Float32Array
  | Float64Array
  | Int32Array
  | BigInt64Array
  | Uint8Array
  | Int8Array
  | Int16Array
  | Uint16Array
  | Uint32Array;

/** A dense n-dimensional array in C (row-major) order. */
export interface NdArray<D extends DType = DType> {
  readonly dtype: D;
  readonly shape: readonly number[];
  readonly data: TypedArrayFor<D>;
}

/** A row-major float32 matrix (embeddings, scores). */
export interface Matrix {
  readonly rows: number;
  readonly cols: number;
  readonly data: Float32Array;
}

export function shapeSize(shape: readonly number[]): number {
  let n = 1;
  for (const s of shape) n *= s;
  return n;
}
