import {
  assertParameterSpecs,
  assertRecommenderModelV1,
  type BatchTensors,
  type CsrMatrix,
  type EncodeResult,
  type Matrix,
  type ModelDims,
  type ParameterSpec,
  PromaxError,
  type RecommenderModelV1,
  Rng,
  type StochasticInputSpec,
  type StochasticValues,
} from '@promax/core';
import {
  Adam,
  type Adjacency,
  type AdjacencyData,
  adjacencyFeeds,
  type CompileOptions,
  compileInference,
  compileTraining,
  type DType,
  type FeedMap,
  type FeedValue,
  GraphBuilder,
  type InferenceProgram,
  normalizedBipartiteAdjacency,
  ParameterStore,
  type Shape,
  type SymbolicTensor,
  type TrainingProgram,
  xavierUniform,
} from '@promax/tensor';
import type { StateDict, Trainable, TripleBatch } from './trainable.js';

/** The plugin contract bound to @promax/tensor (what `createModelTrainable` accepts). */
export type RecommenderModel = RecommenderModelV1<GraphBuilder, SymbolicTensor, Adjacency>;

/** The graphs a training graph can encode over: the train graph A and the augmented A′. */
export type GraphView = 'original' | 'augmented';

/** Inputs declared by the trainer (hooks and stochastic inputs must use other names). */
export const MODEL_TRAINABLE_INPUTS = {
  users: 'batch.users',
  pos: 'batch.pos',
  neg: 'batch.neg',
  uniqueUsers: 'batch.uniqueUsers',
  uniquePos: 'batch.uniquePos',
  original: 'A',
  augmented: 'A_aug',
} as const;

/** One batch as index arrays (the hook's `feedsForBatch` receives it; do not keep the arrays). */
export interface BatchIndices {
  users: Int32Array;
  pos: Int32Array;
  neg: Int32Array;
  /** Distinct users, ascending. */
  uniqueUsers: Int32Array;
  /** Distinct positive items, ascending. */
  uniquePos: Int32Array;
}

/** What an `extraLoss` hook may use to add terms (e.g. ProMax's SDR and S2DR). */
export interface ExtraLossContext {
  g: GraphBuilder;
  /** The model's parameters, by name. */
  params: Readonly<Record<string, SymbolicTensor>>;
  model: RecommenderModel;
  dims: ModelDims;
  /**
   * Encodes users and items over a view with the SAME parameters (memoised: 'original' is the
   * encoding the BPR loss uses). 'augmented' needs `data.aug`.
   */
  encode(view: GraphView): EncodeResult<SymbolicTensor>;
  /** The adjacency handles, declared on first access ('augmented' needs `data.aug`). */
  readonly views: { readonly original: Adjacency; readonly augmented: Adjacency };
  /** The batch (int64): users/pos/neg [B], uniqueUsers [Bu], uniquePos [Bi]. */
  batch: BatchTensors<SymbolicTensor>;
  /** The model's stochastic inputs. */
  stochastic: StochasticValues<SymbolicTensor, Adjacency>;
  /**
   * Declares an extra per-batch input (fed by `feedsForBatch`); symbolic dims 'B', 'Bu', 'Bi'
   * tie it to the batch, e.g. `addInput('sdr.teacher', 'float32', ['Bu', numItems])`.
   */
  addInput(name: string, dtype: DType, shape: Shape): SymbolicTensor;
}

/** Returns extra loss terms (float32 scalars, already weighted), added to the total by name. */
export type ExtraLossHook = (ctx: ExtraLossContext) => Readonly<Record<string, SymbolicTensor>>;

export interface ModelTrainableData {
  numUsers: number;
  numItems: number;
  /** The train matrix R (users × items): the original graph and the BPR triples' source. */
  train: CsrMatrix;
  /** The augmented matrix R′ (ProMax's A′), needed only if a hook encodes the 'augmented' view. */
  aug?: CsrMatrix;
}

export interface ModelTrainableOptions {
  model: RecommenderModel;
  data: ModelTrainableData;
  /** Seeds the parameter initialisation and the model's stochastic inputs (not the sampler). */
  seed: number;
  /** Adam settings (torch.optim.Adam defaults; lr 1e-3 as method.md §6). */
  optimizer?: { lr?: number; beta1?: number; beta2?: number; eps?: number };
  /** λreg on Σ‖p‖² over the model's regularised parameters (whole tables), default 1e-6. */
  l2?: number;
  /** Engine options for both compiled programs. */
  engine?: CompileOptions;
  /** Extra loss terms built into the SAME training graph (e.g. ProMax). */
  extraLoss?: ExtraLossHook;
  /**
   * Feeds of the inputs the hook declared with `addInput`, per batch (may be async, e.g. teacher
   * rows). Batches run one after another and a returned array is not read after its step ends,
   * so the hook may hand back the same buffers every batch.
   */
  feedsForBatch?: (batch: BatchIndices) => FeedMap | Promise<FeedMap>;
  /** Runs at each epoch start after the model's epoch-level inputs are redrawn (e.g. teacher caches). */
  onEpochStart?: (epoch: number) => void | Promise<void>;
}

const RESERVED_TERMS = new Set(['loss', 'bpr', 'reg']);

function termError(name: string, source: string): PromaxError {
  return new PromaxError({
    code: 'INVALID_ARGUMENT',
    field: name,
    message: `${source} returned a loss term named '${name}', which is already used`,
    fix: "rename the term (reserved: 'loss', 'bpr', 'reg', and every other term's name)",
  });
}

/** Ascending distinct values of `ids` in [0, n), using `mark` (length n, all zero; left zero). */
function uniqueSorted(ids: Int32Array, mark: Uint8Array): Int32Array {
  let count = 0;
  let lo = mark.length;
  let hi = -1;
  for (let k = 0; k < ids.length; k++) {
    const v = ids[k];
    if (mark[v] === 0) {
      mark[v] = 1;
      count++;
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
  }
  const out = new Int32Array(count);
  let w = 0;
  for (let v = lo; v <= hi; v++) {
    if (mark[v] !== 0) {
      out[w++] = v;
      mark[v] = 0;
    }
  }
  return out;
}

function toInt64(src: Int32Array, out: BigInt64Array): BigInt64Array {
  for (let i = 0; i < src.length; i++) out[i] = BigInt(src[i]);
  return out;
}

function checkBatch(batch: TripleBatch, dims: ModelDims): void {
  const n = batch.users.length;
  if (batch.pos.length !== n || batch.neg.length !== n || n === 0) {
    throw new PromaxError({
      code: 'SHAPE_MISMATCH',
      message: `batch arrays must be non-empty and equally long (users ${n}, pos ${batch.pos.length}, neg ${batch.neg.length})`,
    });
  }
  for (let k = 0; k < n; k++) {
    const u = batch.users[k];
    const i = batch.pos[k];
    const j = batch.neg[k];
    if (!(u >= 0 && u < dims.numUsers && i >= 0 && i < dims.numItems && j >= 0 && j < dims.numItems)) {
      throw new PromaxError({
        code: 'ID_OUT_OF_RANGE',
        message: `batch triple ${k} = (${u}, ${i}, ${j}) is outside ${dims.numUsers} users × ${dims.numItems} items`,
      });
    }
  }
}

/**
 * A `Trainable` built from any RecommenderModel v1: ONE training graph (parameters from the
 * model's specs, batch inputs, the original graph, the model's encoding, BPR + λreg·Σ‖p‖² + the
 * model's auxiliary terms + the optional `extraLoss` hook), Adam, and a compiled inference graph
 * over the original graph for `embed()`. Create it with {@link createModelTrainable}.
 */
export class ModelTrainable implements Trainable {
  /** Loss term names reported by `trainBatch` besides `loss`. */
  readonly terms: readonly string[];
  private readonly rng: Rng;
  private readonly needed: ReadonlySet<string>;
  private readonly staticFeeds: Record<string, FeedValue> = {};
  private readonly batchBuffers = new Map<
    number,
    { users: BigInt64Array; pos: BigInt64Array; neg: BigInt64Array }
  >();
  private readonly userMark: Uint8Array;
  private readonly itemMark: Uint8Array;
  private readonly tensorBuffers = new Map<string, Float32Array>();
  private drawnEpochInputs = false;

  /** @internal use {@link createModelTrainable} */
  constructor(
    readonly model: RecommenderModel,
    readonly dims: ModelDims,
    readonly specs: readonly ParameterSpec[],
    readonly stochastic: readonly StochasticInputSpec[],
    readonly store: ParameterStore,
    readonly optimizer: Adam,
    readonly program: TrainingProgram,
    readonly inference: InferenceProgram,
    private readonly train: CsrMatrix,
    private readonly adjacency: (m: CsrMatrix) => AdjacencyData,
    private readonly graphFeeds: Record<string, FeedValue>,
    private readonly options: Pick<ModelTrainableOptions, 'feedsForBatch' | 'onEpochStart'>,
    private readonly hookInputs: ReadonlySet<string>,
    seed: number,
  ) {
    this.rng = new Rng((seed ^ 0x5bd1e995) >>> 0);
    this.needed = new Set(program.inputs.map((i) => i.name));
    this.terms = program.outputNames;
    this.userMark = new Uint8Array(dims.numUsers);
    this.itemMark = new Uint8Array(dims.numItems);
    for (const [k, v] of Object.entries(graphFeeds)) if (this.needed.has(k)) this.staticFeeds[k] = v;
    for (const s of stochastic) {
      if (s.kind === 'tensor')
        this.tensorBuffers.set(s.name, new Float32Array(s.shape.reduce((a, b) => a * b, 1)));
    }
  }

  /** Redraws the model's epoch-level stochastic inputs, then runs the `onEpochStart` option. */
  async onEpochStart(epoch: number): Promise<void> {
    this.draw('epoch');
    this.drawnEpochInputs = true;
    await this.options.onEpochStart?.(epoch);
  }

  async trainBatch(batch: TripleBatch): Promise<Record<string, number>> {
    checkBatch(batch, this.dims);
    if (!this.drawnEpochInputs) {
      this.draw('epoch');
      this.drawnEpochInputs = true;
    }
    this.draw('step');
    const n = batch.users.length;
    let buf = this.batchBuffers.get(n);
    if (!buf) {
      buf = { users: new BigInt64Array(n), pos: new BigInt64Array(n), neg: new BigInt64Array(n) };
      this.batchBuffers.set(n, buf);
    }
    const names = MODEL_TRAINABLE_INPUTS;
    const feeds: Record<string, FeedValue> = { ...this.staticFeeds };
    feeds[names.users] = toInt64(batch.users, buf.users);
    if (this.needed.has(names.pos)) feeds[names.pos] = toInt64(batch.pos, buf.pos);
    if (this.needed.has(names.neg)) feeds[names.neg] = toInt64(batch.neg, buf.neg);
    const wantsUnique = this.options.feedsForBatch !== undefined;
    let uniqueUsers: Int32Array | undefined;
    let uniquePos: Int32Array | undefined;
    if (wantsUnique || this.needed.has(names.uniqueUsers)) {
      uniqueUsers = uniqueSorted(batch.users, this.userMark);
      feeds[names.uniqueUsers] = BigInt64Array.from(uniqueUsers, (v) => BigInt(v));
    }
    if (wantsUnique || this.needed.has(names.uniquePos)) {
      uniquePos = uniqueSorted(batch.pos, this.itemMark);
      feeds[names.uniquePos] = BigInt64Array.from(uniquePos, (v) => BigInt(v));
    }
    if (this.options.feedsForBatch) {
      const extra = await this.options.feedsForBatch({
        users: batch.users,
        pos: batch.pos,
        neg: batch.neg,
        uniqueUsers: uniqueUsers as Int32Array,
        uniquePos: uniquePos as Int32Array,
      });
      for (const [k, v] of Object.entries(extra)) {
        if (!this.hookInputs.has(k)) {
          throw new PromaxError({
            code: 'INVALID_ARGUMENT',
            field: k,
            message: `feedsForBatch returned '${k}', which the extraLoss hook did not declare with addInput (declared: ${[...this.hookInputs].join(', ') || 'none'})`,
            fix: 'declare every per-batch input with ctx.addInput(name, dtype, shape)',
          });
        }
        feeds[k] = v;
      }
    }
    for (const k of Object.keys(feeds)) if (!this.needed.has(k)) delete feeds[k];
    const result = await this.program.run(feeds, this.store);
    const losses: Record<string, number> = { loss: result.loss };
    for (const name of this.terms) losses[name] = (result.outputs[name].data as Float32Array)[0];
    // A non-finite loss stops the loop; keep the parameters as they were.
    if (Number.isFinite(result.loss)) this.optimizer.step(this.store, result.grads);
    return losses;
  }

  async embed(): Promise<{ users: Matrix; items: Matrix }> {
    const feeds: Record<string, FeedValue> = {};
    const needed = new Set(this.inference.inputs.map((i) => i.name));
    for (const [k, v] of Object.entries(this.graphFeeds)) if (needed.has(k)) feeds[k] = v;
    const out = await this.inference.run(feeds, this.store);
    const matrix = (t: (typeof out)[string]): Matrix => ({
      rows: t.shape[0],
      cols: t.shape[1],
      data: t.data as Float32Array,
    });
    return { users: matrix(out.users), items: matrix(out.items) };
  }

  /** The parameters as live views (Adam's moments are not included: a resumed run restarts them). */
  getState(): StateDict {
    const state: StateDict = {};
    for (const s of this.specs) state[s.name] = { shape: [...s.shape], data: this.store.get(s.name) };
    return state;
  }

  /** Copies every parameter in; the names and shapes must be exactly the model's. */
  setState(state: StateDict): void {
    const names = Object.keys(state);
    const want = this.specs.map((s) => s.name);
    const missing = want.filter((n) => !(n in state));
    const extra = names.filter((n) => !want.includes(n));
    if (missing.length || extra.length) {
      throw new PromaxError({
        code: 'SHAPE_MISMATCH',
        message: `state does not match model ${this.model.modelId}: missing [${missing.join(', ')}], unexpected [${extra.join(', ')}]`,
        fix: 'load a checkpoint written by the same model with the same settings and dataset',
      });
    }
    for (const s of this.specs) {
      const t = state[s.name];
      if (
        t.shape.length !== s.shape.length ||
        t.shape.some((d, i) => d !== s.shape[i]) ||
        t.data.length !== this.store.get(s.name).length
      ) {
        throw new PromaxError({
          code: 'SHAPE_MISMATCH',
          field: s.name,
          message: `parameter '${s.name}' is [${t.shape.join(', ')}] in the state but [${s.shape.join(', ')}] in model ${this.model.modelId}`,
        });
      }
    }
    for (const s of this.specs) this.store.get(s.name).set(state[s.name].data);
  }

  /** Releases sessions the programs own (none unless compiled with `engine.cache: false`). */
  async release(): Promise<void> {
    await this.program.release();
    await this.inference.release();
  }

  private draw(schedule: 'step' | 'epoch'): void {
    for (const s of this.stochastic) {
      if (s.schedule !== schedule) continue;
      if (s.kind === 'tensor') {
        // Inputs the compiled graph does not use are not drawn.
        if (!this.needed.has(s.name)) continue;
        const out = this.tensorBuffers.get(s.name) as Float32Array;
        s.fill(out, this.rng);
        this.staticFeeds[s.name] = { data: out, dims: s.shape };
      } else {
        if (!this.needed.has(`${s.name}.src`)) continue;
        const feeds = adjacencyFeeds(s.name, this.adjacency(s.sample(this.train, this.rng)));
        for (const [k, v] of Object.entries(feeds)) if (this.needed.has(k)) this.staticFeeds[k] = v;
      }
    }
  }
}

/**
 * Builds the training and inference programs of a model and returns a `Trainable` for `train()`.
 *
 * Total loss = mean softplus(z_u·z_j − z_u·z_i) + λreg·Σ‖p‖² (whole tables of every parameter
 * the model marks regularised) + the model's auxiliary terms + the `extraLoss` hook's terms.
 * `trainBatch` reports `{ loss, bpr, reg, <aux…>, <extra…> }`.
 */
export async function createModelTrainable(options: ModelTrainableOptions): Promise<ModelTrainable> {
  const { model, data, seed } = options;
  assertRecommenderModelV1(model);
  if (data.train.rows !== data.numUsers || data.train.cols !== data.numItems) {
    throw new PromaxError({
      code: 'SHAPE_MISMATCH',
      message: `the train matrix is ${data.train.rows}×${data.train.cols} but data says ${data.numUsers} users × ${data.numItems} items`,
    });
  }
  if (data.aug && (data.aug.rows !== data.numUsers || data.aug.cols !== data.numItems)) {
    throw new PromaxError({
      code: 'SHAPE_MISMATCH',
      message: `the augmented matrix is ${data.aug.rows}×${data.aug.cols}, the train matrix ${data.numUsers}×${data.numItems}`,
    });
  }
  const l2 = options.l2 ?? 1e-6;
  if (!(l2 >= 0)) {
    throw new PromaxError({ code: 'INVALID_ARGUMENT', field: 'l2', message: `l2 must be ≥ 0, got ${l2}` });
  }
  const dims: ModelDims = { numUsers: data.numUsers, numItems: data.numItems };
  const specs = model.doDeclareParameters(dims);
  assertParameterSpecs(model.modelId, specs);
  const stochastic = model.doDeclareStochasticInputs?.(dims) ?? [];
  const nodes = dims.numUsers + dims.numItems;
  const normalize = (m: CsrMatrix): AdjacencyData =>
    normalizedBipartiteAdjacency(m, { selfLoops: model.graphNormalization.selfLoops });
  const names = MODEL_TRAINABLE_INPUTS;

  // Graph feeds are built once, only for the views some graph declares.
  const graphFeeds: Record<string, FeedValue> = {};
  const feedView = (view: GraphView): void => {
    const name = view === 'original' ? names.original : names.augmented;
    if (`${name}.src` in graphFeeds) return;
    const m = view === 'original' ? data.train : data.aug;
    if (!m) {
      throw new PromaxError({
        code: 'INVALID_ARGUMENT',
        field: 'data.aug',
        message: 'the augmented view was requested but no augmented matrix was given',
        fix: "pass data.aug (the dataset's A′, e.g. Dataset.aug) to createModelTrainable",
      });
    }
    Object.assign(graphFeeds, adjacencyFeeds(name, normalize(m)));
  };

  // ---- training graph
  const g = new GraphBuilder();
  const params = Object.fromEntries(specs.map((s) => [s.name, g.param(s.name, s.shape)]));
  const batch: BatchTensors<SymbolicTensor> = {
    users: g.input(names.users, 'int64', ['B']),
    pos: g.input(names.pos, 'int64', ['B']),
    neg: g.input(names.neg, 'int64', ['B']),
    uniqueUsers: g.input(names.uniqueUsers, 'int64', ['Bu']),
    uniquePos: g.input(names.uniquePos, 'int64', ['Bi']),
  };
  const tensors: Record<string, SymbolicTensor> = {};
  const graphs: Record<string, Adjacency> = {};
  for (const s of stochastic) {
    if (s.kind === 'tensor') tensors[s.name] = g.input(s.name, 'float32', s.shape);
    else graphs[s.name] = g.adjacency(s.name, { rows: nodes, symmetric: true });
  }
  const stochasticValues = { tensors, graphs };
  const adjacencies = new Map<GraphView, Adjacency>();
  const adjacencyOf = (view: GraphView): Adjacency => {
    let a = adjacencies.get(view);
    if (!a) {
      feedView(view);
      a = g.adjacency(view === 'original' ? names.original : names.augmented, {
        rows: nodes,
        symmetric: true,
      });
      adjacencies.set(view, a);
    }
    return a;
  };
  const encodings = new Map<GraphView, EncodeResult<SymbolicTensor>>();
  const encode = (view: GraphView): EncodeResult<SymbolicTensor> => {
    let z = encodings.get(view);
    if (!z) {
      z = model.doEncode({
        g,
        params,
        graph: model.capabilities.usesGraph ? adjacencyOf(view) : undefined,
        dims,
        training: true,
        stochastic: stochasticValues,
      });
      encodings.set(view, z);
    }
    return z;
  };

  const z = encode('original');
  const u = g.gather(z.users, batch.users);
  const bpr = g.bprLoss(g.rowDot(u, g.gather(z.items, batch.pos)), g.rowDot(u, g.gather(z.items, batch.neg)));
  const regularised = specs.filter((s) => s.regularize !== false).map((s) => g.sumSquares(params[s.name]));
  const reg = l2 > 0 && regularised.length > 0 ? g.mul(g.addN(regularised), l2) : g.scalar(0);
  const terms: Record<string, SymbolicTensor> = { bpr, reg };
  if (model.doAuxiliaryLoss) {
    const aux = model.doAuxiliaryLoss({
      g,
      params,
      graph: model.capabilities.usesGraph ? adjacencyOf('original') : undefined,
      dims,
      training: true,
      stochastic: stochasticValues,
      encoded: z,
      batch,
    });
    for (const [k, t] of Object.entries(aux)) {
      if (k in terms) throw termError(k, `model ${model.modelId}'s doAuxiliaryLoss`);
      terms[k] = t;
    }
  }
  const hookInputs = new Set<string>();
  if (options.extraLoss) {
    const extra = options.extraLoss({
      g,
      params,
      model,
      dims,
      encode,
      views: {
        get original() {
          return adjacencyOf('original');
        },
        get augmented() {
          return adjacencyOf('augmented');
        },
      },
      batch,
      stochastic: stochasticValues,
      addInput: (name, dtype, shape) => {
        hookInputs.add(name);
        return g.input(name, dtype, shape);
      },
    });
    for (const [k, t] of Object.entries(extra)) {
      if (k in terms || RESERVED_TERMS.has(k)) throw termError(k, 'the extraLoss hook');
      terms[k] = t;
    }
  }
  const loss = g.addN(Object.values(terms));
  const program = await compileTraining({ graph: g, loss, outputs: terms }, options.engine);

  // ---- inference graph (original view, no stochastic inputs)
  const gi = new GraphBuilder();
  const iparams = Object.fromEntries(specs.map((s) => [s.name, gi.param(s.name, s.shape)]));
  let original: Adjacency | undefined;
  if (model.capabilities.usesGraph) {
    feedView('original');
    original = gi.adjacency(names.original, { rows: nodes, symmetric: true });
  }
  const zi = model.doEncode({
    g: gi,
    params: iparams,
    graph: original,
    dims,
    training: false,
    stochastic: { tensors: {}, graphs: {} },
  });
  const inference = await compileInference(
    { graph: gi, outputs: { users: zi.users, items: zi.items } },
    options.engine,
  );

  // ---- parameters: model specs in order, one Rng from the seed
  const store = new ParameterStore();
  const initRng = new Rng(seed);
  for (const s of specs) {
    const buf = store.set(s.name, s.shape);
    (s.init ?? xavierUniform())(buf, s.shape, initRng);
  }
  const o = options.optimizer ?? {};
  const adam = new Adam({ lr: o.lr ?? 1e-3, beta1: o.beta1, beta2: o.beta2, eps: o.eps });
  return new ModelTrainable(
    model,
    dims,
    specs,
    stochastic,
    store,
    adam,
    program,
    inference,
    data.train,
    normalize,
    graphFeeds,
    { feedsForBatch: options.feedsForBatch, onEpochStart: options.onEpochStart },
    hookInputs,
    seed,
  );
}
