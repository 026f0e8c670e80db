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
 * Parameter specs of a profile MLP named `<prefix>.w1` [in, hidden], `<prefix>.b1` [hidden],
 * `<prefix>.w2` [hidden, out], `<prefix>.b2` [out]: xavier-uniform weights, PyTorch bias init.
 * Weights are stored input-major so a row batch X [R, in] maps as X·W₁.
 */
export function profileMlpParameters(prefix: string, shape: ProfileMlpShape): ParameterSpec[] {
  const { input, hidden, output } = shape;
  return [
    { name: `${prefix}.w1`, shape: [input, hidden], role: 'weight', init: xavierUniform() },
    { name: `${prefix}.b1`, shape: [hidden], role: 'weight', init: linearBiasInit(input) },
    { name: `${prefix}.w2`, shape: [hidden, output], role: 'weight', init: xavierUniform() },
    { name: `${prefix}.b2`, shape: [output], role: 'weight', init: linearBiasInit(hidden) },
  ];
}

/** f(X) = LeakyReLU(X·W₁ + b₁)·W₂ + b₂ with slope 0.01 (PyTorch's default), X [R, in]. */
export function profileMlp(
  g: GraphBuilder,
  x: SymbolicTensor,
  params: Readonly<Record<string, SymbolicTensor>>,
  prefix: string,
): SymbolicTensor {
  const h = g.leakyRelu(g.add(g.matmul(x, params[`${prefix}.w1`]), params[`${prefix}.b1`]), 0.01);
  return g.add(g.matmul(h, params[`${prefix}.w2`]), params[`${prefix}.b2`]);
}
