import { createHash } from 'node:crypto';
import { type NdArray, type ProgressHandler, PromaxError } from '@promax/core';
import type * as ort from 'onnxruntime-node';
import { gradients } from '../autodiff/gradients.js';
import type { GraphBuilder } from '../graph/builder.js';
import type { SymbolicTensor } from '../graph/ir.js';
import { encodeModel } from '../onnx/model-proto.js';
import {
  type CompiledGraph,
  compileModelBytes,
  type EngineOptions,
  float32Tensor,
  GraphCache,
} from '../session.js';
import type { ParameterStore } from '../train/parameter-store.js';
import { buildFeeds, type FeedMap } from './feeds.js';
import { type LoweredInput, type LoweredModel, lowerGraph } from './lower.js';
import { optimizeGraph } from './optimize.js';

/** Sessions shared by every program compiled without an explicit cache. */
export const defaultGraphCache = new GraphCache();

/** Constant data (bytes) above which a compiled model gets its own session instead of a cached one. */
export const LARGE_CONSTANT_BYTES = 16 * 1024 * 1024;

function constantBytes(lowered: LoweredModel): number {
  let n = 0;
  for (const t of lowered.model.graph.initializers ?? []) n += t.data.byteLength;
  return n;
}

/** How programs are compiled and run. */
export interface CompileOptions extends EngineOptions {
  /**
   * Session cache keyed by model bytes and engine options (default: {@link defaultGraphCache}); false:
   * none. Models that embed more than {@link LARGE_CONSTANT_BYTES} of constant data (e.g. a profile
   * matrix) are never cached: their session belongs to the program and `release()` frees it, so a
   * process that compiles many of them (a tuning sweep) does not keep every one alive.
   */
  cache?: GraphCache | false;
  /** Apply the algebraic rewrites of `optimizeGraph` (default true). */
  optimize?: boolean;
  /**
   * When the listed execution providers cannot start (e.g. 'cuda' without CUDA libraries) and
   * 'cpu' is among them, retry on the CPU alone (default true); a 'warning' event is reported.
   */
  fallbackToCpu?: boolean;
  /** Receives warnings (e.g. the CPU fallback). Libraries never print. */
  onProgress?: ProgressHandler;
}

/** A model + loss to train. */
export interface TrainingSpec {
  graph: GraphBuilder;
  /** A float32 scalar. */
  loss: SymbolicTensor;
  /** Extra tensors to return from each run (e.g. the loss terms), by name. */
  outputs?: Readonly<Record<string, SymbolicTensor>>;
  /** Parameters to differentiate (default: every parameter the loss depends on). */
  params?: readonly (string | SymbolicTensor)[];
}

/** What one training run returns. */
export interface TrainingResult {
  loss: number;
  outputs: Record<string, NdArray>;
  /**
   * ∂loss/∂p for each differentiated parameter. The arrays belong to the program and are
   * overwritten by its next run (they are never reallocated).
   */
  grads: ReadonlyMap<string, Float32Array>;
}

export interface InferenceSpec {
  graph: GraphBuilder;
  outputs: Readonly<Record<string, SymbolicTensor>>;
}

function toNdArray(t: ort.Tensor): NdArray {
  return { dtype: t.type as NdArray['dtype'], shape: [...t.dims], data: t.data as NdArray['data'] };
}

function checkOwnership(graph: GraphBuilder, what: string, t: SymbolicTensor): void {
  if (t?.graphId !== graph.graphId) {
    throw new PromaxError({
      code: 'INVALID_ARGUMENT',
      message: `${what} is not a tensor of this graph`,
      field: what,
    });
  }
}

async function compileLowered(
  lowered: LoweredModel,
  options: CompileOptions,
): Promise<{ compiled: CompiledGraph; owned: boolean }> {
  const engine: EngineOptions = {
    executionProviders: options.executionProviders,
    intraOpNumThreads: options.intraOpNumThreads,
    graphOptimizationLevel: options.graphOptimizationLevel,
  };
  const bytes = encodeModel(lowered.model);
  const name = lowered.model.graph.name;
  const create = async (): Promise<CompiledGraph> => {
    try {
      return await compileModelBytes(bytes, name, engine);
    } catch (error) {
      const providers = engine.executionProviders ?? ['cpu'];
      const cpuOnly = providers.length === 1 && providers[0] === 'cpu';
      if (options.fallbackToCpu === false || cpuOnly || !providers.includes('cpu')) throw error;
      options.onProgress?.({
        type: 'warning',
        code: 'ENGINE_FALLBACK',
        message: `execution providers [${providers.join(', ')}] failed (${(error as Error).message}); running on the CPU`,
      });
      return compileModelBytes(bytes, name, { ...engine, executionProviders: ['cpu'] });
    }
  };
  if (options.cache === false || constantBytes(lowered) > LARGE_CONSTANT_BYTES) {
    return { compiled: await create(), owned: true };
  }
  const cache = options.cache ?? defaultGraphCache;
  const key = `${createHash('sha256').update(bytes).digest('hex')}|${JSON.stringify(engine)}`;
  return { compiled: await cache.get(key, create), owned: false };
}

/** Shared by training and inference programs: feeding, running, guarding re-entry. */
abstract class ProgramBase {
  /** Inputs to feed on each run (parameters excluded). */
  readonly inputs: readonly LoweredInput[];
  private readonly allInputs: readonly LoweredInput[];
  private readonly declared: ReadonlySet<string>;
  private running = false;

  protected constructor(
    protected readonly compiled: CompiledGraph,
    private readonly owned: boolean,
    lowered: LoweredModel,
    graph: GraphBuilder,
  ) {
    this.allInputs = lowered.inputs;
    this.inputs = lowered.inputs.filter((i) => i.kind === 'input');
    this.declared = new Set([...graph.inputs(), ...graph.params()].map((t) => t.leafName as string));
  }

  /** The ONNX model bytes (e.g. to inspect with Netron). */
  get modelBytes(): Uint8Array {
    return this.compiled.bytes;
  }

  protected async execute(
    feeds: FeedMap,
    store: ParameterStore | undefined,
    fetches: Record<string, ort.Tensor | null>,
  ): Promise<Record<string, ort.Tensor>> {
    if (this.running) {
      throw new PromaxError({
        code: 'INVALID_ARGUMENT',
        message: 'this program is already running',
        fix: 'await each run() before starting the next one (gradient buffers are shared)',
      });
    }
    this.running = true;
    try {
      const ortFeeds = buildFeeds(this.allInputs, feeds, this.declared, store);
      return await this.compiled.run(ortFeeds, fetches);
    } finally {
      this.running = false;
    }
  }

  /**
   * Releases the onnxruntime session if this program owns it (compiled with `cache: false`, or
   * embedding more than {@link LARGE_CONSTANT_BYTES} of constants). Cached sessions are shared by
   * programs of the same structure: clear the cache instead.
   */
  async release(): Promise<void> {
    if (this.owned) await this.compiled.release();
  }
}

/** One compiled ONNX model computing the loss, named outputs and all parameter gradients. */
export class TrainingProgram extends ProgramBase {
  /** Differentiated parameters, in graph declaration order. */
  readonly params: readonly string[];
  /** Output names (besides the loss and gradients). */
  readonly outputNames: readonly string[];
  private readonly gradBuffers: Map<string, Float32Array>;
  private readonly gradTensors: Record<string, ort.Tensor>;

  /** @internal use {@link compileTraining} */
  constructor(
    compiled: CompiledGraph,
    owned: boolean,
    lowered: LoweredModel,
    graph: GraphBuilder,
    params: readonly SymbolicTensor[],
    outputNames: readonly string[],
  ) {
    super(compiled, owned, lowered, graph);
    this.params = params.map((p) => p.leafName as string);
    this.outputNames = outputNames;
    this.gradBuffers = new Map();
    this.gradTensors = {};
    for (const p of params) {
      const shape = p.shape as number[];
      const buf = new Float32Array(shape.reduce((a, b) => a * b, 1));
      this.gradBuffers.set(p.leafName as string, buf);
      this.gradTensors[`grad:${p.leafName}`] = float32Tensor(buf, shape);
    }
  }

  /** Runs forward and backward. Gradients are written into buffers owned by the program. */
  async run(feeds: FeedMap, store: ParameterStore): Promise<TrainingResult> {
    const fetches: Record<string, ort.Tensor | null> = { loss: null, ...this.gradTensors };
    for (const n of this.outputNames) fetches[n] = null;
    const out = await this.execute(feeds, store, fetches);
    const outputs: Record<string, NdArray> = {};
    for (const n of this.outputNames) outputs[n] = toNdArray(out[n]);
    return { loss: (out.loss.data as Float32Array)[0], outputs, grads: this.gradBuffers };
  }
}

/** A compiled forward-only model (e.g. final embeddings for evaluation). */
export class InferenceProgram extends ProgramBase {
  readonly outputNames: readonly string[];

  /** @internal use {@link compileInference} */
  constructor(
    compiled: CompiledGraph,
    owned: boolean,
    lowered: LoweredModel,
    graph: GraphBuilder,
    outputNames: readonly string[],
  ) {
    super(compiled, owned, lowered, graph);
    this.outputNames = outputNames;
  }

  async run(feeds: FeedMap, store?: ParameterStore): Promise<Record<string, NdArray>> {
    const fetches: Record<string, null> = {};
    for (const n of this.outputNames) fetches[n] = null;
    const out = await this.execute(feeds, store, fetches);
    const outputs: Record<string, NdArray> = {};
    for (const n of this.outputNames) outputs[n] = toNdArray(out[n]);
    return outputs;
  }
}

function checkOutputNames(graph: GraphBuilder, names: readonly string[]): void {
  for (const n of names) {
    if (n === 'loss' || n.startsWith('grad:') || n.length === 0 || graph.leafNamed(n)) {
      throw new PromaxError({
        code: 'INVALID_ARGUMENT',
        message: `output name '${n}' is reserved or already names an input/parameter`,
        field: n,
        fix: "pick another name (not 'loss', 'grad:…' nor an input's name)",
      });
    }
  }
}

/**
 * Differentiates `loss` with respect to the parameters and compiles ONE ONNX model computing the
 * loss, the named outputs and every gradient. Sessions are cached by model structure.
 */
export async function compileTraining(
  spec: TrainingSpec,
  options: CompileOptions = {},
): Promise<TrainingProgram> {
  const { graph, loss } = spec;
  checkOwnership(graph, 'loss', loss);
  const outputs = Object.entries(spec.outputs ?? {});
  checkOutputNames(
    graph,
    outputs.map(([k]) => k),
  );
  for (const [k, t] of outputs) checkOwnership(graph, `output '${k}'`, t);
  let params = graph.params();
  if (spec.params) {
    const wanted = new Set(spec.params.map((p) => (typeof p === 'string' ? p : (p.leafName ?? ''))));
    for (const w of wanted) {
      if (!params.some((p) => p.leafName === w)) {
        throw new PromaxError({
          code: 'INVALID_ARGUMENT',
          message: `'${w}' is not a parameter of the graph`,
          field: w,
        });
      }
    }
    params = params.filter((p) => wanted.has(p.leafName as string));
  }
  const fork = graph.fork();
  const grads = gradients(fork, loss, params);
  const trained = params.filter((_, i) => grads[i] !== null);
  const named = [
    { name: 'loss', tensor: loss },
    ...outputs.map(([name, tensor]) => ({ name, tensor })),
    ...trained.map((p) => ({
      name: `grad:${p.leafName}`,
      tensor: grads[params.indexOf(p)] as SymbolicTensor,
    })),
  ];
  const opt = options.optimize === false ? { graph: fork, outputs: named } : optimizeGraph(fork, named);
  const lowered = lowerGraph(opt.graph, opt.outputs, 'promax_training');
  const { compiled, owned } = await compileLowered(lowered, options);
  return new TrainingProgram(
    compiled,
    owned,
    lowered,
    graph,
    trained,
    outputs.map(([k]) => k),
  );
}

/** Compiles a forward-only model for the named outputs. */
export async function compileInference(
  spec: InferenceSpec,
  options: CompileOptions = {},
): Promise<InferenceProgram> {
  const outputs = Object.entries(spec.outputs);
  if (outputs.length === 0) {
    throw new PromaxError({
      code: 'INVALID_ARGUMENT',
      message: 'compileInference needs at least one output',
    });
  }
  checkOutputNames(
    spec.graph,
    outputs.map(([k]) => k),
  );
  for (const [k, t] of outputs) checkOwnership(spec.graph, `output '${k}'`, t);
  const named = outputs.map(([name, tensor]) => ({ name, tensor }));
  const opt =
    options.optimize === false ? { graph: spec.graph, outputs: named } : optimizeGraph(spec.graph, named);
  const lowered = lowerGraph(opt.graph, opt.outputs, 'promax_inference');
  const { compiled, owned } = await compileLowered(lowered, options);
  return new InferenceProgram(
    compiled,
    owned,
    lowered,
    spec.graph,
    outputs.map(([k]) => k),
  );
}
