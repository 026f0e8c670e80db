import type { Dim } from '../dims.js';
import type { GraphNode, LowerContext, OpDef, SymbolicTensor } from '../ir.js';
import { requireDType, requireRank, shapeError } from './checks.js';

/** Indices as int64 with a trailing axis of 1, the form ScatterND wants (emitted once per tensor). */
function scatterIndices(ctx: LowerContext, node: GraphNode, i: number): string {
  const name = ctx.input(node, i);
  return ctx.memo(`scatter-index:${name}`, () => {
    const i64 =
      node.inputs[i].dtype === 'int64'
        ? name
        : ctx.emit('Cast', [name], 1, { to: { type: 'int', value: 7 } })[0];
    return ctx.emit('Unsqueeze', [i64, ctx.int64s([-1])], 1)[0];
  });
}

/** A column vector view [n, 1] of a 1-D tensor (emitted once per tensor). */
function column(ctx: LowerContext, name: string): string {
  return ctx.memo(`column:${name}`, () => ctx.emit('Unsqueeze', [name, ctx.int64s([1])], 1)[0]);
}

/** Rows of `data` selected by integer `indices` (any shape): out = indices.shape ++ data.shape[1:]. */
export const Gather: OpDef = {
  name: 'Gather',
  infer([x, idx]) {
    requireRank('gather', 'data', x, 1, Number.POSITIVE_INFINITY);
    requireDType('gather', 'indices', idx, 'int32', 'int64');
    return [{ dtype: x.dtype, shape: [...idx.shape, ...x.shape.slice(1)] }];
  },
  lower(ctx, node) {
    ctx.emit('Gather', [ctx.input(node, 0), ctx.input(node, 1)], [ctx.output(node, 0)], {
      axis: { type: 'int', value: 0 },
    });
  },
  exactGrads: true,
  grad(g, _ctx, node, [gy]) {
    const [x, idx] = node.inputs;
    return [g.scatterAdd(g.zeros(x.shape), idx, gy as SymbolicTensor), null];
  },
};

/** target + Σ updates scattered to rows `indices` (duplicates add up). */
export const ScatterAdd: OpDef = {
  name: 'ScatterAdd',
  infer([target, idx, upd]) {
    requireDType('scatterAdd', 'target', target, 'float32');
    requireDType('scatterAdd', 'indices', idx, 'int32', 'int64');
    const want = [...idx.shape, ...target.shape.slice(1)];
    if (upd.rank !== want.length || upd.shape.some((d, i) => d !== want[i])) {
      throw shapeError(
        'scatterAdd',
        `updates must have shape indices.shape ++ target.shape[1:] = [${want.join(', ')}]`,
        {
          target,
          indices: idx,
          updates: upd,
        },
      );
    }
    return [{ dtype: 'float32', shape: target.shape }];
  },
  lower(ctx, node) {
    ctx.emit(
      'ScatterND',
      [ctx.input(node, 0), scatterIndices(ctx, node, 1), ctx.input(node, 2)],
      [ctx.output(node, 0)],
      {
        reduction: { type: 'string', value: 'add' },
      },
    );
  },
  grad(g, ctx, node, [gy]) {
    const [target, idx] = node.inputs;
    const gt = gy as SymbolicTensor;
    return [
      ctx.needs(0) ? ctx.reduceTo(gt, target.shape) : null,
      null,
      ctx.needs(2) ? g.gather(ctx.materialize(gt, target.shape), idx) : null,
    ];
  },
};

/**
 * Sparse × dense product Y = A·X for a sparse matrix A given as edge arrays (edge e adds
 * weight_e · X[src_e] to Y[dst_e]). Two weight forms:
 *  - 'factored': weight_e = left[dst_e] · right[src_e] (symmetric normalisation D^-½ A D^-½):
 *    the per-edge multiply disappears, X is scaled before and Y after — the fastest form;
 *  - 'weighted': explicit per-edge weights.
 * Lowering: Gather rows, (Mul), ScatterND(reduction=add) into zeros. The gradient is the
 * transposed propagation (for a symmetric A, the very same edge arrays).
 */
export const Propagate: OpDef = {
  name: 'Propagate',
  infer(inputs, attrs) {
    const [x, src, dst, a, b] = inputs;
    requireDType('propagate', 'x', x, 'float32');
    requireRank('propagate', 'x', x, 2);
    requireDType('propagate', 'src', src, 'int32', 'int64');
    requireDType('propagate', 'dst', dst, 'int32', 'int64');
    const cols = attrs.cols as Dim;
    const rows = attrs.rows as Dim;
    if (x.shape[0] !== cols) {
      throw shapeError('propagate', `x must have one row per source node (${cols})`, { x });
    }
    if (attrs.form === 'factored') {
      if (a.shape[0] !== rows || b.shape[0] !== cols) {
        throw shapeError('propagate', `left/right scales must have ${rows}/${cols} entries`, {
          left: a,
          right: b,
        });
      }
    } else if (a.shape[0] !== src.shape[0]) {
      throw shapeError('propagate', 'weight must have one entry per edge', { src, weight: a });
    }
    return [{ dtype: 'float32', shape: [rows, x.shape[1]] }];
  },
  lower(ctx, node) {
    const x = ctx.input(node, 0);
    const src = ctx.input(node, 1);
    const factored = node.attrs.form === 'factored';
    const xs = factored ? ctx.emit('Mul', [x, column(ctx, ctx.input(node, 4))], 1)[0] : x;
    let rows = ctx.emit('Gather', [xs, src], 1, { axis: { type: 'int', value: 0 } })[0];
    if (!factored) rows = ctx.emit('Mul', [rows, column(ctx, ctx.input(node, 3))], 1)[0];
    const d = node.inputs[0].shape[1];
    const zeros = ctx.emit('ConstantOfShape', [ctx.shape([node.attrs.rows as Dim, d])], 1, {
      value: {
        type: 'tensor',
        value: { name: 'value', dtype: 'float32', dims: [1], data: new Float32Array(1) },
      },
    })[0];
    const out = ctx.output(node, 0);
    const scatter = (outs: readonly string[] | number): string[] =>
      ctx.emit('ScatterND', [zeros, scatterIndices(ctx, node, 2), rows], outs, {
        reduction: { type: 'string', value: 'add' },
      });
    if (factored) ctx.emit('Mul', [scatter(1)[0], column(ctx, ctx.input(node, 3))], [out]);
    else scatter([out]);
  },
  exactGrads: true,
  grad(g, _ctx, node, [gy]) {
    const [, src, dst, a, b] = node.inputs;
    const gt = gy as SymbolicTensor;
    const symmetric = node.attrs.symmetric === true;
    const rows = node.attrs.rows as Dim;
    const cols = node.attrs.cols as Dim;
    const form = node.attrs.form as 'factored' | 'weighted';
    // Aᵀ: swap the roles of src and dst (and of the left/right scales). A symmetric edge list is
    // its own transpose, so the same (dst-sorted, cache-friendly) arrays are reused.
    const [s, t] = symmetric ? [src, dst] : [dst, src];
    const scales = form === 'factored' ? [b, a] : [a];
    return [
      g.propagateRaw(gt, s, t, scales, { form, symmetric, rows: cols, cols: rows }),
      null,
      null,
      null,
      null,
    ];
  },
};

export const INDEXING_OPS: readonly OpDef[] = [Gather, ScatterAdd, Propagate];
