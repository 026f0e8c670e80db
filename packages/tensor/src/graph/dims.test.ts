import { describe, expect, it } from 'vitest';
import {
  broadcastShapes,
  canonicalDim,
  dimAdd,
  dimDivExact,
  dimMul,
  dimSub,
  evalDim,
  shapeSizeDim,
} from './dims.js';

describe('symbolic dims', () => {
  it('canonicalises integer polynomials of symbols', () => {
    expect(canonicalDim('B + B')).toBe('2*B');
    expect(dimAdd('B', 'C')).toBe(dimAdd('C', 'B'));
    expect(dimAdd('B', 3)).toBe('B+3');
    expect(dimSub(dimAdd('B', 'C'), 'C')).toBe('B');
    expect(dimSub('B', 1)).toBe('B-1');
    expect(dimMul('B', 32)).toBe('32*B');
    expect(dimMul(dimAdd('B', 1), 'C')).toBe('B*C+C');
    expect(shapeSizeDim(['B', 4, 'C'])).toBe('4*B*C');
    expect(dimAdd(2, 3)).toBe(5);
  });

  it('divides exactly or not at all', () => {
    expect(dimDivExact('32*B', 32)).toBe('B');
    expect(dimDivExact('4*B*C', 'C')).toBe('4*B');
    expect(dimDivExact('32*B', 'B')).toBe(32);
    expect(dimDivExact('B', 2)).toBeUndefined();
    expect(dimDivExact(12, 5)).toBeUndefined();
  });

  it('evaluates with bindings', () => {
    expect(
      evalDim(
        '2*B+C-1',
        new Map([
          ['B', 5],
          ['C', 3],
        ]),
      ),
    ).toBe(12);
    expect(evalDim('B', new Map())).toBeUndefined();
  });

  it('broadcasts symbols only against themselves or 1', () => {
    expect(broadcastShapes('add', ['B', 1], [3])).toEqual(['B', 3]);
    expect(broadcastShapes('add', ['B', 3], ['B', 3])).toEqual(['B', 3]);
    expect(() => broadcastShapes('add', ['B', 3], ['C', 3])).toThrow(
      /add: shapes \[B, 3\] and \[C, 3\] do not broadcast/,
    );
    expect(() => broadcastShapes('mul', [4, 3], [2, 3])).toThrow(/dim 4 vs 2/);
  });
});
