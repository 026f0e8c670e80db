import { PromaxError } from '@promax/core';
import { ancestors } from '../autodiff/gradients.js';
import type { GraphBuilder } from '../graph/builder.js';
import { type Dim, dimTerms } from '../graph/dims.js';
import type { ConstantData, DType, LowerContext, SymbolicTensor } from '../graph/ir.js';
import type { ModelDef, NodeDef, TensorInit, ValueInfo } from '../onnx/model-proto.js';

/** A graph input of a lowered model. */
export interface LoweredInput {
  name: string;
  dtype: DType;
  shape: readonly Dim[];
  kind: 'input' | 'param';
}

export interface LoweredModel {
  model: ModelDef;
  inputs: LoweredInput[];
  outputs: { name: string; dtype: DType }[];
}

/**
 * Turns the part of a graph that `outputs` depend on into an ONNX model. Value names are
 * assigned in emission order, so the same graph structure always gives the same bytes (the
 * session cache key).
 */
export function lowerGraph(
  g: GraphBuilder,
  outputs: readonly { name: string; tensor: SymbolicTensor }[],
  graphName = 'promax',
): LoweredModel {
  const nodes = ancestors(outputs.map((o) => o.tensor));
  const nodeDefs: NodeDef[] = [];
  const initializers: TensorInit[] = [];
  const names = new Map<number, string>();
  const memo = new Map<string, string>();
  const usedInputs = new Set<string>();
  let counter = 0;
  const fresh = (): string => `v${counter++}`;

  // Graph outputs take the name of their producing tensor when they can.
  const outputName = new Map<number, string>();
  for (const o of outputs) {
    const t = o.tensor;
    if (t.node.inputs.length > 0 && !outputName.has(t.id)) outputName.set(t.id, o.name);
  }

  const nameOf = (t: SymbolicTensor): string => {
    const known = names.get(t.id);
    if (known !== undefined) return known;
    const n = t.node;
    let name: string;
    if (n.op === 'Input' || n.op === 'Param') {
      name = n.attrs.name as string;
      usedInputs.add(name);
    } else if (n.op === 'Constant') {
      name = fresh();
      initializers.push({
        name,
        dtype: n.attrs.dtype as DType,
        dims: n.attrs.shape as number[],
        data: n.attrs.data as ConstantData,
      });
    } else {
      name = outputName.get(t.id) ?? fresh();
    }
    names.set(t.id, name);
    return name;
  };

  const constant = (key: string, init: () => TensorInit): string =>
    ctx.memo(key, () => {
      const t = init();
      initializers.push(t);
      return t.name;
    });

  const dimValue = (dim: Dim): string => {
    if (typeof dim === 'number') return ctx.int64s([dim]);
    return ctx.memo(`dim:${dim}`, () => {
      let sum: string | undefined;
      for (const { coef, symbols } of dimTerms(dim)) {
        let term: string | undefined;
        for (const s of symbols) {
          const src = g.symbolSource(s);
          if (!src) {
            throw new PromaxError({
              code: 'ENGINE_ERROR',
              message: `symbolic dim '${s}' is not a dim of any input, so its value is unknown at run time`,
              fix: 'declare an input that has this dim',
            });
          }
          usedInputs.add(src.input);
          const v = ctx.memo(
            `sym:${s}`,
            () =>
              ctx.emit('Shape', [src.input], 1, {
                start: { type: 'int', value: src.axis },
                end: { type: 'int', value: src.axis + 1 },
              })[0],
          );
          term = term === undefined ? v : ctx.emit('Mul', [term, v], 1)[0];
        }
        if (term === undefined) term = ctx.int64s([coef]);
        else if (coef !== 1) term = ctx.emit('Mul', [term, ctx.int64s([coef])], 1)[0];
        sum = sum === undefined ? term : ctx.emit('Add', [sum, term], 1)[0];
      }
      return sum ?? ctx.int64s([0]);
    });
  };

  const ctx: LowerContext = {
    input: (node, i) => nameOf(node.inputs[i]),
    output: (node, i) => nameOf(node.outputs[i]),
    emit(op, inputs, outs, attrs) {
      const o =
        typeof outs === 'number' || outs === undefined ? Array.from({ length: outs ?? 1 }, fresh) : [...outs];
      nodeDefs.push({ op, inputs: [...inputs], outputs: o, attributes: attrs });
      return o;
    },
    int64s: (values) =>
      constant(`i64:${values.join(',')}`, () => ({
        name: fresh(),
        dtype: 'int64',
        dims: [values.length],
        data: BigInt64Array.from(values, (v) => BigInt(v)),
      })),
    float32: (values, dims) => {
      const list = typeof values === 'number' ? [values] : values;
      const d = dims ?? (typeof values === 'number' ? [] : [list.length]);
      return constant(`f32:${d.join('x')}:${list.join(',')}`, () => ({
        name: fresh(),
        dtype: 'float32',
        dims: d,
        data: Float32Array.from(list),
      }));
    },
    shape(shape) {
      if (shape.every((d) => typeof d === 'number')) return ctx.int64s(shape as number[]);
      return ctx.memo(`shape:${shape.join(',')}`, () => {
        if (shape.length === 1) return dimValue(shape[0]);
        return ctx.emit('Concat', shape.map(dimValue), 1, { axis: { type: 'int', value: 0 } })[0];
      });
    },
    memo(key, build) {
      const hit = memo.get(key);
      if (hit !== undefined) return hit;
      const v = build();
      memo.set(key, v);
      return v;
    },
  };

  for (const node of nodes) {
    if (node.inputs.length === 0 && (node.op === 'Input' || node.op === 'Param' || node.op === 'Constant'))
      continue;
    g.opDef(node.op).lower(ctx, node);
  }

  // Outputs that are leaves, or a tensor requested under two names, go through Identity.
  const outputInfos: ValueInfo[] = [];
  for (const o of outputs) {
    const src = nameOf(o.tensor);
    if (src !== o.name) nodeDefs.push({ op: 'Identity', inputs: [src], outputs: [o.name] });
    outputInfos.push({ name: o.name, dtype: o.tensor.dtype });
  }

  const inputs: LoweredInput[] = [];
  const inputInfos: ValueInfo[] = [];
  for (const t of [...g.inputs(), ...g.params()]) {
    const name = t.leafName as string;
    if (!usedInputs.has(name)) continue;
    inputs.push({ name, dtype: t.dtype, shape: t.shape, kind: t.node.op === 'Param' ? 'param' : 'input' });
    inputInfos.push({ name, dtype: t.dtype, shape: t.shape });
  }

  return {
    model: {
      graph: { name: graphName, inputs: inputInfos, outputs: outputInfos, nodes: nodeDefs, initializers },
      opset: 18,
    },
    inputs,
    outputs: outputs.map((o) => ({ name: o.name, dtype: o.tensor.dtype })),
  };
}
