import { PromaxError, type Rng } from '@promax/core';

/** Fills `out` (a parameter of `shape`) with initial values drawn from `rng`. */
export type Initializer = (out: Float32Array, shape: readonly number[], rng: Rng) => void;

/** PyTorch's fan_in / fan_out: a [out, in, ...] weight; a 1-D tensor counts as fan_in = fan_out = n. */
export function fans(shape: readonly number[]): { fanIn: number; fanOut: number } {
  if (shape.length === 0) {
    throw new PromaxError({
      code: 'INVALID_ARGUMENT',
      message: 'fan in/out of a scalar parameter is undefined',
    });
  }
  if (shape.length === 1) return { fanIn: shape[0], fanOut: shape[0] };
  let receptive = 1;
  for (let i = 2; i < shape.length; i++) receptive *= shape[i];
  return { fanIn: shape[1] * receptive, fanOut: shape[0] * receptive };
}

/** Xavier/Glorot uniform: U(−a, a), a = gain·√(6 / (fan_in + fan_out)) (torch.nn.init.xavier_uniform_). */
export function xavierUniform(gain = 1): Initializer {
  return (out, shape, rng) => {
    const { fanIn, fanOut } = fans(shape);
    const a = gain * Math.sqrt(6 / (fanIn + fanOut));
    for (let i = 0; i < out.length; i++) out[i] = (2 * rng.nextFloat() - 1) * a;
  };
}

/** Xavier/Glorot normal: N(0, σ²), σ = gain·√(2 / (fan_in + fan_out)). */
export function xavierNormal(gain = 1): Initializer {
  return (out, shape, rng) => {
    const { fanIn, fanOut } = fans(shape);
    const std = gain * Math.sqrt(2 / (fanIn + fanOut));
    for (let i = 0; i < out.length; i++) out[i] = rng.nextNormal() * std;
  };
}

/** N(mean, std²). */
export function normalInit(std: number, mean = 0): Initializer {
  return (out, _shape, rng) => {
    for (let i = 0; i < out.length; i++) out[i] = mean + rng.nextNormal() * std;
  };
}

/** U(low, high). */
export function uniformInit(low: number, high: number): Initializer {
  return (out, _shape, rng) => {
    for (let i = 0; i < out.length; i++) out[i] = low + (high - low) * rng.nextFloat();
  };
}

/** A constant (zeros by default). */
export function constantInit(value = 0): Initializer {
  return (out) => {
    out.fill(value);
  };
}
