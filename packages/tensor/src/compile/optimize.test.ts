import { describe, expect, it } from 'vitest';
import { ancestors, gradients } from '../autodiff/gradients.js';
import { GraphBuilder } from '../graph/builder.js';
import type { SymbolicTensor } from '../graph/ir.js';
import { checkGradients } from '../testing/grad-check.js';
import { optimizeGraph } from './optimize.js';

/** Row- and column-scaled operands in every transpose position of a 2-D product. */
function scaledProducts(g: GraphBuilder): SymbolicTensor {
  const e = g.exp(g.param('s', [5, 6]));
  const pc = g.mul(e, g.param('c', [6]));
  const pr = g.mul(e, g.param('r', [5, 1]));
  const terms = [
    g.matmul(pc, g.param('b1', [6, 2])),
    g.matmul(pc, g.param('b2', [5, 2]), { transposeA: true }),
    g.matmul(g.param('a1', [3, 5]), pc),
    g.matmul(g.param('a2', [3, 6]), pc, { transposeB: true }),
    g.matmul(pr, g.param('b3', [2, 6]), { transposeB: true }),
    g.matmul(g.param('a3', [5, 2]), pr, { transposeA: true }),
    g.matmul(g.mul(g.param('a4', [4, 6]), 0.5), pr, { transposeB: true }),
  ];
  return g.addN([...terms.map((t) => g.reduceSum(g.tanh(t))), g.reduceSum(g.reduceSum(pr, 1))]);
}

describe('optimizeGraph', () => {
  it('moves row/column scales off [m, n] products in every transpose position', () => {
    const g = new GraphBuilder();
    const y = scaledProducts(g);
    const fork = g.fork();
    const grads = gradients(fork, y, g.params());
    const outputs = [
      { name: 'y', tensor: y },
      ...grads.map((t, i) => ({ name: `g${i}`, tensor: t as SymbolicTensor })),
    ];
    const before = ancestors(outputs.map((o) => o.tensor));
    const opt = optimizeGraph(fork, outputs);
    const after = ancestors(opt.outputs.map((o) => o.tensor));
    // The forward scalings e⊙c and e⊙r ([5, 6]) are formed before the rewrite, never after.
    const scalings = (nodes: typeof before) =>
      nodes.filter(
        (n) =>
          n.op === 'Mul' &&
          n.inputs.some((t) => t.node.op === 'Exp') &&
          n.inputs.some((t) => t.leafName === 'c' || t.leafName === 'r'),
      );
    expect(scalings(before).map((n) => n.outputs[0].shape)).toEqual([
      [5, 6],
      [5, 6],
    ]);
    expect(scalings(after).every((n) => n.outputs[0].shape.join() !== '5,6')).toBe(true);
    // Scalar factors became Gemm alpha.
    expect(after.some((n) => n.op === 'MatMul' && n.attrs.alpha === 0.5)).toBe(true);
  });

  it('keeps values and gradients (checked against finite differences, optimised or not)', async () => {
    const on = await checkGradients(scaledProducts);
    const off = await checkGradients(scaledProducts, { compile: { optimize: false } });
    expect(on.maxGradError).toBeLessThan(1e-3);
    expect(off.maxGradError).toBeLessThan(1e-3);
    expect(on.output.onnx[0]).toBeCloseTo(off.output.onnx[0], 4);
  });
});
