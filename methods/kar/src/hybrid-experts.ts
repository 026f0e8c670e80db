import type { ParameterSpec } from '@promax/core';
import { linearBiasInit, xavierUniformFans } from '@promax/loss';
import type { GraphBuilder, SymbolicTensor } from '@promax/tensor';

/** The sizes of KAR's hybrid-expert adaptor (HEA). */
export interface HeaShape {
  readonly input: number;
  readonly shared: number;
  readonly specific: number;
  readonly hidden: number;
  readonly output: number;
}

/**
 * Parameters of the HEA: the shared experts' layers (stacked), and per tower (user, item) its
 * specific experts and its gate. Expert first layers are stored side by side ([D, E·h]) so every
 * expert of a tower runs as ONE GEMM; second layers are a stack [E, h, d] (one batched GEMM).
 */
export function heaParameters(prefix: string, s: HeaShape): ParameterSpec[] {
  const { input: D, hidden: h, output: d } = s;
  const block = (name: string, n: number): ParameterSpec[] =>
    n === 0
      ? []
      : [
          { name: `${name}.w1`, shape: [D, n * h], role: 'weight', init: xavierUniformFans(D, h) },
          { name: `${name}.b1`, shape: [n * h], role: 'weight', init: linearBiasInit(D) },
          { name: `${name}.w2`, shape: [n, h, d], role: 'weight', init: xavierUniformFans(h, d) },
          { name: `${name}.b2`, shape: [n, d], role: 'weight', init: linearBiasInit(h) },
        ];
  const experts = s.shared + s.specific;
  const tower = (t: string): ParameterSpec[] => [
    ...block(`${prefix}.${t}`, s.specific),
    {
      name: `${prefix}.${t}.gate.w`,
      shape: [D, experts],
      role: 'weight',
      init: xavierUniformFans(D, experts),
    },
    { name: `${prefix}.${t}.gate.b`, shape: [experts], role: 'weight', init: linearBiasInit(D) },
  ];
  return [...block(`${prefix}.shared`, s.shared), ...tower('user'), ...tower('item')];
}

/**
 * a = Σ_j softmax(W_t x + b_t)_j · expert_j(x) for x [R, D], with expert_j(x) =
 * ReLU(W₂ⱼ ReLU(W₁ⱼ x + b₁ⱼ) + b₂ⱼ) (ReLU after every layer, as KAR's `MLP`), experts = the
 * shared ones then the tower's own.
 */
export function hybridExperts(
  g: GraphBuilder,
  x: SymbolicTensor,
  p: Readonly<Record<string, SymbolicTensor>>,
  prefix: string,
  tower: 'user' | 'item',
  s: HeaShape,
): SymbolicTensor {
  const E = s.shared + s.specific;
  const parts = (suffix: string) => [
    ...(s.shared > 0 ? [p[`${prefix}.shared.${suffix}`]] : []),
    p[`${prefix}.${tower}.${suffix}`],
  ];
  const join = (suffix: string, axis: number) => {
    const xs = parts(suffix);
    return xs.length === 1 ? xs[0] : g.concat(xs, axis);
  };
  const h = g.relu(g.add(g.matmul(x, join('w1', 1)), join('b1', 0)));
  const stacked = g.transpose(g.reshape(h, [-1, E, s.hidden]), [1, 0, 2]);
  const experts = g.relu(g.add(g.matmul(stacked, join('w2', 0)), g.reshape(join('b2', 0), [E, 1, s.output])));
  const gate = g.softmax(
    g.add(g.matmul(x, p[`${prefix}.${tower}.gate.w`]), p[`${prefix}.${tower}.gate.b`]),
    1,
  );
  const weights = g.unsqueeze(g.transpose(gate, [1, 0]), 2);
  return g.reduceSum(g.mul(experts, weights), [0]);
}
