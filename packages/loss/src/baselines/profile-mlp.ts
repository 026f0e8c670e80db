import type { ParameterInitializer, ParameterSpec } from '@promax/core';
import { type GraphBuilder, type SymbolicTensor, xavierUniform } from '@promax/tensor';

/** Uniform(±1/√fan_in): PyTorch's default bias initialisation of a Linear layer. */
export function linearBiasInit(fanIn: number): ParameterInitializer {
  const bound = 1 / Math.sqrt(fanIn);
  return (out, _shape, rng) => {
    for (let i = 0; i < out.length; i++) out[i] = (2 * rng.nextFloat() - 1) * bound;
  };
}

/** Xavier-uniform with explicit fans (for stacked expert blocks whose shape hides them). */
export function xavierUniformFans(fanIn: number, fanOut: number): ParameterInitializer {
  const a = Math.sqrt(6 / (fanIn + fanOut));
  return (out, _shape, rng) => {
    for (let i = 0; i < out.length; i++) out[i] = (2 * rng.nextFloat() - 1) * a;
  };
}

/** The sizes of a two-layer profile MLP f(x) = W₂·LeakyReLU(W₁x + b₁) + b₂ (baselines.md §1). */
export interface ProfileMlpShape {
  readonly input: number;
  readonly hidden: number;
  readonly output: number;
}

/** H = ⌊(D + d)/2⌋, RLMRec's hidden width (1536 → 784 → 32). */
export function rlmrecHidden(input: number, output: number): number {
  return Math.floor((input + output) / 2);
}

/**
 * An initialiser for a weight stored output-major ([out, in], torch.nn.Linear's layout) that
 * draws exactly the values `inner` would draw for the input-major [in, out] layout, transposed.
 * Keeps a run's initial weights (and so its trajectory) independent of the storage layout.
 */
export function transposedInit(inner: ParameterInitializer): ParameterInitializer {
  return (out, shape, rng) => {
    const [rows, cols] = shape;
    const drawn = new Float32Array(out.length);
    inner(drawn, [cols, rows], rng);
    for (let i = 0; i < cols; i++) for (let j = 0; j < rows; j++) out[j * cols + i] = drawn[i * rows + j];
  };
}

/**
 * Parameter specs of a profile MLP named `<prefix>.w1` [hidden, in] (output-major, like
 * torch.nn.Linear.weight), `<prefix>.b1` [hidden], `<prefix>.w2` [hidden, out], `<prefix>.b2` [out]:
 * xavier-uniform weights (drawn as for an input-major W₁, so the values do not depend on the
 * layout), PyTorch bias init.
 */
export function profileMlpParameters(prefix: string, shape: ProfileMlpShape): ParameterSpec[] {
  const { input, hidden, output } = shape;
  return [
    { name: `${prefix}.w1`, shape: [hidden, input], role: 'weight', init: transposedInit(xavierUniform()) },
    { name: `${prefix}.b1`, shape: [hidden], role: 'weight', init: linearBiasInit(input) },
    { name: `${prefix}.w2`, shape: [hidden, output], role: 'weight', init: xavierUniform() },
    { name: `${prefix}.b2`, shape: [output], role: 'weight', init: linearBiasInit(hidden) },
  ];
}

/**
 * f(X) = LeakyReLU(X·W₁ᵀ + b₁)·W₂ + b₂ with slope 0.01 (PyTorch's default), X [R, in] → [R, out].
 *
 * The hidden layer is computed transposed, Hᵀ = W₁·Xᵀ [hidden, R]: the wide rows X (profiles,
 * 1536 floats each) are then the GEMM's packed operand, which onnxruntime's MLAS runs ≈ 1.3–1.4×
 * faster than X·W₁ at these shapes, and W₁'s gradient (Gᵀ·X, the other large GEMM) needs no
 * transpose of X either. Same values as the row layout up to float32 summation order.
 */
export function profileMlp(
  g: GraphBuilder,
  x: SymbolicTensor,
  params: Readonly<Record<string, SymbolicTensor>>,
  prefix: string,
): SymbolicTensor {
  const w1 = params[`${prefix}.w1`];
  const hidden = w1.shape[0];
  const pre = g.add(g.matmul(w1, x, { transposeB: true }), g.reshape(params[`${prefix}.b1`], [hidden, 1]));
  const ht = g.leakyRelu(pre, 0.01);
  return g.add(g.matmul(ht, params[`${prefix}.w2`], { transposeA: true }), params[`${prefix}.b2`]);
}
