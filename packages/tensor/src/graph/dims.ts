import { PromaxError } from '@promax/core';

/**
 * One dimension of a symbolic shape: a fixed size, or a symbolic size that is known only when the
 * graph runs. A symbolic size is a name declared on a graph input (`'B'`) or an integer polynomial
 * of such names produced by shape arithmetic (`'B+C'` from a concat, `'32*B'` from a flattening
 * reshape). Two dims are equal when their canonical strings are equal.
 */
export type Dim = number | string;

/** A (possibly symbolic) shape. */
export type Shape = readonly Dim[];

const SYMBOL = /^[A-Za-z_][A-Za-z0-9_.:]*$/;

/** Whether `name` may be used as a symbolic dimension name. */
export function isSymbolName(name: string): boolean {
  return SYMBOL.test(name);
}

/** A polynomial: monomial key (sorted symbol names joined by '*', '' for the constant) → coefficient. */
type Poly = Map<string, number>;

function parse(dim: Dim): Poly {
  const p: Poly = new Map();
  if (typeof dim === 'number') {
    if (dim !== 0) p.set('', dim);
    return p;
  }
  const re = /([+-]?)([^+-]+)/g;
  let m: RegExpExecArray | null = re.exec(dim);
  while (m !== null) {
    const sign = m[1] === '-' ? -1 : 1;
    let coef = sign;
    const syms: string[] = [];
    for (const f of m[2].split('*')) {
      if (/^\d+$/.test(f)) coef *= Number(f);
      else syms.push(f);
    }
    const key = syms.sort().join('*');
    const v = (p.get(key) ?? 0) + coef;
    if (v === 0) p.delete(key);
    else p.set(key, v);
    m = re.exec(dim);
  }
  return p;
}

function format(p: Poly): Dim {
  const keys = [...p.keys()].filter((k) => k !== '').sort();
  if (keys.length === 0) return p.get('') ?? 0;
  const parts: string[] = [];
  for (const k of keys) {
    const c = p.get(k) ?? 0;
    const body = Math.abs(c) === 1 ? k : `${Math.abs(c)}*${k}`;
    parts.push(parts.length === 0 ? (c < 0 ? `-${body}` : body) : c < 0 ? `-${body}` : `+${body}`);
  }
  const c0 = p.get('');
  if (c0) parts.push(c0 < 0 ? `${c0}` : `+${c0}`);
  return parts.join('');
}

/** Canonical form of a dim (normalises user-written expressions such as `'B + B'`). */
export function canonicalDim(dim: Dim): Dim {
  if (typeof dim === 'number') return dim;
  return format(parse(dim.replace(/\s+/g, '')));
}

export function dimAdd(a: Dim, b: Dim): Dim {
  if (typeof a === 'number' && typeof b === 'number') return a + b;
  const p = parse(a);
  for (const [k, v] of parse(b)) {
    const s = (p.get(k) ?? 0) + v;
    if (s === 0) p.delete(k);
    else p.set(k, s);
  }
  return format(p);
}

export function dimSub(a: Dim, b: Dim): Dim {
  return dimAdd(a, typeof b === 'number' ? -b : dimMul(b, -1));
}

export function dimMul(a: Dim, b: Dim): Dim {
  if (typeof a === 'number' && typeof b === 'number') return a * b;
  const pa = parse(a);
  const pb = parse(b);
  const out: Poly = new Map();
  for (const [ka, va] of pa) {
    for (const [kb, vb] of pb) {
      const key = [...(ka ? ka.split('*') : []), ...(kb ? kb.split('*') : [])].sort().join('*');
      const s = (out.get(key) ?? 0) + va * vb;
      if (s === 0) out.delete(key);
      else out.set(key, s);
    }
  }
  return format(out);
}

/** Exact division of a monomial dim by a fixed size or a symbol; `undefined` when not exact. */
export function dimDivExact(a: Dim, b: Dim): Dim | undefined {
  if (typeof a === 'number' && typeof b === 'number') return a % b === 0 ? a / b : undefined;
  if (a === b) return 1;
  const pa = parse(a);
  const pb = parse(b);
  if (pb.size !== 1) return undefined;
  const [[kb, vb]] = [...pb];
  const bSyms = kb ? kb.split('*') : [];
  const out: Poly = new Map();
  for (const [ka, va] of pa) {
    if (va % vb !== 0) return undefined;
    const syms = ka ? ka.split('*') : [];
    for (const s of bSyms) {
      const i = syms.indexOf(s);
      if (i < 0) return undefined;
      syms.splice(i, 1);
    }
    out.set(syms.join('*'), va / vb);
  }
  return format(out);
}

/** The product of dims (the number of elements of a shape). */
export function shapeSizeDim(shape: Shape): Dim {
  let n: Dim = 1;
  for (const d of shape) n = dimMul(n, d);
  return n;
}

/** The symbol names a dim is made of. */
export function dimSymbols(dim: Dim): string[] {
  if (typeof dim === 'number') return [];
  const out = new Set<string>();
  for (const k of parse(dim).keys()) for (const s of k ? k.split('*') : []) out.add(s);
  return [...out];
}

/** Monomials of a dim, for emitting the runtime arithmetic that computes it. */
export function dimTerms(dim: Dim): { coef: number; symbols: string[] }[] {
  return [...parse(dim)].map(([k, coef]) => ({ coef, symbols: k ? k.split('*') : [] }));
}

/** Evaluates a dim given values for its symbols. */
export function evalDim(dim: Dim, bindings: ReadonlyMap<string, number>): number | undefined {
  if (typeof dim === 'number') return dim;
  let total = 0;
  for (const { coef, symbols } of dimTerms(dim)) {
    let t = coef;
    for (const s of symbols) {
      const v = bindings.get(s);
      if (v === undefined) return undefined;
      t *= v;
    }
    total += t;
  }
  return total;
}

export function isStaticShape(shape: Shape): shape is readonly number[] {
  return shape.every((d) => typeof d === 'number');
}

export function formatShape(shape: Shape): string {
  return `[${shape.join(', ')}]`;
}

export function sameShape(a: Shape, b: Shape): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/** Validates and canonicalises a user-written shape. */
export function checkShape(shape: Shape, what: string): Shape {
  if (!Array.isArray(shape)) {
    throw new PromaxError({
      code: 'INVALID_ARGUMENT',
      message: `${what}: shape must be an array of dims`,
      field: what,
    });
  }
  return shape.map((d) => {
    if (typeof d === 'number') {
      if (!Number.isInteger(d) || d < 0) {
        throw new PromaxError({
          code: 'INVALID_ARGUMENT',
          message: `${what}: dimension ${d} is not a non-negative integer`,
          field: what,
          fix: 'use whole numbers, or a symbolic name such as "B" for sizes that vary between runs',
        });
      }
      return d;
    }
    if (typeof d !== 'string' || d.length === 0) {
      throw new PromaxError({
        code: 'INVALID_ARGUMENT',
        message: `${what}: bad dimension ${String(d)}`,
        field: what,
      });
    }
    const c = canonicalDim(d);
    for (const s of dimSymbols(c)) {
      if (!isSymbolName(s)) {
        throw new PromaxError({
          code: 'INVALID_ARGUMENT',
          message: `${what}: symbolic dimension '${s}' is not a valid name`,
          field: what,
          fix: 'use letters, digits, _ . : (starting with a letter or _)',
        });
      }
    }
    return c;
  });
}

/**
 * NumPy broadcasting of two shapes. Symbolic dims broadcast only against themselves or a
 * literal 1: two different symbols (or a symbol and a fixed size other than 1) are a build-time
 * error, which is what catches most shape bugs early.
 */
export function broadcastShapes(op: string, a: Shape, b: Shape): Shape {
  const rank = Math.max(a.length, b.length);
  const out: Dim[] = new Array(rank);
  for (let i = 0; i < rank; i++) {
    const da = i < rank - a.length ? 1 : a[i - (rank - a.length)];
    const db = i < rank - b.length ? 1 : b[i - (rank - b.length)];
    if (da === db) out[i] = da;
    else if (da === 1) out[i] = db;
    else if (db === 1) out[i] = da;
    else {
      throw new PromaxError({
        code: 'SHAPE_MISMATCH',
        message: `${op}: shapes ${formatShape(a)} and ${formatShape(b)} do not broadcast (dim ${da} vs ${db})`,
        details: { op, a, b },
        fix: 'make the dims equal, or 1 where a tensor should be repeated',
      });
    }
  }
  return out;
}

/** Normalises a possibly negative axis against a rank. */
export function normAxis(op: string, axis: number, rank: number): number {
  const a = axis < 0 ? axis + rank : axis;
  if (!Number.isInteger(a) || a < 0 || a >= rank) {
    throw new PromaxError({
      code: 'INVALID_ARGUMENT',
      message: `${op}: axis ${axis} is out of range for a rank-${rank} tensor`,
      details: { op, axis, rank },
    });
  }
  return a;
}
