import { Rng } from '@promax/core';
import type { FeedData } from '../compile/feeds.js';
import { type CompileOptions, compileTraining } from '../compile/program.js';
import { GraphBuilder } from '../graph/builder.js';
import type { SymbolicTensor } from '../graph/ir.js';
import { ParameterStore } from '../train/parameter-store.js';
import { evaluateReference, type F64 } from './reference.js';

export interface GradCheckOptions {
  /** Values of parameters; default U(−1, 1). Called once per element. */
  init?: Readonly<Record<string, (rng: Rng, i: number) => number>>;
  /** Feeds for non-parameter inputs, with dims. */
  feeds?: Readonly<Record<string, { data: FeedData; dims: number[] }>>;
  seed?: number;
  /** Finite-difference step (relative to max(1, |x|)). */
  step?: number;
  compile?: CompileOptions;
}

export interface GradCheckReport {
  /** |loss_onnx − loss_f64| / max(1, |loss_f64|). */
  forwardError: number;
  /** Per parameter: ‖g_onnx − g_fd‖₂ / ‖g_fd‖₂. */
  gradErrors: Record<string, number>;
  /** Largest per-parameter error. */
  maxGradError: number;
  /** Output of the model (float32, from onnxruntime) and its float64 reference. */
  output: { onnx: Float32Array; reference: Float64Array };
}

function toF64(data: FeedData | Float32Array, dims: readonly number[]): F64 {
  const out = new Float64Array(data.length);
  for (let i = 0; i < data.length; i++) out[i] = Number(data[i]);
  return { shape: [...dims], data: out };
}

/**
 * Gradient check of a model: loss = Σ out ⊙ W for a random W, gradients from the compiled ONNX
 * program (float32) against central finite differences of a float64 TypeScript evaluation of the
 * same graph; also compares the forward values.
 */
export async function checkGradients(
  build: (g: GraphBuilder) => SymbolicTensor,
  options: GradCheckOptions = {},
): Promise<GradCheckReport> {
  const rng = new Rng(options.seed ?? 7);
  const g = new GraphBuilder();
  const out = build(g);
  const values = new Map<string, F64>();
  const feeds: Record<string, { data: FeedData; dims: number[] }> = {};
  for (const [k, v] of Object.entries(options.feeds ?? {})) {
    feeds[k] = v;
    values.set(k, toF64(v.data, v.dims));
  }
  const store = new ParameterStore();
  for (const p of g.params()) {
    const name = p.leafName as string;
    const data = store.set(name, p.shape as number[]);
    const f = options.init?.[name];
    for (let i = 0; i < data.length; i++) data[i] = f ? f(rng, i) : 2 * rng.nextFloat() - 1;
    values.set(name, toF64(data, p.shape as number[]));
  }
  // The output's concrete shape (it may be symbolic) from a reference evaluation.
  const [ref] = evaluateReference([out], values);
  const w = new Float32Array(ref.data.length);
  for (let i = 0; i < w.length; i++) w[i] = 2 * rng.nextFloat() - 1;
  const wIn = g.input('__weights', 'float32', out.shape);
  feeds.__weights = { data: w, dims: ref.shape };
  values.set('__weights', toF64(w, ref.shape));
  const loss = g.reduceSum(g.mul(g.cast(out, 'float32'), wIn));

  const program = await compileTraining({ graph: g, loss, outputs: { out } }, options.compile);
  const result = await program.run(feeds, store);
  const f = (): number => evaluateReference([loss], values)[0].data[0];
  const lossRef = f();
  const gradErrors: Record<string, number> = {};
  const step = options.step ?? 1e-5;
  for (const [name, grad] of result.grads) {
    const v = values.get(name) as F64;
    let num = 0;
    let den = 0;
    for (let i = 0; i < v.data.length; i++) {
      const x0 = v.data[i];
      const h = step * Math.max(1, Math.abs(x0));
      v.data[i] = x0 + h;
      const fp = f();
      v.data[i] = x0 - h;
      const fm = f();
      v.data[i] = x0;
      const fd = (fp - fm) / (2 * h);
      num += (grad[i] - fd) ** 2;
      den += fd * fd;
    }
    gradErrors[name] = Math.sqrt(num) / Math.max(Math.sqrt(den), 1e-12);
  }
  return {
    forwardError: Math.abs(result.loss - lossRef) / Math.max(1, Math.abs(lossRef)),
    gradErrors,
    maxGradError: Math.max(0, ...Object.values(gradErrors)),
    output: { onnx: Float32Array.from(result.outputs.out.data as Float32Array), reference: ref.data },
  };
}
