import { PromaxError } from '@promax/core';
import { formatShape } from '../dims.js';
import type { DType, SymbolicTensor } from '../ir.js';

/** A build-time shape error naming the op and the shapes involved. */
export function shapeError(
  op: string,
  message: string,
  tensors: Record<string, SymbolicTensor>,
  fix?: string,
): PromaxError {
  const shapes = Object.entries(tensors)
    .map(([k, t]) => `${k}: ${t.dtype}${formatShape(t.shape)}`)
    .join(', ');
  return new PromaxError({
    code: 'SHAPE_MISMATCH',
    message: `${op}: ${message}${shapes ? ` (${shapes})` : ''}`,
    details: { op, shapes: Object.fromEntries(Object.entries(tensors).map(([k, t]) => [k, t.shape])) },
    fix,
  });
}

export function argError(op: string, message: string, fix?: string): PromaxError {
  return new PromaxError({ code: 'INVALID_ARGUMENT', message: `${op}: ${message}`, fix });
}

export function requireDType(op: string, what: string, t: SymbolicTensor, ...allowed: DType[]): void {
  if (!allowed.includes(t.dtype)) {
    throw new PromaxError({
      code: 'INVALID_ARGUMENT',
      message: `${op}: ${what} must be ${allowed.join(' or ')}, got ${t.dtype}${formatShape(t.shape)}`,
      details: { op, dtype: t.dtype, allowed },
      fix: allowed.length === 1 ? `cast it with g.cast(x, '${allowed[0]}')` : undefined,
    });
  }
}

export function requireRank(op: string, what: string, t: SymbolicTensor, min: number, max = min): void {
  if (t.rank < min || t.rank > max) {
    const want =
      min === max
        ? `rank ${min}`
        : max === Number.POSITIVE_INFINITY
          ? `rank ≥ ${min}`
          : `rank ${min}..${max}`;
    throw shapeError(op, `${what} must have ${want}`, { [what]: t });
  }
}
