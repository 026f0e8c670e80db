import type { ParameterSpec } from '@promax/core';
import { linearBiasInit, transposedInit, xavierUniformFans } from '@promax/loss';
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
 * specific experts and its gate. Expert first layers are stacked output-major ([E·h, D], rows
 * j·h … (j+1)·h − 1 are expert j, like torch.nn.Linear.weight) so every expert of a tower runs as
 * ONE GEMM; second layers are a stack [E, h, d] (one batched GEMM); the gate is [E, D]. Weights are
 * drawn as for the input-major layout, so their values do not depend on the storage layout.
 */
export function heaParameters(prefix: string, s: HeaShape): ParameterSpec[] {
  const { input: D, hidden: h, output: d } = s;
  const block = (name: string, n: number): ParameterSpec[] =>
    n === 0
      ? []
      : [
          {
            name: `${name}.w1`,
            shape: [n * h, D],
            role: 'weight',
            init: transposedInit(xavierUniformFans(D, h)),
          },
          { name: `${name}.b1`, shape: [n * h], role: 'weight', init: linearBiasInit(D) },
          { name: `${name}.w2`, shape: [n, h, d], role: 'weight', init: xavierUniformFans(h, d) },
          { name: `${name}.b2`, shape: [n, d], role: 'weight', init: linearBiasInit(h) },
        ];
  const experts = s.shared + s.specific;
  const tower = (t: string): ParameterSpec[] => [
    ...block(`${prefix}.${t}`, s.specific),
    {
      name: `${prefix}.${t}.gate.w`,
      shape: [experts, D],
      role: 'weight',
      init: transposedInit(xavierUniformFans(D, experts)),
    },
    { name: `${prefix}.${t}.gate.b`, shape: [experts], role: 'weight', init: linearBiasInit(D) },
  ];
  return [...block(`${prefix}.shared`, s.shared), ...tower('user'), ...tower('item')];
}

/**
 * a = Σ_j softmax(W_t x + b_t)_j · expert_j(x) for x [R, D] → [R, d], with expert_j(x) =
 * ReLU(W₂ⱼ ReLU(W₁ⱼ x + b₁ⱼ) + b₂ⱼ) (ReLU after every layer, as KAR's `MLP`), experts = the
 * shared ones then the tower's own.
 *
 * Computed column-major (one column per row of x): Hᵀ = W₁·xᵀ [E·h, R], so the wide profile rows
 * are the GEMM's packed operand (the fast orientation for onnxruntime's MLAS, see profileMlp) and
 * W₁'s gradient is Gᵀ·x with no transpose of x; only the [d, R] result is transposed back.
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
  const join = (suffix: string) => {
    const xs = parts(suffix);
    return xs.length === 1 ? xs[0] : g.concat(xs, 0);
  };
  const column = (v: SymbolicTensor, n: number) => g.reshape(v, [n, 1]);
  // [E·h, R] → [E, h, R]: expert j's hidden units for every row.
  const ht = g.relu(g.add(g.matmul(join('w1'), x, { transposeB: true }), column(join('b1'), E * s.hidden)));
  const hidden = g.reshape(ht, [E, s.hidden, -1]);
  // [E, h, d]ᵀ·[E, h, R] → [E, d, R].
  const experts = g.relu(
    g.add(g.matmul(join('w2'), hidden, { transposeA: true }), g.reshape(join('b2'), [E, s.output, 1])),
  );
  const gate = g.softmax(
    g.add(
      g.matmul(p[`${prefix}.${tower}.gate.w`], x, { transposeB: true }),
      column(p[`${prefix}.${tower}.gate.b`], E),
    ),
    0,
  );
  const mixed = g.reduceSum(g.mul(experts, g.unsqueeze(gate, 1)), [0]);
  return g.transpose(mixed, [1, 0]);
}
