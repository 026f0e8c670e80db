import { PromaxError, type Rng, shapeSize } from '@promax/core';
import * as ort from 'onnxruntime-node';
import type { GraphBuilder } from '../graph/builder.js';
import { type Initializer, xavierUniform } from './init.js';

interface Entry {
  readonly shape: readonly number[];
  readonly data: Float32Array;
  tensor?: ort.Tensor;
}

/**
 * Named float32 parameters. Programs feed them to onnxruntime as tensors that wrap these very
 * arrays (no copy), and optimisers update them in place.
 */
export class ParameterStore {
  private readonly entries = new Map<string, Entry>();

  /** Adds (or replaces) a parameter; returns its data array. Zeros unless `data` is given. */
  set(name: string, shape: readonly number[], data?: Float32Array): Float32Array {
    const size = shapeSize(shape);
    if (data && data.length !== size) {
      throw new PromaxError({
        code: 'SHAPE_MISMATCH',
        message: `parameter '${name}': shape [${shape.join(', ')}] holds ${size} values but ${data.length} were given`,
        field: name,
      });
    }
    const entry: Entry = { shape: [...shape], data: data ?? new Float32Array(size) };
    this.entries.set(name, entry);
    return entry.data;
  }

  has(name: string): boolean {
    return this.entries.has(name);
  }

  /** The live data of a parameter (mutate in place to change it). */
  get(name: string): Float32Array {
    return this.entry(name).data;
  }

  shape(name: string): readonly number[] {
    return this.entry(name).shape;
  }

  names(): string[] {
    return [...this.entries.keys()];
  }

  /** Total number of scalars. */
  size(): number {
    let n = 0;
    for (const e of this.entries.values()) n += e.data.length;
    return n;
  }

  /** An onnxruntime tensor over the parameter's data (cached; shares memory). */
  tensor(name: string): ort.Tensor {
    const e = this.entry(name);
    e.tensor ??= new ort.Tensor('float32', e.data, e.shape as number[]);
    return e.tensor;
  }

  /**
   * Creates every parameter of `graph` that the store lacks, in declaration order, drawing
   * initial values from `rng` (Xavier-uniform unless `init` says otherwise; `init` may be one
   * initializer or one per parameter name).
   */
  initialize(
    graph: GraphBuilder,
    rng: Rng,
    init: Initializer | Readonly<Record<string, Initializer>> = xavierUniform(),
  ): this {
    for (const p of graph.params()) {
      const name = p.leafName as string;
      const shape = p.shape as number[];
      if (this.has(name)) {
        const have = this.shape(name);
        if (have.length !== shape.length || have.some((d, i) => d !== shape[i])) {
          throw new PromaxError({
            code: 'SHAPE_MISMATCH',
            message: `parameter '${name}' is [${have.join(', ')}] in the store but [${shape.join(', ')}] in the graph`,
            field: name,
          });
        }
        continue;
      }
      const data = this.set(name, shape);
      const fn = typeof init === 'function' ? init : (init[name] ?? xavierUniform());
      fn(data, shape, rng);
    }
    return this;
  }

  /** A deep copy of every parameter. */
  snapshot(): Record<string, Float32Array> {
    const out: Record<string, Float32Array> = {};
    for (const [k, e] of this.entries) out[k] = e.data.slice();
    return out;
  }

  /** Copies values into existing parameters (shapes must match). */
  load(values: Readonly<Record<string, Float32Array>>): void {
    for (const [k, v] of Object.entries(values)) {
      const e = this.entry(k);
      if (v.length !== e.data.length) {
        throw new PromaxError({
          code: 'SHAPE_MISMATCH',
          message: `parameter '${k}': ${v.length} values for ${e.data.length}`,
          field: k,
        });
      }
      e.data.set(v);
    }
  }

  private entry(name: string): Entry {
    const e = this.entries.get(name);
    if (!e) {
      throw new PromaxError({
        code: 'INVALID_ARGUMENT',
        message: `no parameter named '${name}' in the store`,
        field: name,
        fix: 'call store.initialize(graph, rng) or store.set(name, shape) first',
      });
    }
    return e;
  }
}
