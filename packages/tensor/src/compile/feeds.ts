import { PromaxError } from '@promax/core';
import * as ort from 'onnxruntime-node';
import { type Dim, formatShape } from '../graph/dims.js';
import type { DType } from '../graph/ir.js';
import type { ParameterStore } from '../train/parameter-store.js';
import type { LoweredInput } from './lower.js';

/** Typed arrays that can be fed. */
export type FeedData = Float32Array | Int32Array | BigInt64Array | Uint8Array;

/**
 * A value for one input: a typed array (its dims are inferred when at most one dim of the input
 * is symbolic), a typed array with explicit dims, or an onnxruntime tensor.
 */
export type FeedValue = FeedData | { readonly data: FeedData; readonly dims: readonly number[] } | ort.Tensor;

export type FeedMap = Readonly<Record<string, FeedValue>>;

const ARRAY_OF: Record<DType, string> = {
  float32: 'Float32Array',
  int32: 'Int32Array',
  int64: 'BigInt64Array',
  bool: 'Uint8Array',
};

function isFeedData(v: unknown): v is FeedData {
  return (
    v instanceof Float32Array ||
    v instanceof Int32Array ||
    v instanceof BigInt64Array ||
    v instanceof Uint8Array
  );
}

function dtypeOf(data: FeedData): DType {
  if (data instanceof Float32Array) return 'float32';
  if (data instanceof Int32Array) return 'int32';
  if (data instanceof BigInt64Array) return 'int64';
  return 'bool';
}

/** Resolves the dims of a feed against the input's declared shape. */
function resolveDims(input: LoweredInput, length: number, given?: readonly number[]): number[] {
  if (given) return [...given];
  const shape = input.shape;
  let known = 1;
  let holes = 0;
  for (const d of shape) {
    if (typeof d === 'number') known *= d;
    else holes++;
  }
  if (holes === 0) return shape as number[];
  if (holes > 1) {
    throw new PromaxError({
      code: 'INVALID_ARGUMENT',
      message: `input '${input.name}' ${formatShape(shape)} has several symbolic dims, so its dims cannot be inferred`,
      field: input.name,
      fix: 'feed { data, dims } with explicit dims',
    });
  }
  const hole = known === 0 ? 0 : length / known;
  if (!Number.isInteger(hole)) {
    throw new PromaxError({
      code: 'SHAPE_MISMATCH',
      message: `input '${input.name}' ${formatShape(shape)}: ${length} values is not a multiple of ${known}`,
      field: input.name,
    });
  }
  return shape.map((d) => (typeof d === 'number' ? d : hole));
}

/**
 * Turns user feeds and parameters into onnxruntime tensors, checking dtypes, shapes and that each
 * symbolic dim has one value across all inputs.
 */
export function buildFeeds(
  inputs: readonly LoweredInput[],
  feeds: FeedMap,
  declared: ReadonlySet<string>,
  store?: ParameterStore,
): Record<string, ort.Tensor> {
  for (const k of Object.keys(feeds)) {
    if (!declared.has(k)) {
      throw new PromaxError({
        code: 'INVALID_ARGUMENT',
        message: `feed '${k}' is not an input of the graph (inputs: ${[...declared].join(', ')})`,
        field: k,
      });
    }
  }
  const bindings = new Map<string, { value: number; from: string }>();
  const out: Record<string, ort.Tensor> = {};
  for (const input of inputs) {
    let tensor: ort.Tensor;
    if (input.kind === 'param' && !(input.name in feeds)) {
      if (!store) {
        throw new PromaxError({
          code: 'INVALID_ARGUMENT',
          message: `the graph has parameter '${input.name}' but no parameter store was given`,
          field: input.name,
          fix: 'pass the ParameterStore as the second argument of run()',
        });
      }
      tensor = store.tensor(input.name);
    } else {
      const v = feeds[input.name];
      if (v === undefined) {
        throw new PromaxError({
          code: 'INVALID_ARGUMENT',
          message: `missing feed for input '${input.name}' (${input.dtype}${formatShape(input.shape)})`,
          field: input.name,
        });
      }
      tensor = toTensor(input, v);
    }
    checkDims(input, tensor.dims, bindings);
    out[input.name] = tensor;
  }
  return out;
}

function toTensor(input: LoweredInput, v: FeedValue): ort.Tensor {
  if (v instanceof ort.Tensor) {
    if (v.type !== input.dtype) {
      throw new PromaxError({
        code: 'INVALID_ARGUMENT',
        message: `input '${input.name}' wants ${input.dtype}, got a ${v.type} tensor`,
        field: input.name,
      });
    }
    return v;
  }
  const explicit = v as { readonly data: FeedData; readonly dims: readonly number[] };
  const data: FeedData = isFeedData(v) ? v : explicit.data;
  const given = isFeedData(v) ? undefined : explicit.dims;
  let typed: FeedData = data;
  if (dtypeOf(data) !== input.dtype) {
    if (input.dtype === 'int64' && data instanceof Int32Array) {
      typed = BigInt64Array.from(data, (x) => BigInt(x));
    } else {
      throw new PromaxError({
        code: 'INVALID_ARGUMENT',
        message: `input '${input.name}' wants ${input.dtype} (${ARRAY_OF[input.dtype]}), got ${data.constructor.name}`,
        field: input.name,
      });
    }
  }
  const dims = resolveDims(input, typed.length, given);
  const size = dims.reduce((a, b) => a * b, 1);
  if (size !== typed.length) {
    throw new PromaxError({
      code: 'SHAPE_MISMATCH',
      message: `input '${input.name}': dims [${dims.join(', ')}] hold ${size} values but ${typed.length} were given`,
      field: input.name,
    });
  }
  return new ort.Tensor(input.dtype, typed, dims);
}

function checkDims(
  input: LoweredInput,
  dims: readonly number[],
  bindings: Map<string, { value: number; from: string }>,
): void {
  const shape: readonly Dim[] = input.shape;
  if (dims.length !== shape.length) {
    throw new PromaxError({
      code: 'SHAPE_MISMATCH',
      message: `input '${input.name}' must have rank ${shape.length} ${formatShape(shape)}, got dims [${dims.join(', ')}]`,
      field: input.name,
    });
  }
  shape.forEach((d, i) => {
    const got = dims[i];
    if (typeof d === 'number') {
      if (d !== got) {
        throw new PromaxError({
          code: 'SHAPE_MISMATCH',
          message: `input '${input.name}' must be ${formatShape(shape)}, got dims [${dims.join(', ')}]`,
          field: input.name,
        });
      }
      return;
    }
    const b = bindings.get(d);
    if (!b) bindings.set(d, { value: got, from: input.name });
    else if (b.value !== got) {
      throw new PromaxError({
        code: 'SHAPE_MISMATCH',
        message: `dim '${d}' is ${got} in input '${input.name}' but ${b.value} in input '${b.from}'`,
        field: input.name,
        details: { dim: d, values: [b.value, got] },
      });
    }
  });
}
