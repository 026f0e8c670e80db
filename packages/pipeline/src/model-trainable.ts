import {
  assertModelConstants,
  assertParameterSpecs,
  assertRecommenderModelV1,
  type BatchTensors,
  type CsrMatrix,
  type EncodeResult,
  type Matrix,
  type MethodBatch,
  type MethodInputs,
  type ModelDims,
  type ParameterSpec,
  type PreparedMethodV1,
  PromaxError,
  type RecommenderMethodV1,
  type RecommenderModelV1,
  Rng,
  type StochasticEdgeMaskSpec,
  type StochasticInputSpec,
} from '@promax/core';
import {
  Adam,
  type Adjacency,
  type AdjacencyData,
  adjacencyFeeds,
  type CompileOptions,
  compileInference,
  compileTraining,
  type EdgeSubsetBuffers,
  edgeSubset,
  edgeSubsetBuffers,
  edgeSubsetFeeds,
  type FeedValue,
  GraphBuilder,
  type InferenceProgram,
  normalizedBipartiteAdjacency,
  ParameterStore,
  type SymbolicTensor,
  type TrainingProgram,
  xavierUniform,
} from '@promax/tensor';
import { sampleBatchNegatives } from './negative-sampler.js';
import type { StateDict, Trainable, TripleBatch } from './trainable.js';

/** The plugin contract bound to @promax/tensor (what `createModelTrainable` accepts). */
export type RecommenderModel = RecommenderModelV1<GraphBuilder, SymbolicTensor, Adjacency>;
/** The method contract bound to @promax/tensor. */
export type RecommenderMethod = RecommenderMethodV1<GraphBuilder, SymbolicTensor, Adjacency>;
/** A method prepared for one run, bound to @promax/tensor. */
export type PreparedMethod = PreparedMethodV1<GraphBuilder, SymbolicTensor, Adjacency>;

/** A prepared method as the trainer takes it: its id (the prefix of its inputs and parameters) and hooks. */
export interface TrainableMethod {
  readonly id: string;
  readonly prepared: PreparedMethod;
}

/** The graphs a training graph can encode over: the train graph A and the augmented A′. */
export type GraphView = 'original' | 'augmented';

/** Inputs declared by the trainer (hooks and stochastic inputs must use other names). */
export const MODEL_TRAINABLE_INPUTS = {
  users: 'batch.users',
  pos: 'batch.pos',
  neg: 'batch.neg',
  uniqueUsers: 'batch.uniqueUsers',
  uniquePos: 'batch.uniquePos',
  negatives: 'batch.negatives',
  original: 'A',
  augmented: 'A_aug',
} as const;

/** One masked view the training graph declared: spec, the view's data and the masked adjacency's name. */
interface EdgeMaskInput {
  readonly spec: StochasticEdgeMaskSpec;
  /** The normalised view ('A' or 'A_aug') whose stored entries are kept or dropped. */
  readonly base: AdjacencyData;
  /** `<spec.name>.<view>`: the adjacency of the kept entries. */
  readonly input: string;
}

/** One batch as index arrays, as methods' `feedsForBatch` receive it. */
export type BatchIndices = MethodBatch;

export interface ModelTrainableData {
  numUsers: number;
  numItems: number;
  /** The train matrix R (users × items): the original graph and the BPR triples' source. */
  train: CsrMatrix;
  /** The augmented matrix R′ (ProMax's A′), needed only if a method encodes the 'augmented' view. */
  aug?: CsrMatrix;
  /**
   * Inputs of a model that reads some (`doDeclareConstants`: AlphaRec's item profile embeddings);
   * the same object methods receive. Models without constants ignore it.
   */
  inputs?: MethodInputs;
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
  /**
   * Methods trained with the model (e.g. ProMax): their loss terms go into the SAME training graph,
   * their parameters into the same store and optimiser, their `doScore` into the inference graph.
   */
  methods?: readonly TrainableMethod[];
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
 * model's auxiliary terms + every method's terms), Adam over the model's and the methods' parameters,
 * and a compiled inference graph over the original graph (with the methods' scoring changes) for `embed()`. Create it with {@link createModelTrainable}.
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
  private readonly maskBuffers = new Map<string, { mask: Float32Array; kept: EdgeSubsetBuffers }>();
  private drawnEpochInputs = false;
  /** K negatives per triple (the model's `sampledNegatives`), their item marker and last draw. */
  private readonly negativesK: number;
  private readonly negativeMarker: Int32Array;
  private negatives: { users: Int32Array; ids: Int32Array; feed: BigInt64Array } | undefined;

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
    private readonly methods: readonly TrainableMethod[],
    private readonly hookInputs: ReadonlySet<string>,
    private readonly edgeMaskInputs: readonly EdgeMaskInput[],
    seed: number,
  ) {
    this.rng = new Rng((seed ^ 0x5bd1e995) >>> 0);
    this.needed = new Set(program.inputs.map((i) => i.name));
    this.terms = program.outputNames;
    this.userMark = new Uint8Array(dims.numUsers);
    this.itemMark = new Uint8Array(dims.numItems);
    this.negativesK = this.needed.has(MODEL_TRAINABLE_INPUTS.negatives) ? (model.sampledNegatives ?? 0) : 0;
    this.negativeMarker = new Int32Array(this.negativesK > 0 ? dims.numItems : 0).fill(-1);
    for (const [k, v] of Object.entries(graphFeeds)) if (this.needed.has(k)) this.staticFeeds[k] = v;
    for (const s of stochastic) {
      if (s.kind === 'tensor')
        this.tensorBuffers.set(s.name, new Float32Array(s.shape.reduce((a, b) => a * b, 1)));
    }
    for (const m of edgeMaskInputs) {
      this.maskBuffers.set(m.input, {
        mask: new Float32Array(m.base.src.length),
        kept: edgeSubsetBuffers(m.base),
      });
    }
  }

  /** Redraws the model's epoch-level stochastic inputs, then runs the methods' `onEpochStart`. */
  async onEpochStart(epoch: number): Promise<void> {
    this.draw('epoch');
    this.drawnEpochInputs = true;
    for (const m of this.methods) await m.prepared.onEpochStart?.(epoch);
  }

  async trainBatch(batch: TripleBatch): Promise<Record<string, number>> {
    const { losses, result } = await this.runBatch(batch, true);
    // A non-finite loss stops the loop; keep the parameters as they were.
    if (Number.isFinite(result.loss)) this.optimizer.step(this.store, result.grads);
    return losses;
  }

  /**
   * The loss terms and the gradient of every parameter (model and methods) on one batch, without
   * an optimiser step: what `trainBatch` computes before it steps. With `redraw: false` the
   * stochastic inputs of the previous call are reused, so repeated calls differ only by the
   * parameters (finite-difference checks perturb `store` between calls).
   */
  async computeGradients(
    batch: TripleBatch,
    options: { redraw?: boolean } = {},
  ): Promise<{ losses: Record<string, number>; grads: ReadonlyMap<string, Float32Array> }> {
    const { losses, result } = await this.runBatch(batch, options.redraw ?? true);
    return { losses, grads: result.grads };
  }

  /**
   * The model's stochastic tensor inputs, and its edge masks as 0/1 per stored entry of the view
   * (`<mask>.<view>`, e.g. `lightgcn.edgeMask.A`, in the view's edge order), as last drawn
   * (copies), by name: for tests and tools.
   */
  stochasticTensors(): Record<string, Float32Array> {
    const out: Record<string, Float32Array> = {};
    for (const [name, buf] of this.tensorBuffers) out[name] = buf.slice();
    for (const [name, buf] of this.maskBuffers) out[name] = buf.mask.slice();
    return out;
  }

  /**
   * The negatives last drawn for a model with `sampledNegatives` K (a copy, [B·K] row-major, row b
   * for the b-th triple), or undefined before the first batch / for other models: for tests and tools.
   */
  lastNegatives(): Int32Array | undefined {
    return this.negatives?.ids.slice();
  }

  private async runBatch(batch: TripleBatch, redraw: boolean) {
    checkBatch(batch, this.dims);
    if (!this.drawnEpochInputs) {
      this.draw('epoch');
      this.drawnEpochInputs = true;
      this.draw('step');
    } else if (redraw) this.draw('step');
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
    if (this.negativesK > 0) feeds[names.negatives] = this.drawNegatives(batch.users, redraw);
    const feeders = this.methods.filter((m) => m.prepared.feedsForBatch);
    const wantsUnique = feeders.length > 0;
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
    for (const m of feeders) {
      const extra = await m.prepared.feedsForBatch?.({
        users: batch.users,
        pos: batch.pos,
        neg: batch.neg,
        uniqueUsers: uniqueUsers as Int32Array,
        uniquePos: uniquePos as Int32Array,
        redraw,
      });
      for (const [k, v] of Object.entries(extra ?? {})) {
        if (!this.hookInputs.has(k)) {
          throw new PromaxError({
            code: 'INVALID_ARGUMENT',
            field: k,
            message: `method ${m.id}'s feedsForBatch returned '${k}', which no doLoss declared with addInput (declared: ${[...this.hookInputs].join(', ') || 'none'})`,
            fix: 'declare every per-batch input with ctx.addInput(name, shape) in doLoss',
          });
        }
        feeds[k] = v;
      }
    }
    for (const k of Object.keys(feeds)) if (!this.needed.has(k)) delete feeds[k];
    const result = await this.program.run(feeds, this.store);
    const losses: Record<string, number> = { loss: result.loss };
    for (const name of this.terms) losses[name] = (result.outputs[name].data as Float32Array)[0];
    return { losses, result };
  }

  async embed(): Promise<{ users: Matrix; items: Matrix }> {
    const feeds: Record<string, FeedValue> = {};
    const needed = new Set(this.inference.inputs.map((i) => i.name));
    for (const [k, v] of Object.entries(this.graphFeeds)) if (needed.has(k)) feeds[k] = v;
    for (const m of this.methods) {
      for (const [k, v] of Object.entries(m.prepared.inferenceFeeds?.() ?? {}))
        if (needed.has(k)) feeds[k] = v;
    }
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

  /** Releases the programs' sessions and every method's resources (each method once). */
  async release(): Promise<void> {
    await this.program.release();
    await this.inference.release();
    for (const m of this.methods) await m.prepared.release();
  }

  /**
   * K negatives per triple from the trainer's seeded stream; with `redraw` false the previous draw
   * is reused (finite-difference checks), provided it was drawn for the same users.
   */
  private drawNegatives(users: Int32Array, redraw: boolean): BigInt64Array {
    const k = this.negativesK;
    const last = this.negatives;
    const same =
      last !== undefined && last.users.length === users.length && last.users.every((u, b) => u === users[b]);
    if (!redraw && same) return last.feed;
    const ids = sampleBatchNegatives(this.train, users, k, this.rng, this.negativeMarker);
    this.negatives = { users: users.slice(), ids, feed: BigInt64Array.from(ids, (v) => BigInt(v)) };
    return this.negatives.feed;
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
      } else if (s.kind === 'edge-mask') {
        // One independent keep/drop draw per stored entry, view after view (in declaration order);
        // the kept entries are fed as an edge list in the view's order.
        for (const m of this.edgeMaskInputs) {
          if (m.spec !== s || !this.needed.has(`${m.input}.src`)) continue;
          const { mask, kept } = this.maskBuffers.get(m.input) as {
            mask: Float32Array;
            kept: EdgeSubsetBuffers;
          };
          for (let e = 0; e < mask.length; e++) mask[e] = this.rng.nextFloat() < s.keepRate ? 1 : 0;
          for (const [k, v] of Object.entries(edgeSubsetFeeds(m.input, m.base, mask, kept)))
            if (this.needed.has(k)) this.staticFeeds[k] = v;
        }
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
 * the model and its methods mark regularised) + the model's auxiliary terms + every method's terms.
 * `trainBatch` reports `{ loss, bpr, reg, <aux…>, <method terms…> }`. BPR is left out when a
 * method or the model (`capabilities.replacesBpr`, e.g. AlphaRec's sampled softmax over
 * `batch.negatives`) brings its own ranking loss. A model's constants (`doDeclareConstants`) are
 * built once from `data.train` and `data.inputs` and fed to both programs.
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
  const users = data.inputs?.userProfiles?.cols;
  const items = data.inputs?.itemProfiles?.cols;
  const dims: ModelDims = {
    numUsers: data.numUsers,
    numItems: data.numItems,
    ...(users !== undefined || items !== undefined ? { profileWidths: { users, items } } : {}),
  };
  const modelSpecs = model.doDeclareParameters(dims);
  assertParameterSpecs(model.modelId, modelSpecs);
  const methods = options.methods ?? [];
  checkMethods(methods);
  const methodSpecs = methods.map((m) => {
    const ps = m.prepared.parameters ?? [];
    assertParameterSpecs(`method ${m.id}`, ps);
    for (const p of ps) {
      if (!p.name.startsWith(`${m.id}.`)) {
        throw new PromaxError({
          code: 'INVALID_ARGUMENT',
          field: p.name,
          message: `method ${m.id} declares parameter '${p.name}', which does not start with '${m.id}.'`,
          fix: `name method parameters '${m.id}.<name>' so they never clash with the model's`,
        });
      }
    }
    return ps;
  });
  const specs = [...modelSpecs, ...methodSpecs.flat()];
  const usesAug = methods.some((m) => m.prepared.usesAugmentedView);
  if (usesAug && !data.aug) {
    throw new PromaxError({
      code: 'MISSING_INPUT',
      field: 'data.aug',
      message: `method ${methods.find((m) => m.prepared.usesAugmentedView)?.id} encodes the augmented view but no augmented matrix was given`,
      fix: "pass data.aug (the dataset's A′) to createModelTrainable",
    });
  }
  const stochastic = model.doDeclareStochasticInputs?.(dims) ?? [];
  const names = MODEL_TRAINABLE_INPUTS;
  // Constants (profile embeddings, …) are built once from the train matrix and the inputs.
  const constants = model.doDeclareConstants?.({ dims, train: data.train, inputs: data.inputs ?? {} }) ?? [];
  assertModelConstants(
    model.modelId,
    constants,
    new Set([...specs.map((sp) => sp.name), ...stochastic.map((sp) => sp.name), ...Object.values(names)]),
  );
  const nodes = dims.numUsers + dims.numItems;
  const normalize = (m: CsrMatrix): AdjacencyData =>
    normalizedBipartiteAdjacency(m, { selfLoops: model.graphNormalization.selfLoops });

  // Graph feeds (and the constants) are built once, only for the views some graph declares.
  const graphFeeds: Record<string, FeedValue> = {};
  for (const c of constants) graphFeeds[c.name] = { data: c.data, dims: c.shape };
  const viewData = new Map<string, AdjacencyData>();
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
    const a = normalize(m);
    viewData.set(name, a);
    Object.assign(graphFeeds, adjacencyFeeds(name, a));
  };

  // ---- training graph
  const g = new GraphBuilder();
  const params = Object.fromEntries(modelSpecs.map((s) => [s.name, g.param(s.name, s.shape)]));
  const methodParams = methodSpecs.map((ps) =>
    Object.fromEntries(ps.map((s) => [s.name, g.param(s.name, s.shape)])),
  );
  const batch: BatchTensors<SymbolicTensor> = {
    users: g.input(names.users, 'int64', ['B']),
    pos: g.input(names.pos, 'int64', ['B']),
    neg: g.input(names.neg, 'int64', ['B']),
    uniqueUsers: g.input(names.uniqueUsers, 'int64', ['Bu']),
    uniquePos: g.input(names.uniquePos, 'int64', ['Bi']),
    ...(model.sampledNegatives
      ? { negatives: g.input(names.negatives, 'int64', ['B', model.sampledNegatives]) }
      : {}),
  };
  const constantTensors = Object.fromEntries(
    constants.map((c) => [c.name, g.input(c.name, 'float32', c.shape)]),
  );
  const tensors: Record<string, SymbolicTensor> = {};
  const graphs: Record<string, Adjacency> = {};
  const maskedGraphs: Record<string, (graph: Adjacency) => Adjacency> = {};
  const edgeMaskInputs: EdgeMaskInput[] = [];
  const adjacencies = new Map<GraphView, Adjacency>();
  for (const s of stochastic) {
    if (s.kind === 'tensor') tensors[s.name] = g.input(s.name, 'float32', s.shape);
    else if (s.kind === 'graph') graphs[s.name] = g.adjacency(s.name, { rows: nodes, symmetric: true });
    else maskedGraphs[s.name] = maskedGraphOf(model.modelId, s, g, adjacencies, viewData, edgeMaskInputs);
  }
  const stochasticValues = { tensors, graphs, maskedGraphs };
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
      const common = {
        g,
        params,
        dims,
        training: true,
        stochastic: stochasticValues,
        constants: constantTensors,
      };
      if (model.capabilities.usesGraph) z = model.doEncode({ ...common, graph: adjacencyOf(view) });
      else if (view === 'original') z = model.doEncode({ ...common, graph: undefined });
      else if (model.doEncodeView) {
        z = model.doEncodeView({ ...common, graph: adjacencyOf(view), encoded: encode('original') });
      } else {
        throw new PromaxError({
          code: 'UNSUPPORTED_COMBINATION',
          field: 'model',
          message: `model ${model.modelId} reads no graph and does not say how it encodes a second view (doEncodeView)`,
          fix: `use a graph model, or implement doEncodeView in ${model.modelId}`,
        });
      }
      encodings.set(view, z);
    }
    return z;
  };

  const z = encode('original');
  const replacing = methods.filter((m) => m.prepared.replacesBpr);
  if (replacing.length > 1) {
    throw new PromaxError({
      code: 'UNSUPPORTED_COMBINATION',
      field: 'methods',
      message: `methods ${replacing.map((m) => m.id).join(' and ')} each replace the BPR loss; a run can have one`,
      fix: 'run these methods in separate arms',
    });
  }
  const modelReplacesBpr = model.capabilities.replacesBpr === true;
  if (modelReplacesBpr && replacing.length > 0) {
    throw new PromaxError({
      code: 'UNSUPPORTED_COMBINATION',
      field: 'methods',
      message: `model ${model.modelId} trains with its own ranking loss instead of BPR, and method ${replacing[0].id} replaces the BPR loss too`,
      fix: `train ${replacing[0].id} on a model that uses the trainer's BPR`,
    });
  }
  const terms: Record<string, SymbolicTensor> = {};
  if (replacing.length === 0 && !modelReplacesBpr) {
    const u = g.gather(z.users, batch.users);
    terms.bpr = g.bprLoss(
      g.rowDot(u, g.gather(z.items, batch.pos)),
      g.rowDot(u, g.gather(z.items, batch.neg)),
    );
  }
  const every: Record<string, SymbolicTensor> = Object.assign({}, params, ...methodParams);
  const regularised = specs.filter((s) => s.regularize !== false).map((s) => g.sumSquares(every[s.name]));
  terms.reg = l2 > 0 && regularised.length > 0 ? g.mul(g.addN(regularised), l2) : g.scalar(0);
  if (model.doAuxiliaryLoss) {
    const aux = model.doAuxiliaryLoss({
      g,
      params,
      graph: model.capabilities.usesGraph ? adjacencyOf('original') : undefined,
      dims,
      training: true,
      stochastic: stochasticValues,
      constants: constantTensors,
      encoded: z,
      batch,
    });
    for (const [k, t] of Object.entries(aux)) {
      if (k in terms) throw termError(k, `model ${model.modelId}'s doAuxiliaryLoss`);
      terms[k] = t;
    }
  }
  const hookInputs = new Set<string>();
  methods.forEach((m, idx) => {
    if (!m.prepared.doLoss) return;
    const extra = m.prepared.doLoss({
      g,
      params,
      methodParams: methodParams[idx],
      dims,
      encode,
      encodeWith: (replaced, view = 'original') => {
        for (const k of Object.keys(replaced)) {
          if (!(k in params)) {
            throw new PromaxError({
              code: 'INVALID_ARGUMENT',
              field: k,
              message: `method ${m.id} replaces parameter '${k}', which model ${model.modelId} does not have`,
              fix: `use one of: ${Object.keys(params).join(', ')}`,
            });
          }
        }
        const common = {
          g,
          params: { ...params, ...replaced },
          dims,
          training: true,
          stochastic: stochasticValues,
          constants: constantTensors,
        };
        if (model.capabilities.usesGraph) return model.doEncode({ ...common, graph: adjacencyOf(view) });
        if (view === 'original') return model.doEncode({ ...common, graph: undefined });
        const own = model.doEncode({ ...common, graph: undefined });
        if (!model.doEncodeView) return encode(view);
        return model.doEncodeView({ ...common, graph: adjacencyOf(view), encoded: own });
      },
      parameterSpecs: modelSpecs,
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
      addInput: (name, shape, type = 'float32') => {
        checkInputName(m.id, name, hookInputs);
        hookInputs.add(name);
        return g.input(name, type, shape);
      },
    });
    for (const [k, t] of Object.entries(extra)) {
      if (k in terms || RESERVED_TERMS.has(k)) throw termError(k, `method ${m.id}'s doLoss`);
      terms[k] = t;
    }
  });
  const loss = g.addN(Object.values(terms));
  const program = await compileTraining({ graph: g, loss, outputs: terms }, options.engine);

  // ---- inference graph (original view, no stochastic inputs)
  const gi = new GraphBuilder();
  const iparams = Object.fromEntries(modelSpecs.map((s) => [s.name, gi.param(s.name, s.shape)]));
  let original: Adjacency | undefined;
  if (model.capabilities.usesGraph) {
    feedView('original');
    original = gi.adjacency(names.original, { rows: nodes, symmetric: true });
  }
  let zi = model.doEncode({
    g: gi,
    params: iparams,
    graph: original,
    dims,
    training: false,
    stochastic: { tensors: {}, graphs: {}, maskedGraphs: {} },
    constants: Object.fromEntries(constants.map((c) => [c.name, gi.input(c.name, 'float32', c.shape)])),
  });
  const inferenceInputs = new Set<string>();
  methods.forEach((m, idx) => {
    if (!m.prepared.doScore) return;
    const mp = Object.fromEntries(methodSpecs[idx].map((s) => [s.name, gi.param(s.name, s.shape)]));
    zi = m.prepared.doScore({
      g: gi,
      params: iparams,
      methodParams: mp,
      dims,
      encoded: zi,
      addInput: (name, shape) => {
        checkInputName(m.id, name, inferenceInputs);
        inferenceInputs.add(name);
        return gi.input(name, 'float32', shape);
      },
    });
  });
  const inference = await compileInference(
    { graph: gi, outputs: { users: zi.users, items: zi.items } },
    options.engine,
  );

  // ---- parameters: model specs in order, one Rng from the seed
  const store = new ParameterStore();
  const initRng = new Rng(seed);
  for (const s of modelSpecs) {
    const buf = store.set(s.name, s.shape);
    (s.init ?? xavierUniform())(buf, s.shape, initRng);
  }
  // Each method initialises from its own stream, so adding a method never moves the model's draws.
  methods.forEach((m, idx) => {
    const rng = new Rng((seed ^ stringHash(m.id)) >>> 0);
    for (const s of methodSpecs[idx]) (s.init ?? xavierUniform())(store.set(s.name, s.shape), s.shape, rng);
  });
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
    methods,
    hookInputs,
    edgeMaskInputs,
    seed,
  );
}

/**
 * `maskedGraphs[spec.name]` of the training graph: the kept entries of a view are declared the
 * first time the model asks for them (`edgeSubset` named `<spec.name>.<view>`) and recorded for
 * drawing.
 */
function maskedGraphOf(
  modelId: string,
  spec: StochasticEdgeMaskSpec,
  g: GraphBuilder,
  adjacencies: ReadonlyMap<GraphView, Adjacency>,
  viewData: ReadonlyMap<string, AdjacencyData>,
  inputs: EdgeMaskInput[],
): (graph: Adjacency) => Adjacency {
  if (!(spec.keepRate > 0 && spec.keepRate <= 1)) {
    throw new PromaxError({
      code: 'INVALID_ARGUMENT',
      field: `${spec.name}.keepRate`,
      message: `model ${modelId} declares edge mask '${spec.name}' with keepRate ${spec.keepRate}; it must be in (0, 1]`,
      fix: 'declare a keep probability in (0, 1] (1 keeps every entry)',
    });
  }
  const made = new Map<string, Adjacency>();
  return (graph) => {
    let masked = made.get(graph.name);
    if (masked) return masked;
    const base = viewData.get(graph.name);
    if (!base || ![...adjacencies.values()].includes(graph)) {
      throw new PromaxError({
        code: 'INVALID_ARGUMENT',
        field: spec.name,
        message: `model ${modelId} asked for edge mask '${spec.name}' over '${graph.name}', which is not a view of the trainer (A or A′)`,
        fix: 'ask for edge masks only over the graph given to doEncode/doAuxiliaryLoss, not over stochastic graph views',
      });
    }
    const input = `${spec.name}.${graph.name}`;
    masked = edgeSubset(g, input, graph);
    made.set(graph.name, masked);
    inputs.push({ spec, base, input });
    return masked;
  };
}

/** FNV-1a hash of a string (a stable per-method seed offset). */
function stringHash(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

function checkMethods(methods: readonly TrainableMethod[]): void {
  const seen = new Set<string>();
  for (const m of methods) {
    if (seen.has(m.id)) {
      throw new PromaxError({
        code: 'INVALID_ARGUMENT',
        field: 'methods',
        message: `method '${m.id}' is listed twice`,
        fix: 'list each method once',
      });
    }
    seen.add(m.id);
  }
}

function checkInputName(methodId: string, name: string, taken: ReadonlySet<string>): void {
  if (!name.startsWith(`${methodId}.`)) {
    throw new PromaxError({
      code: 'INVALID_ARGUMENT',
      field: name,
      message: `method ${methodId} declares input '${name}', which does not start with '${methodId}.'`,
      fix: `name method inputs '${methodId}.<name>' so they never clash with the trainer's or another method's`,
    });
  }
  if (taken.has(name)) {
    throw new PromaxError({
      code: 'INVALID_ARGUMENT',
      field: name,
      message: `method ${methodId} declares input '${name}' twice`,
    });
  }
}
