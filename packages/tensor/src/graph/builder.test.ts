import { PromaxError } from '@promax/core';
import { describe, expect, it } from 'vitest';
import { GraphBuilder } from './builder.js';

function buildError(f: () => unknown): PromaxError {
  try {
    f();
  } catch (e) {
    if (PromaxError.isInstance(e)) return e;
    throw e;
  }
  throw new Error('expected a PromaxError');
}

describe('GraphBuilder', () => {
  it('infers dtypes and symbolic shapes', () => {
    const g = new GraphBuilder();
    const x = g.input('x', 'float32', ['B', 32]);
    const y = g.input('y', 'float32', ['C', 32]);
    expect(g.concat([x, y], 0).shape).toEqual(['B+C', 32]);
    expect(g.reshape(x, [-1]).shape).toEqual(['32*B']);
    expect(g.reshape(g.reshape(x, [-1]), [-1, 32]).shape).toEqual(['B', 32]);
    expect(g.matmul(x, y, { transposeB: true }).shape).toEqual(['B', 'C']);
    expect(g.reduceSum(x, 1, true).shape).toEqual(['B', 1]);
    expect(g.slice(x, [1], [Number.POSITIVE_INFINITY]).shape).toEqual(['B-1', 32]);
    const idx = g.input('idx', 'int32', ['K', 2]);
    const e = g.param('emb', [100, 8]);
    const rows = g.gather(e, idx);
    expect(rows.shape).toEqual(['K', 2, 8]);
    expect(rows.dtype).toBe('float32');
    expect(g.greater(rows, 0).dtype).toBe('bool');
    expect(String(e)).toBe("float32[100, 8] (param 'emb')");
  });

  it('throws build-time shape errors naming the op and the shapes', () => {
    const g = new GraphBuilder();
    const a = g.param('a', [3, 4]);
    const b = g.param('b', [5, 6]);
    const e1 = buildError(() => g.matmul(a, b));
    expect(e1.code).toBe('SHAPE_MISMATCH');
    expect(e1.message).toMatch(
      /^matmul: inner dimensions differ \(4 vs 5.*a: float32\[3, 4\], b: float32\[5, 6\]/,
    );
    expect(buildError(() => g.add(a, b)).message).toMatch(
      /Add: shapes \[3, 4\] and \[5, 6\] do not broadcast/,
    );
    expect(buildError(() => g.concat([a, b], 0)).message).toMatch(
      /concat: inputs must match on every axis except 0/,
    );
    expect(buildError(() => g.gather(a, g.param('i', [2]))).message).toMatch(
      /gather: indices must be int32 or int64, got float32\[2\]/,
    );
    expect(buildError(() => g.reshape(a, [5, -1])).code).toBe('SHAPE_MISMATCH');
    expect(buildError(() => g.softmax(a, 2)).code).toBe('INVALID_ARGUMENT');
    const x = g.input('x', 'float32', ['B', 4]);
    const y = g.input('y', 'float32', ['C', 4]);
    expect(buildError(() => g.sub(x, y)).message).toMatch(/dim B vs C/);
    expect(buildError(() => g.infoNce(x, y, 0.2)).message).toMatch(/infoNce/);
  });

  it('shares identical subexpressions', () => {
    const g = new GraphBuilder();
    const x = g.param('x', [3]);
    expect(g.exp(x)).toBe(g.exp(x));
    expect(g.mul(x, 2)).toBe(g.mul(x, 2));
    expect(g.mul(x, 2)).not.toBe(g.mul(x, 3));
  });

  it('rejects duplicate names, reserved names and tensors of other graphs', () => {
    const g = new GraphBuilder();
    g.input('x', 'float32', [2]);
    expect(() => g.param('x', [2])).toThrow(/already has an input or parameter with that name/);
    expect(() => g.input('grad:x', 'float32', [1])).toThrow(/not a usable name/);
    const other = new GraphBuilder().param('y', [2]);
    expect(() => g.exp(other)).toThrow(/belongs to another graph/);
    expect(() => g.input('z', 'float32', ['B+1'])).toThrow(/plain names/);
    expect(() => g.param('p', ['B' as unknown as number])).toThrow(/fixed sizes/);
  });

  it('declares adjacency inputs', () => {
    const g = new GraphBuilder();
    const adj = g.adjacency('A', { rows: 10, symmetric: true });
    expect(g.inputs().map((t) => t.leafName)).toEqual(['A.src', 'A.dst', 'A.left', 'A.right']);
    expect(adj.src.shape).toEqual(['A.E']);
    expect(g.propagate(g.param('x', [10, 4]), adj).shape).toEqual([10, 4]);
    expect(() => g.propagate(g.param('y', [9, 4]), adj)).toThrow(/one row per source node/);
    expect(() => g.adjacency('R', { rows: 3, cols: 4, symmetric: true })).toThrow(/must be square/);
  });
});
