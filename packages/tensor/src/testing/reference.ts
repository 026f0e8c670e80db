import { PromaxError } from '@promax/core';
import { ancestors } from '../autodiff/gradients.js';
import { type Dim, evalDim } from '../graph/dims.js';
import type { ConstantData, GraphNode, SymbolicTensor } from '../graph/ir.js';
import { sliceBounds } from '../graph/ops/shape-ops.js';

/** A float64 tensor (integer and boolean values are stored as doubles too). */
export interface F64 {
  shape: number[];
  data: Float64Array;
}

const size = (s: readonly number[]): number => s.reduce((a, b) => a * b, 1);
const strides = (s: readonly number[]): number[] => {
  const out = new Array<number>(s.length).fill(1);
  for (let i = s.length - 2; i >= 0; i--) out[i] = out[i + 1] * s[i + 1];
  return out;
};

function broadcastShape(a: readonly number[], b: readonly number[]): number[] {
  const r = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < r; i++) {
    const da = a[i - (r - a.length)] ?? 1;
    const db = b[i - (r - b.length)] ?? 1;
    if (da !== db && da !== 1 && db !== 1) throw new Error(`reference: cannot broadcast [${a}] and [${b}]`);
    out.push(da === 1 ? db : da);
  }
  return out;
}

/** Index into a (broadcast) source for a flat output index. */
function broadcastIndexer(src: readonly number[], out: readonly number[]): (k: number) => number {
  const os = strides(out);
  const ss = strides(src);
  const off = out.length - src.length;
  return (k) => {
    let idx = 0;
    for (let i = 0; i < out.length; i++) {
      const coord = Math.floor(k / os[i]) % out[i];
      const j = i - off;
      if (j >= 0 && src[j] !== 1) idx += coord * ss[j];
    }
    return idx;
  };
}

function map2(a: F64, b: F64, f: (x: number, y: number) => number): F64 {
  const shape = broadcastShape(a.shape, b.shape);
  const n = size(shape);
  const ia = broadcastIndexer(a.shape, shape);
  const ib = broadcastIndexer(b.shape, shape);
  const data = new Float64Array(n);
  for (let k = 0; k < n; k++) data[k] = f(a.data[ia(k)], b.data[ib(k)]);
  return { shape, data };
}

function map1(a: F64, f: (x: number) => number): F64 {
  return { shape: [...a.shape], data: a.data.map(f) };
}

function reduce(
  x: F64,
  axes: readonly number[],
  keep: boolean,
  init: number,
  f: (acc: number, v: number) => number,
): F64 {
  const keptShape = x.shape.map((d, i) => (axes.includes(i) ? 1 : d));
  const out = new Float64Array(size(keptShape)).fill(init);
  const xs = strides(x.shape);
  const ks = strides(keptShape);
  for (let k = 0; k < x.data.length; k++) {
    let o = 0;
    for (let i = 0; i < x.shape.length; i++) {
      const c = Math.floor(k / xs[i]) % x.shape[i];
      if (!axes.includes(i)) o += c * ks[i];
    }
    out[o] = f(out[o], x.data[k]);
  }
  return { shape: keep ? keptShape : x.shape.filter((_, i) => !axes.includes(i)), data: out };
}

function transpose(x: F64, perm: readonly number[]): F64 {
  const shape = perm.map((p) => x.shape[p]);
  const xs = strides(x.shape);
  const os = strides(shape);
  const data = new Float64Array(x.data.length);
  for (let k = 0; k < data.length; k++) {
    let src = 0;
    for (let i = 0; i < shape.length; i++) src += (Math.floor(k / os[i]) % shape[i]) * xs[perm[i]];
    data[k] = x.data[src];
  }
  return { shape, data };
}

function swapLast(x: F64): F64 {
  const perm = x.shape.map((_, i) => i);
  const r = perm.length;
  [perm[r - 2], perm[r - 1]] = [perm[r - 1], perm[r - 2]];
  return transpose(x, perm);
}

function matmul(a: F64, b: F64): F64 {
  const m = a.shape[a.shape.length - 2];
  const k = a.shape[a.shape.length - 1];
  const n = b.shape[b.shape.length - 1];
  const batch = broadcastShape(a.shape.slice(0, -2), b.shape.slice(0, -2));
  const nb = size(batch);
  const ia = broadcastIndexer(a.shape.slice(0, -2), batch);
  const ib = broadcastIndexer(b.shape.slice(0, -2), batch);
  const data = new Float64Array(nb * m * n);
  for (let t = 0; t < nb; t++) {
    const ao = ia(t) * m * k;
    const bo = ib(t) * k * n;
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let q = 0; q < k; q++) s += a.data[ao + i * k + q] * b.data[bo + q * n + j];
        data[t * m * n + i * n + j] = s;
      }
    }
  }
  return { shape: [...batch, m, n], data };
}

function softmax(x: F64, axis: number): F64 {
  const mx = reduce(x, [axis], true, Number.NEGATIVE_INFINITY, Math.max);
  const e = map2(x, mx, (v, m) => Math.exp(v - m));
  const s = reduce(e, [axis], true, 0, (a, v) => a + v);
  return map2(e, s, (v, t) => v / t);
}

function gatherRows(x: F64, idx: F64): F64 {
  const row = size(x.shape.slice(1));
  const data = new Float64Array(idx.data.length * row);
  idx.data.forEach((r, i) => {
    data.set(x.data.subarray(r * row, r * row + row), i * row);
  });
  return { shape: [...idx.shape, ...x.shape.slice(1)], data };
}

function scatterAddRows(target: F64, idx: F64, upd: F64): F64 {
  const row = size(target.shape.slice(1));
  const data = target.data.slice();
  idx.data.forEach((r, i) => {
    for (let j = 0; j < row; j++) data[r * row + j] += upd.data[i * row + j];
  });
  return { shape: [...target.shape], data };
}

function fromConstant(data: ConstantData, shape: readonly number[]): F64 {
  const out = new Float64Array(data.length);
  for (let i = 0; i < data.length; i++) out[i] = Number(data[i]);
  return { shape: [...shape], data: out };
}

/**
 * Evaluates graph tensors in float64 with plain TypeScript kernels: the reference the ONNX
 * lowering and the gradients are tested against. `values` holds inputs and parameters by name.
 */
export function evaluateReference(
  outputs: readonly SymbolicTensor[],
  values: ReadonlyMap<string, F64>,
): F64[] {
  const nodes = ancestors(outputs);
  const bindings = new Map<string, number>();
  for (const n of nodes) {
    if (n.op !== 'Input' && n.op !== 'Param') continue;
    const v = values.get(n.attrs.name as string);
    if (!v)
      throw new PromaxError({
        code: 'INVALID_ARGUMENT',
        message: `reference: no value for '${n.attrs.name}'`,
      });
    (n.attrs.shape as Dim[]).forEach((d, i) => {
      if (typeof d === 'string') bindings.set(d, v.shape[i]);
    });
  }
  const dim = (d: Dim): number => {
    const v = evalDim(d, bindings);
    if (v === undefined) throw new Error(`reference: unknown dim ${d}`);
    return v;
  };
  const env = new Map<number, F64>();
  for (const n of nodes) {
    const ins = n.inputs.map((t) => env.get(t.id) as F64);
    const outs = evalNode(n, ins, values, dim);
    n.outputs.forEach((t, i) => {
      env.set(t.id, outs[i]);
    });
  }
  return outputs.map((t) => env.get(t.id) as F64);
}

const sigmoid = (x: number): number => 1 / (1 + Math.exp(-x));

function evalNode(
  n: GraphNode,
  ins: F64[],
  values: ReadonlyMap<string, F64>,
  dim: (d: Dim) => number,
): F64[] {
  const a = n.attrs;
  const [x, y, z] = ins;
  switch (n.op) {
    case 'Input':
    case 'Param':
      return [values.get(a.name as string) as F64];
    case 'Constant':
      return [fromConstant(a.data as ConstantData, a.shape as number[])];
    case 'Neg':
      return [map1(x, (v) => -v)];
    case 'Exp':
      return [map1(x, Math.exp)];
    case 'Log':
      return [map1(x, Math.log)];
    case 'Sqrt':
      return [map1(x, Math.sqrt)];
    case 'Reciprocal':
      return [map1(x, (v) => 1 / v)];
    case 'Abs':
      return [map1(x, Math.abs)];
    case 'Sign':
      return [map1(x, Math.sign)];
    case 'Sigmoid':
      return [map1(x, sigmoid)];
    case 'Tanh':
      return [map1(x, Math.tanh)];
    case 'Softplus':
      return [map1(x, (v) => (v > 0 ? v + Math.log1p(Math.exp(-v)) : Math.log1p(Math.exp(v))))];
    case 'Relu':
      return [map1(x, (v) => Math.max(v, 0))];
    case 'LeakyRelu':
      return [map1(x, (v) => (v > 0 ? v : (a.alpha as number) * v))];
    case 'PowScalar':
      return [map1(x, (v) => v ** (a.p as number))];
    case 'Identity':
    case 'StopGradient':
      return [x];
    case 'Cast':
      return [a.to === 'bool' ? map1(x, (v) => (v ? 1 : 0)) : a.to === 'float32' ? x : map1(x, Math.trunc)];
    case 'Add':
      return [map2(x, y, (p, q) => p + q)];
    case 'Sub':
      return [map2(x, y, (p, q) => p - q)];
    case 'Mul':
      return [map2(x, y, (p, q) => p * q)];
    case 'Div':
      return [map2(x, y, (p, q) => p / q)];
    case 'Max':
      return [map2(x, y, Math.max)];
    case 'Min':
      return [map2(x, y, Math.min)];
    case 'Greater':
      return [map2(x, y, (p, q) => +(p > q))];
    case 'Less':
      return [map2(x, y, (p, q) => +(p < q))];
    case 'GreaterEqual':
      return [map2(x, y, (p, q) => +(p >= q))];
    case 'LessEqual':
      return [map2(x, y, (p, q) => +(p <= q))];
    case 'Equal':
      return [map2(x, y, (p, q) => +(p === q))];
    case 'And':
      return [map2(x, y, (p, q) => +(p && q))];
    case 'Or':
      return [map2(x, y, (p, q) => +(p || q))];
    case 'Not':
      return [map1(x, (p) => +!p)];
    case 'Where': {
      const t = map2(y, z, () => 0);
      const shape = broadcastShape(x.shape, t.shape);
      const ic = broadcastIndexer(x.shape, shape);
      const ia = broadcastIndexer(y.shape, shape);
      const ib = broadcastIndexer(z.shape, shape);
      const data = new Float64Array(size(shape));
      for (let k = 0; k < data.length; k++) data[k] = x.data[ic(k)] ? y.data[ia(k)] : z.data[ib(k)];
      return [{ shape, data }];
    }
    case 'Clip': {
      const lo = (a.min as number | null) ?? Number.NEGATIVE_INFINITY;
      const hi = (a.max as number | null) ?? Number.POSITIVE_INFINITY;
      return [map1(x, (v) => Math.min(Math.max(v, lo), hi))];
    }
    case 'AddN':
      return [ins.reduce((p, q) => map2(p, q, (u, v) => u + v))];
    case 'MatMul': {
      const pa = a.transA === true ? swapLast(x) : x;
      const pb = a.transB === true ? swapLast(y) : y;
      let out = matmul(pa, pb);
      const alpha = (a.alpha as number | undefined) ?? 1;
      if (alpha !== 1) out = map1(out, (v) => v * alpha);
      if (z) out = map2(out, z, (p, q) => p + q);
      return [out];
    }
    case 'ReduceSum':
      return [reduce(x, a.axes as number[], a.keepdims === true, 0, (s, v) => s + v)];
    case 'ReduceMean': {
      const axes = a.axes as number[];
      const cnt = axes.reduce((s, i) => s * x.shape[i], 1);
      return [
        map1(
          reduce(x, axes, a.keepdims === true, 0, (s, v) => s + v),
          (v) => v / cnt,
        ),
      ];
    }
    case 'ReduceMax':
      return [reduce(x, a.axes as number[], a.keepdims === true, Number.NEGATIVE_INFINITY, Math.max)];
    case 'ReduceMin':
      return [reduce(x, a.axes as number[], a.keepdims === true, Number.POSITIVE_INFINITY, Math.min)];
    case 'Softmax':
      return [softmax(x, a.axis as number)];
    case 'LogSoftmax':
      return [map1(softmax(x, a.axis as number), Math.log)];
    case 'Transpose':
      return [transpose(x, a.perm as number[])];
    case 'Reshape':
      return [{ shape: (a.shape as Dim[]).map(dim), data: x.data }];
    case 'Expand': {
      const shape = (a.shape as Dim[]).map(dim);
      return [map2(x, { shape, data: new Float64Array(size(shape)) }, (p) => p)];
    }
    case 'Concat': {
      const axis = a.axis as number;
      const outer = size(x.shape.slice(0, axis));
      const parts = ins.map((t) => ({ t, w: size(t.shape.slice(axis)) }));
      const data: number[] = [];
      for (let o = 0; o < outer; o++)
        for (const { t, w } of parts) data.push(...t.data.subarray(o * w, o * w + w));
      const shape = [...x.shape];
      shape[axis] = ins.reduce((s, t) => s + t.shape[axis], 0);
      return [{ shape, data: Float64Array.from(data) }];
    }
    case 'Split': {
      const axis = a.axis as number;
      let start = 0;
      return (a.sizes as Dim[]).map((d) => {
        const len = dim(d);
        const out = sliceF64(x, [start], [start + len], [axis]);
        start += len;
        return out;
      });
    }
    case 'Slice': {
      const axes = a.axes as number[];
      const starts: number[] = [];
      const ends: number[] = [];
      axes.forEach((ax, i) => {
        const b = sliceBounds(x.shape[ax], (a.starts as number[])[i], (a.ends as number[])[i]);
        starts.push(b.begin as number);
        ends.push(b.end as number);
      });
      return [sliceF64(x, starts, ends, axes)];
    }
    case 'PadZeros': {
      const before = (a.before as Dim[]).map(dim);
      const after = (a.after as Dim[]).map(dim);
      const shape = x.shape.map((d, i) => d + before[i] + after[i]);
      const data = new Float64Array(size(shape));
      const xs = strides(x.shape);
      const os = strides(shape);
      for (let k = 0; k < x.data.length; k++) {
        let o = 0;
        for (let i = 0; i < shape.length; i++)
          o += ((Math.floor(k / xs[i]) % x.shape[i]) + before[i]) * os[i];
        data[o] = x.data[k];
      }
      return [{ shape, data }];
    }
    case 'Zeros': {
      const shape = (a.shape as Dim[]).map(dim);
      return [{ shape, data: new Float64Array(size(shape)) }];
    }
    case 'DimValue':
      return [{ shape: [], data: Float64Array.of(dim(a.dim as Dim)) }];
    case 'Gather':
      return [gatherRows(x, y)];
    case 'ScatterAdd':
      return [scatterAddRows(x, y, z)];
    case 'Propagate': {
      const [xx, src, dst, s1, s2] = ins;
      const rows = dim(a.rows as Dim);
      const d = xx.shape[1];
      const out = new Float64Array(rows * d);
      for (let e = 0; e < src.data.length; e++) {
        const s = src.data[e];
        const t = dst.data[e];
        const w = a.form === 'factored' ? s1.data[t] * s2.data[s] : s1.data[e];
        for (let j = 0; j < d; j++) out[t * d + j] += w * xx.data[s * d + j];
      }
      return [{ shape: [rows, d], data: out }];
    }
    default:
      throw new PromaxError({ code: 'NOT_IMPLEMENTED', message: `reference: op ${n.op}` });
  }
}

function sliceF64(x: F64, starts: number[], ends: number[], axes: number[]): F64 {
  const lo = x.shape.map(() => 0);
  const hi = [...x.shape];
  axes.forEach((ax, i) => {
    lo[ax] = starts[i];
    hi[ax] = ends[i];
  });
  const shape = hi.map((h, i) => h - lo[i]);
  const data = new Float64Array(size(shape));
  const xs = strides(x.shape);
  const os = strides(shape);
  for (let k = 0; k < data.length; k++) {
    let src = 0;
    for (let i = 0; i < shape.length; i++) src += ((Math.floor(k / os[i]) % shape[i]) + lo[i]) * xs[i];
    data[k] = x.data[src];
  }
  return { shape, data };
}
