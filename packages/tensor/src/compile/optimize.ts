import { ancestors } from '../autodiff/gradients.js';
import type { GraphBuilder } from '../graph/builder.js';
import { scalarConstant } from '../graph/composites/similarity.js';
import { type Dim, type Shape, sameShape } from '../graph/dims.js';
import type { Attrs, ConstantData, DType, GraphNode, SymbolicTensor } from '../graph/ir.js';
import { reducedShape } from '../graph/ops/reduce.js';

export interface NamedTensor {
  name: string;
  tensor: SymbolicTensor;
}

/** Rough element count (symbolic dims count as 1024) to decide whether a rewrite pays. */
function estimate(shape: Shape): number {
  let n = 1;
  for (const d of shape) n *= typeof d === 'number' ? d : 1024;
  return n;
}

type ScaleKind = 'row' | 'col' | 'scalar';

/** Mul(X, s) on a 2-D X where s scales whole rows ([m,1]), columns ([1,n] or [n]) or everything. */
interface VectorScale {
  x: SymbolicTensor;
  s: SymbolicTensor;
  kind: ScaleKind;
}

function vectorScale(node: GraphNode): VectorScale | undefined {
  if (node.op !== 'Mul') return undefined;
  const out = node.outputs[0].shape;
  if (out.length !== 2) return undefined;
  const [p, q] = node.inputs;
  for (const [x, s] of [
    [p, q],
    [q, p],
  ] as const) {
    if (!sameShape(x.shape, out)) continue;
    const ss: Dim[] = [...s.shape];
    while (ss.length < 2) ss.unshift(1);
    if (ss.length !== 2) continue;
    if (ss[0] === 1 && ss[1] === 1) return { x, s, kind: 'scalar' };
    if (ss[1] === 1) return { x, s, kind: 'row' };
    if (ss[0] === 1) return { x, s, kind: 'col' };
  }
  return undefined;
}

function isPlainMatMul2d(node: GraphNode): boolean {
  return node.op === 'MatMul' && node.inputs[0].rank === 2 && node.inputs[1].rank === 2;
}

/**
 * Where a scale of operand `which` of a 2-D matmul ends up: on the output's rows/columns, or on
 * the other operand's rows/columns (in that operand's own, untransposed layout).
 */
function pushTarget(
  node: GraphNode,
  which: 0 | 1,
  kind: 'row' | 'col',
): { on: 'output' | 'other'; axis: 0 | 1 } {
  const transA = node.attrs.transA === true;
  const transB = node.attrs.transB === true;
  if (which === 0) {
    // A row scale of op(A) is a row scale of the product; a column scale of op(A) moves to the rows of op(B).
    const rowOfOp = (kind === 'row') !== transA;
    if (rowOfOp) return { on: 'output', axis: 0 };
    return { on: 'other', axis: transB ? 1 : 0 };
  }
  // A column scale of op(B) is a column scale of the product; a row scale of op(B) moves to op(A)'s columns.
  const colOfOp = (kind === 'col') !== transB;
  if (colOfOp) return { on: 'output', axis: 1 };
  return { on: 'other', axis: transA ? 0 : 1 };
}

/**
 * Algebraic rewrites that keep results (up to float rounding) and remove passes over large
 * matrices, rebuilding the graph into a fresh builder:
 *  - a scalar factor on a 2-D matmul operand or result becomes Gemm's alpha;
 *  - a row/column scale (Mul by an [m,1] / [1,n] vector) on a matmul operand moves to the
 *    (smaller) product or other operand, and through ReduceSum: (r⊙E)·B = r⊙(E·B),
 *    (r⊙E)ᵀ·A = Eᵀ·(r⊙A), Σⱼ r⊙E = r⊙ΣⱼE — so softmax-normalised or gradient-scaled [m,n]
 *    matrices are never formed;
 *  - a constant or vector added to a single-use 2-D product becomes Gemm's bias (C).
 */
export function optimizeGraph(
  g: GraphBuilder,
  outputs: readonly NamedTensor[],
): { graph: GraphBuilder; outputs: NamedTensor[] } {
  const nodes = ancestors(outputs.map((o) => o.tensor));
  const uses = new Map<number, { node: GraphNode; index: number }[]>();
  const isOutput = new Set(outputs.map((o) => o.tensor.id));
  for (const n of nodes) {
    n.inputs.forEach((t, index) => {
      const list = uses.get(t.id);
      if (list) list.push({ node: n, index });
      else uses.set(t.id, [{ node: n, index }]);
    });
  }

  // Mul nodes whose every use can absorb the scale (so the [m,n] product is never formed).
  const pushable = new Map<number, VectorScale>();
  for (const n of nodes) {
    const vs = vectorScale(n);
    if (!vs || vs.kind === 'scalar') continue;
    const y = n.outputs[0];
    if (isOutput.has(y.id)) continue;
    const list = uses.get(y.id) ?? [];
    const ok =
      list.length > 0 &&
      list.every(({ node: u, index }) => {
        if (isPlainMatMul2d(u) && index < 2) {
          const t = pushTarget(u, index as 0 | 1, vs.kind as 'row' | 'col');
          const targetSize =
            t.on === 'output' ? estimate(u.outputs[0].shape) : estimate(u.inputs[1 - index].shape);
          return targetSize < estimate(y.shape);
        }
        if (u.op === 'ReduceSum') {
          const axes = u.attrs.axes as number[];
          return axes.every((a) => (vs.kind === 'row' ? a === 1 : a === 0));
        }
        return false;
      });
    if (ok) pushable.set(n.id, vs);
  }

  const ng = g.emptyLike();
  const map = new Map<number, SymbolicTensor>();
  const m = (t: SymbolicTensor): SymbolicTensor => map.get(t.id) as SymbolicTensor;

  for (const t of [...g.inputs(), ...g.params()]) {
    const copy =
      t.node.op === 'Param'
        ? ng.param(t.leafName as string, t.shape as number[])
        : ng.input(t.leafName as string, t.dtype, t.shape);
    map.set(t.id, copy);
  }

  /** A scale vector in the orientation needed to scale `axis` of a 2-D tensor with `len` entries on that axis. */
  const orient = (s: SymbolicTensor, len: Dim, axis: 0 | 1): SymbolicTensor =>
    ng.reshape(m(s), axis === 0 ? [len, 1] : [1, len]);

  const rewriteMatMul = (node: GraphNode): SymbolicTensor => {
    const transA = node.attrs.transA === true;
    const transB = node.attrs.transB === true;
    let alpha = (node.attrs.alpha as number | undefined) ?? 1;
    const operands: SymbolicTensor[] = [node.inputs[0], node.inputs[1]];
    const out = node.outputs[0];
    let outRow: SymbolicTensor | undefined;
    let outCol: SymbolicTensor | undefined;
    const otherScale: (SymbolicTensor | undefined)[] = [undefined, undefined];
    const plain = isPlainMatMul2d(node);
    for (const which of [0, 1] as const) {
      // Scalar constant factors fold into alpha.
      for (;;) {
        const p = operands[which].node;
        if (p.op !== 'Mul') break;
        const c0 = scalarConstant(p.inputs[0]);
        const c1 = scalarConstant(p.inputs[1]);
        if (c1 !== undefined && sameShape(p.inputs[0].shape, operands[which].shape)) {
          alpha *= c1;
          operands[which] = p.inputs[0];
        } else if (c0 !== undefined && sameShape(p.inputs[1].shape, operands[which].shape)) {
          alpha *= c0;
          operands[which] = p.inputs[1];
        } else break;
      }
      if (!plain) continue;
      const vs = pushable.get(operands[which].node.id);
      if (!vs) continue;
      const kind = vs.kind as 'row' | 'col';
      const target = pushTarget(node, which, kind);
      const len = vs.x.shape[kind === 'row' ? 0 : 1];
      operands[which] = vs.x;
      if (target.on === 'output') {
        if (target.axis === 0) outRow = outRow ? ng.mul(outRow, orient(vs.s, len, 0)) : orient(vs.s, len, 0);
        else outCol = outCol ? ng.mul(outCol, orient(vs.s, len, 1)) : orient(vs.s, len, 1);
      } else {
        const o = 1 - which;
        const sv = orient(vs.s, len, target.axis);
        otherScale[o] = otherScale[o] ? ng.mul(otherScale[o] as SymbolicTensor, sv) : sv;
      }
    }
    const a = otherScale[0] ? ng.mul(m(operands[0]), otherScale[0]) : m(operands[0]);
    const b = otherScale[1] ? ng.mul(m(operands[1]), otherScale[1]) : m(operands[1]);
    const ins = [a, b];
    if (node.inputs[2]) ins.push(m(node.inputs[2]));
    let y = ng.apply('MatMul', ins, { transA, transB, alpha })[0];
    if (outRow) y = ng.mul(y, outRow);
    if (outCol) y = ng.mul(y, outCol);
    if (!sameShape(y.shape, out.shape)) y = ng.reshape(y, out.shape);
    return y;
  };

  for (const node of nodes) {
    if (node.op === 'Input' || node.op === 'Param') continue;
    if (node.op === 'Constant') {
      const c = ng.constant(node.attrs.data as ConstantData, {
        dtype: node.attrs.dtype as DType,
        shape: node.attrs.shape as number[],
      });
      map.set(node.outputs[0].id, c);
      continue;
    }
    let outs: SymbolicTensor[] | undefined;
    if (node.op === 'MatMul') outs = [rewriteMatMul(node)];
    else if (node.op === 'ReduceSum' && pushable.has(node.inputs[0].node.id)) {
      const vs = pushable.get(node.inputs[0].node.id) as VectorScale;
      const axes = node.attrs.axes as number[];
      const keep = node.attrs.keepdims === true;
      // Reduced with keepdims so that the sums are shared with other reductions of x.
      const summed = ng.reduceSum(m(vs.x), axes, true);
      const s =
        vs.kind === 'row' ? ng.reshape(m(vs.s), [vs.x.shape[0], 1]) : ng.reshape(m(vs.s), [1, vs.x.shape[1]]);
      const scaled = ng.mul(summed, s);
      outs = [keep ? scaled : ng.reshape(scaled, reducedShape(scaled.shape, axes, false))];
    } else if ((node.op === 'Add' || node.op === 'Sub') && foldableBias(node, uses, isOutput)) {
      const [p, q] = node.inputs;
      const prodFirst = p.node.op === 'MatMul' && (uses.get(p.id)?.length ?? 0) === 1 && !isOutput.has(p.id);
      const prod = m(prodFirst ? p : q);
      let bias = m(prodFirst ? q : p);
      if (node.op === 'Sub') bias = ng.neg(bias);
      const pn = prod.node;
      if (pn.op === 'MatMul' && pn.inputs.length === 2) {
        outs = [ng.apply('MatMul', [pn.inputs[0], pn.inputs[1], bias], pn.attrs as Attrs)[0]];
      }
    }
    outs ??= ng.apply(
      node.op,
      node.inputs.map((t) => m(t)),
      node.attrs,
    );
    node.outputs.forEach((t, i) => {
      const o = outs[i];
      if (t.hints.maxAbs !== undefined && o.hints.maxAbs === undefined) o.hints = { ...t.hints };
      map.set(t.id, o);
    });
  }
  return { graph: ng, outputs: outputs.map((o) => ({ name: o.name, tensor: m(o.tensor) })) };
}

/** Add(AB, c) / Sub(AB, c) with a single-use 2-D product and a c that Gemm's C input can take. */
function foldableBias(node: GraphNode, uses: Map<number, unknown[]>, isOutput: Set<number>): boolean {
  const [p, q] = node.inputs;
  const out = node.outputs[0].shape;
  const single = (t: SymbolicTensor): boolean =>
    t.node.op === 'MatMul' &&
    isPlainMatMul2d(t.node) &&
    t.node.inputs.length === 2 &&
    (uses.get(t.id)?.length ?? 0) === 1 &&
    !isOutput.has(t.id) &&
    sameShape(t.shape, out);
  const smallBias = (c: SymbolicTensor): boolean => c.rank <= 2 && estimate(c.shape) < estimate(out);
  if (single(p) && smallBias(q)) return true;
  return node.op === 'Add' && single(q) && smallBias(p);
}
