import { PromaxError } from '@promax/core';
import { type Dim, formatShape, type GraphBuilder, type SymbolicTensor } from '@promax/tensor';

/** Throws unless `t` is a float32 tensor of `g` with the given rank. */
export function checkTensor(
  g: GraphBuilder,
  op: string,
  name: string,
  t: SymbolicTensor | undefined,
  rank: number,
  dtype: 'float32' | 'int64' = 'float32',
): SymbolicTensor {
  if (!t || typeof t !== 'object' || !('shape' in t) || !('dtype' in t)) {
    throw new PromaxError({
      code: 'INVALID_ARGUMENT',
      field: name,
      message: `${op}: '${name}' must be a symbolic tensor, got ${t === undefined ? 'nothing' : typeof t}`,
      fix: `build '${name}' with the same GraphBuilder (g.input, g.gather, …)`,
    });
  }
  if (t.graphId !== g.graphId) {
    throw new PromaxError({
      code: 'INVALID_ARGUMENT',
      field: name,
      message: `${op}: '${name}' belongs to another graph`,
      fix: 'build every tensor of a model and its loss with the same GraphBuilder',
    });
  }
  if (t.dtype !== dtype || t.rank !== rank) {
    throw new PromaxError({
      code: 'SHAPE_MISMATCH',
      field: name,
      message: `${op}: '${name}' must be a ${dtype} tensor of rank ${rank}, got ${t.dtype}${formatShape(t.shape)}`,
    });
  }
  return t;
}

/** Throws unless dim `a` of tensor `an` equals dim `b` of tensor `bn` (symbolic dims by name). */
export function checkSameDim(
  op: string,
  an: string,
  a: SymbolicTensor,
  ai: number,
  bn: string,
  b: SymbolicTensor,
  bi: number,
): void {
  const da: Dim = a.shape[ai];
  const db: Dim = b.shape[bi];
  if (da !== db) {
    throw new PromaxError({
      code: 'SHAPE_MISMATCH',
      field: an,
      message: `${op}: axis ${ai} of '${an}' ${formatShape(a.shape)} must equal axis ${bi} of '${bn}' ${formatShape(b.shape)} (${da} vs ${db})`,
      fix: 'declare batch inputs with the same symbolic dim name (e.g. the user-id input and the teacher input both use "Bu")',
    });
  }
}

export function checkTemperature(op: string, name: string, value: number): void {
  if (!(typeof value === 'number' && Number.isFinite(value) && value > 0)) {
    throw new PromaxError({
      code: 'INVALID_ARGUMENT',
      field: name,
      message: `${op}: ${name} must be a finite number > 0, got ${value}`,
    });
  }
}

export function checkWeight(op: string, name: string, value: number): void {
  if (!(typeof value === 'number' && Number.isFinite(value) && value >= 0)) {
    throw new PromaxError({
      code: 'INVALID_ARGUMENT',
      field: name,
      message: `${op}: ${name} must be a finite number ≥ 0, got ${value}`,
    });
  }
}
