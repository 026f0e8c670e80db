import { PromaxError } from '@promax/core';
import type { GraphBuilder } from '../graph/builder.js';
import { broadcastShapes, formatShape, type Shape, sameShape } from '../graph/dims.js';
import type { GradContext, GraphNode, SymbolicTensor } from '../graph/ir.js';

/** Nodes that `roots` depend on, in a topological order (creation order). */
export function ancestors(roots: readonly SymbolicTensor[]): GraphNode[] {
  const seen = new Set<GraphNode>();
  const stack = roots.map((t) => t.node);
  while (stack.length > 0) {
    const n = stack.pop() as GraphNode;
    if (seen.has(n)) continue;
    seen.add(n);
    for (const t of n.inputs) if (!seen.has(t.node)) stack.push(t.node);
  }
  return [...seen].sort((a, b) => a.id - b.id);
}

/** Sums `grad` down to a shape that broadcasts to `shape` (size-1 axes may stay unexpanded). */
export function reduceTo(g: GraphBuilder, grad: SymbolicTensor, shape: Shape): SymbolicTensor {
  let t = grad;
  if (t.rank > shape.length) {
    t = g.reduceSum(
      t,
      Array.from({ length: t.rank - shape.length }, (_, i) => i),
      false,
    );
  }
  const offset = shape.length - t.rank;
  const axes: number[] = [];
  t.shape.forEach((d, i) => {
    if (shape[i + offset] === 1 && d !== 1) axes.push(i);
  });
  if (axes.length > 0) t = g.reduceSum(t, axes, true);
  const b = broadcastShapes('gradient', t.shape, shape);
  if (!sameShape(b, shape)) {
    throw new PromaxError({
      code: 'ENGINE_ERROR',
      message: `gradient of shape ${formatShape(grad.shape)} cannot be reduced to ${formatShape(shape)}`,
      fix: 'this is a bug in a gradient rule; please report it',
    });
  }
  return t;
}

/** Broadcasts a (reduced) gradient to exactly `shape`. */
export function materialize(g: GraphBuilder, grad: SymbolicTensor, shape: Shape): SymbolicTensor {
  const t = reduceTo(g, grad, shape);
  return sameShape(t.shape, shape) ? t : g.expand(t, shape);
}

/**
 * Reverse-mode differentiation: emits (into `g`, normally a fork of the model's builder) the
 * gradient of scalar `y` with respect to each tensor of `wrt`. Returns null for tensors `y`
 * does not depend on. Gradient contributions are summed in a fixed order, so the emitted graph
 * (and its results) are deterministic.
 */
export function gradients(
  g: GraphBuilder,
  y: SymbolicTensor,
  wrt: readonly SymbolicTensor[],
): (SymbolicTensor | null)[] {
  if (y.dtype !== 'float32' || y.shape.some((d) => d !== 1)) {
    throw new PromaxError({
      code: 'SHAPE_MISMATCH',
      message: `the loss must be a float32 scalar, got ${y}`,
      fix: 'reduce it, e.g. g.reduceMean(perExample)',
    });
  }
  const nodes = ancestors([y]);
  const wrtIds = new Set(wrt.map((t) => t.id));
  // Forward sweep: which tensors depend on a tensor we differentiate with respect to.
  const live = new Set<number>();
  for (const n of nodes) {
    for (const t of n.outputs) if (wrtIds.has(t.id)) live.add(t.id);
    if (n.inputs.some((t) => live.has(t.id))) for (const t of n.outputs) live.add(t.id);
  }

  const contributions = new Map<number, SymbolicTensor[]>();
  const add = (t: SymbolicTensor, grad: SymbolicTensor): void => {
    const list = contributions.get(t.id);
    if (list) list.push(grad);
    else contributions.set(t.id, [grad]);
  };
  const total = (t: SymbolicTensor): SymbolicTensor | null => {
    const list = contributions.get(t.id);
    if (!list || list.length === 0) return null;
    return g.addN(list);
  };
  add(y, y.rank === 0 ? g.scalar(1) : g.constant(Float32Array.of(1), { shape: y.shape as number[] }));

  for (let k = nodes.length - 1; k >= 0; k--) {
    const node = nodes[k];
    if (node.inputs.length === 0 || !node.outputs.some((t) => live.has(t.id))) continue;
    const def = g.opDef(node.op);
    let outGrads = node.outputs.map(total);
    if (outGrads.every((x) => x === null)) continue;
    const needs = node.inputs.map((t) => live.has(t.id) && t.dtype === 'float32');
    if (!needs.some(Boolean)) continue;
    if (!def.grad) {
      throw new PromaxError({
        code: 'NOT_IMPLEMENTED',
        message: `op ${node.op} has no gradient, but the loss depends on its input through it`,
        fix: 'wrap the input in g.stopGradient(...) if no gradient should flow',
      });
    }
    if (def.exactGrads) {
      outGrads = outGrads.map((gr, i) => (gr ? materialize(g, gr, node.outputs[i].shape) : gr));
    }
    const ctx: GradContext = {
      needs: (i) => needs[i],
      reduceTo: (gr, shape) => reduceTo(g, gr, shape),
      materialize: (gr, shape) => materialize(g, gr, shape),
    };
    const inGrads = def.grad(g, ctx, node, outGrads);
    node.inputs.forEach((t, i) => {
      const gi = inGrads[i];
      if (gi && needs[i]) add(t, reduceTo(g, gi, t.shape));
    });
  }
  return wrt.map((t) => {
    const gr = total(t);
    return gr ? materialize(g, gr, t.shape) : null;
  });
}
