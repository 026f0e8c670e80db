import { PromaxError } from '@promax/core';
import * as ort from 'onnxruntime-node';
import { encodeModel, type ModelDef } from './onnx/model-proto.js';

/** Where and how ONNX graphs run. */
export interface EngineOptions {
  /** onnxruntime execution providers in priority order (default ['cpu']); e.g. ['cuda', 'cpu']. */
  executionProviders?: readonly string[];
  /** Threads used inside one op (default: onnxruntime's choice, all cores). */
  intraOpNumThreads?: number;
  /** Graph optimisation level (default 'all'). */
  graphOptimizationLevel?: 'disabled' | 'basic' | 'extended' | 'all';
}

export type OrtTensor = ort.Tensor;
export type Feeds = Record<string, ort.Tensor>;

/** A compiled ONNX graph ready to run. */
export class CompiledGraph {
  constructor(
    readonly session: ort.InferenceSession,
    readonly bytes: Uint8Array,
  ) {}

  /**
   * Runs the graph. `fetches` lists the outputs wanted, or maps output names to pre-allocated
   * tensors that onnxruntime writes into (null: let it allocate).
   */
  async run(
    feeds: Feeds,
    fetches?: readonly string[] | Readonly<Record<string, ort.Tensor | null>>,
  ): Promise<Record<string, ort.Tensor>> {
    try {
      return (await (fetches
        ? this.session.run(feeds, fetches as ort.InferenceSession.FetchesType)
        : this.session.run(feeds))) as Record<string, ort.Tensor>;
    } catch (cause) {
      throw new PromaxError({
        code: 'ENGINE_ERROR',
        message: `onnxruntime failed to run the graph: ${(cause as Error).message}`,
        fix: 'check the shapes and dtypes of the inputs',
        cause,
      });
    }
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}

function sessionOptions(opts: EngineOptions): ort.InferenceSession.SessionOptions {
  const o: ort.InferenceSession.SessionOptions = {
    executionProviders: (opts.executionProviders ?? ['cpu']) as string[],
    graphOptimizationLevel: opts.graphOptimizationLevel ?? 'all',
    logSeverityLevel: 3,
  };
  if (opts.intraOpNumThreads !== undefined) o.intraOpNumThreads = opts.intraOpNumThreads;
  return o;
}

/** Builds an onnxruntime session from a model definition. */
export async function compileModel(model: ModelDef, opts: EngineOptions = {}): Promise<CompiledGraph> {
  return compileModelBytes(encodeModel(model), model.graph.name, opts);
}

/** Builds an onnxruntime session from encoded ONNX bytes. */
export async function compileModelBytes(
  bytes: Uint8Array,
  name: string,
  opts: EngineOptions = {},
): Promise<CompiledGraph> {
  try {
    const session = await ort.InferenceSession.create(bytes, sessionOptions(opts));
    return new CompiledGraph(session, bytes);
  } catch (cause) {
    throw new PromaxError({
      code: 'ENGINE_ERROR',
      message: `onnxruntime rejected graph '${name}': ${(cause as Error).message}`,
      fix: 'check that the listed execution providers are installed (their libraries load); otherwise this is a bug in the graph builder, please report it with the message',
      cause,
    });
  }
}

/** Caches compiled graphs by a caller-chosen key (graph structure + options). */
export class GraphCache {
  private readonly entries = new Map<string, Promise<CompiledGraph>>();

  get(key: string, build: () => Promise<CompiledGraph>): Promise<CompiledGraph> {
    let hit = this.entries.get(key);
    if (!hit) {
      hit = build();
      this.entries.set(key, hit);
      hit.catch(() => this.entries.delete(key));
    }
    return hit;
  }

  async clear(): Promise<void> {
    const all = [...this.entries.values()];
    this.entries.clear();
    for (const p of all) await (await p).release();
  }
}

export function float32Tensor(data: Float32Array, dims: readonly number[]): ort.Tensor {
  return new ort.Tensor('float32', data, dims as number[]);
}

export function int64Tensor(data: BigInt64Array, dims: readonly number[]): ort.Tensor {
  return new ort.Tensor('int64', data, dims as number[]);
}

export function int32Tensor(data: Int32Array, dims: readonly number[]): ort.Tensor {
  return new ort.Tensor('int32', data, dims as number[]);
}

export { ort };
