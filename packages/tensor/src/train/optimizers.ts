import { PromaxError } from '@promax/core';
import type { ParameterStore } from './parameter-store.js';

/** Gradients by parameter name (as returned by `TrainingProgram.run`). */
export type Gradients = ReadonlyMap<string, Float32Array>;

/** Updates parameters in place from their gradients. */
export interface Optimizer {
  /** One update of every parameter that has a gradient (others are left alone, as in PyTorch). */
  step(store: ParameterStore, grads: Gradients): void;
  /** Forgets moments and step counts. */
  reset(): void;
}

export interface AdamOptions {
  /** Learning rate (default 1e-3). May be changed between steps via `adam.lr`. */
  lr?: number;
  beta1?: number;
  beta2?: number;
  eps?: number;
  /** Weight decay (default 0). */
  weightDecay?: number;
  /** true: decoupled decay p ← p·(1 − lr·wd) (AdamW); false (default): L2, g ← g + wd·p (Adam). */
  decoupledWeightDecay?: boolean;
  /**
   * Lazy row updates ("LazyAdam", default false): rows (slices along the first axis) whose
   * gradient is all zero are skipped — their moments do not decay and they do not move. Cheaper
   * when a step touches few rows of a big embedding table (e.g. MF, where only the batch's rows
   * get gradients), but NOT PyTorch's dense Adam semantics. Bias correction uses the step count.
   */
  lazyRows?: boolean;
}

function checkGrad(name: string, p: Float32Array, g: Float32Array): void {
  if (p.length !== g.length) {
    throw new PromaxError({
      code: 'SHAPE_MISMATCH',
      message: `gradient of '${name}' has ${g.length} values, the parameter ${p.length}`,
      field: name,
    });
  }
}

/**
 * Adam with bias correction, following torch.optim.Adam / AdamW (non-amsgrad):
 * m ← β1·m + (1−β1)·g, v ← β2·v + (1−β2)·g², p ← p − (lr / (1−β1ᵗ)) · m / (√v / √(1−β2ᵗ) + ε).
 * Moments are float32 arrays allocated on a parameter's first step; steps allocate nothing.
 */
export class Adam implements Optimizer {
  lr: number;
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  readonly weightDecay: number;
  readonly decoupled: boolean;
  readonly lazyRows: boolean;
  private readonly state = new Map<string, { m: Float32Array; v: Float32Array; t: number }>();

  constructor(options: AdamOptions = {}) {
    this.lr = options.lr ?? 1e-3;
    this.beta1 = options.beta1 ?? 0.9;
    this.beta2 = options.beta2 ?? 0.999;
    this.eps = options.eps ?? 1e-8;
    this.weightDecay = options.weightDecay ?? 0;
    this.decoupled = options.decoupledWeightDecay ?? false;
    this.lazyRows = options.lazyRows ?? false;
    if (!(this.lr >= 0) || !(this.beta1 >= 0 && this.beta1 < 1) || !(this.beta2 >= 0 && this.beta2 < 1)) {
      throw new PromaxError({
        code: 'INVALID_ARGUMENT',
        message: `Adam: invalid hyper-parameters lr=${this.lr} beta1=${this.beta1} beta2=${this.beta2}`,
      });
    }
  }

  step(store: ParameterStore, grads: Gradients): void {
    for (const [name, g] of grads) {
      const p = store.get(name);
      checkGrad(name, p, g);
      let s = this.state.get(name);
      if (!s) {
        s = { m: new Float32Array(p.length), v: new Float32Array(p.length), t: 0 };
        this.state.set(name, s);
      }
      s.t += 1;
      const shape = store.shape(name);
      const row = shape.length > 1 ? p.length / shape[0] : p.length;
      if (!this.lazyRows || row === p.length) {
        adamKernel(
          p,
          g,
          s.m,
          s.v,
          s.t,
          this.lr,
          this.beta1,
          this.beta2,
          this.eps,
          this.weightDecay,
          this.decoupled,
        );
        continue;
      }
      for (let start = 0; start < p.length; start += row) {
        let touched = false;
        for (let i = start; i < start + row; i++) {
          if (g[i] !== 0) {
            touched = true;
            break;
          }
        }
        if (!touched) continue;
        adamKernel(
          p,
          g,
          s.m,
          s.v,
          s.t,
          this.lr,
          this.beta1,
          this.beta2,
          this.eps,
          this.weightDecay,
          this.decoupled,
          start,
          start + row,
        );
      }
    }
  }

  /** Step count of a parameter (0 before its first update). */
  steps(name: string): number {
    return this.state.get(name)?.t ?? 0;
  }

  reset(): void {
    this.state.clear();
  }
}

/** The Adam update of elements [start, end) of one parameter, in place. */
export function adamKernel(
  p: Float32Array,
  g: Float32Array,
  m: Float32Array,
  v: Float32Array,
  t: number,
  lr: number,
  beta1: number,
  beta2: number,
  eps: number,
  weightDecay: number,
  decoupled: boolean,
  start = 0,
  end = p.length,
): void {
  const bc1 = 1 - beta1 ** t;
  const bc2Sqrt = Math.sqrt(1 - beta2 ** t);
  const stepSize = lr / bc1;
  const c1 = 1 - beta1;
  const c2 = 1 - beta2;
  const l2 = decoupled ? 0 : weightDecay;
  const shrink = decoupled ? 1 - lr * weightDecay : 1;
  for (let i = start; i < end; i++) {
    const pi = p[i] * shrink;
    const gi = g[i] + l2 * pi;
    const mi = beta1 * m[i] + c1 * gi;
    const vi = beta2 * v[i] + c2 * gi * gi;
    m[i] = mi;
    v[i] = vi;
    p[i] = pi - (stepSize * mi) / (Math.sqrt(vi) / bc2Sqrt + eps);
  }
}

export interface SgdOptions {
  lr: number;
  /** Momentum μ (default 0): b ← μ·b + g (PyTorch, no dampening); p ← p − lr·b. */
  momentum?: number;
  /** L2 weight decay: g ← g + wd·p. */
  weightDecay?: number;
}

/** Stochastic gradient descent (torch.optim.SGD semantics, without dampening/nesterov). */
export class Sgd implements Optimizer {
  lr: number;
  readonly momentum: number;
  readonly weightDecay: number;
  private readonly buffers = new Map<string, Float32Array>();

  constructor(options: SgdOptions) {
    this.lr = options.lr;
    this.momentum = options.momentum ?? 0;
    this.weightDecay = options.weightDecay ?? 0;
  }

  step(store: ParameterStore, grads: Gradients): void {
    const { lr, momentum: mu, weightDecay: wd } = this;
    for (const [name, g] of grads) {
      const p = store.get(name);
      checkGrad(name, p, g);
      if (mu === 0) {
        for (let i = 0; i < p.length; i++) p[i] -= lr * (g[i] + wd * p[i]);
        continue;
      }
      let b = this.buffers.get(name);
      const first = !b;
      if (!b) {
        b = new Float32Array(p.length);
        this.buffers.set(name, b);
      }
      for (let i = 0; i < p.length; i++) {
        const gi = g[i] + wd * p[i];
        const bi = first ? gi : mu * b[i] + gi;
        b[i] = bi;
        p[i] -= lr * bi;
      }
    }
  }

  reset(): void {
    this.buffers.clear();
  }
}
