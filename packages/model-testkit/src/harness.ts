import {
  assertParameterSpecs,
  assertRecommenderModelV1,
  type CsrMatrix,
  csrNnz,
  type EncodeResult,
  type ModelDims,
  type NdArray,
  type ParameterSpec,
  Rng,
  type StochasticInputSpec,
} from '@promax/core';
import {
  type Adjacency,
  adjacencyFeeds,
  type CompileOptions,
  compileInference,
  compileTraining,
  type FeedMap,
  type FeedValue,
  GraphBuilder,
  type InferenceProgram,
  normalizedBipartiteAdjacency,
  ParameterStore,
  type SymbolicTensor,
  type TrainingProgram,
  xavierUniform,
} from '@promax/tensor';
import type { RecommenderModel } from './types.js';

/** Per-view outputs of the two-graph encode program. */
export interface TwoViewEncoding {
  a: { users: NdArray; items: NdArray };
  b: { users: NdArray; items: NdArray };
}

/** One training step's feeds (batch + graph + stochastic inputs). */
export interface Triples {
  users: Int32Array;
  pos: Int32Array;
  neg: Int32Array;
}

function sortedUnique(ids: Int32Array): BigInt64Array {
  const s = Int32Array.from(ids).sort();
  const out: bigint[] = [];
  for (let i = 0; i < s.length; i++) if (i === 0 || s[i] !== s[i - 1]) out.push(BigInt(s[i]));
  return BigInt64Array.from(out);
}

const big = (a: Int32Array): BigInt64Array => BigInt64Array.from(a, (x) => BigInt(x));

/**
 * A minimal trainer for the conformance suite: it builds graphs around a model exactly as the
 * contract says (parameters from the specs, stochastic inputs drawn from a seeded Rng, BPR +
 * λ·Σ‖p‖² + auxiliary terms) without depending on @promax/pipeline.
 */
export class ModelHarness {
  readonly dims: ModelDims;
  readonly specs: readonly ParameterSpec[];
  readonly stochastic: readonly StochasticInputSpec[];
  private encodeProgram?: InferenceProgram;
  private trainAdjacency?: Record<string, FeedValue>;
  private trainProgram?: { program: TrainingProgram; l2: number; terms: string[] };

  constructor(
    readonly model: RecommenderModel,
    readonly train: CsrMatrix,
    readonly engine: CompileOptions = {},
  ) {
    assertRecommenderModelV1(model);
    this.dims = { numUsers: train.rows, numItems: train.cols };
    this.specs = model.doDeclareParameters(this.dims);
    assertParameterSpecs(model.modelId, this.specs);
    this.stochastic = model.doDeclareStochasticInputs?.(this.dims) ?? [];
  }

  /** A parameter store initialised from `seed` (specs in order, Xavier-uniform by default). */
  initStore(seed: number): ParameterStore {
    const store = new ParameterStore();
    const rng = new Rng(seed);
    for (const s of this.specs) {
      const data = store.set(s.name, s.shape);
      (s.init ?? xavierUniform())(data, s.shape, rng);
    }
    return store;
  }

  adjacency(m: CsrMatrix): ReturnType<typeof normalizedBipartiteAdjacency> {
    return normalizedBipartiteAdjacency(m, { selfLoops: this.model.graphNormalization.selfLoops });
  }

  private declare(g: GraphBuilder): Record<string, SymbolicTensor> {
    return Object.fromEntries(this.specs.map((s) => [s.name, g.param(s.name, s.shape)]));
  }

  private graphAdjacency(g: GraphBuilder, name: string): Adjacency {
    return g.adjacency(name, { rows: this.dims.numUsers + this.dims.numItems, symmetric: true });
  }

  /** Encodes over two graph views 'A' and 'B' with the same parameters (inference mode). */
  async encode(store: ParameterStore, a: CsrMatrix, b: CsrMatrix): Promise<TwoViewEncoding> {
    if (!this.encodeProgram) {
      const g = new GraphBuilder();
      const params = this.declare(g);
      const none = { tensors: {}, graphs: {} };
      const outputs: Record<string, SymbolicTensor> = {};
      for (const view of ['A', 'B']) {
        const z = this.model.doEncode({
          g,
          params,
          graph: this.graphAdjacency(g, view),
          dims: this.dims,
          training: false,
          stochastic: none,
        });
        outputs[`users_${view}`] = z.users;
        outputs[`items_${view}`] = z.items;
      }
      this.encodeProgram = await compileInference({ graph: g, outputs }, { ...this.engine, cache: false });
    }
    const out = await this.encodeProgram.run(
      { ...adjacencyFeeds('A', this.adjacency(a)), ...adjacencyFeeds('B', this.adjacency(b)) },
      store,
    );
    return { a: { users: out.users_A, items: out.items_A }, b: { users: out.users_B, items: out.items_B } };
  }

  /** The training program: BPR + auxiliary terms + l2·Σ‖p‖² over regularised parameters. */
  async trainingProgram(l2: number): Promise<{ program: TrainingProgram; terms: string[] }> {
    if (this.trainProgram && this.trainProgram.l2 === l2) return this.trainProgram;
    await this.trainProgram?.program.release();
    const g = new GraphBuilder();
    const params = this.declare(g);
    const batch = {
      users: g.input('batch.users', 'int64', ['B']),
      pos: g.input('batch.pos', 'int64', ['B']),
      neg: g.input('batch.neg', 'int64', ['B']),
      uniqueUsers: g.input('batch.uniqueUsers', 'int64', ['Bu']),
      uniquePos: g.input('batch.uniquePos', 'int64', ['Bi']),
    };
    const tensors: Record<string, SymbolicTensor> = {};
    const graphs: Record<string, Adjacency> = {};
    for (const s of this.stochastic) {
      if (s.kind === 'tensor') tensors[s.name] = g.input(s.name, 'float32', s.shape);
      else graphs[s.name] = this.graphAdjacency(g, s.name);
    }
    const common = {
      g,
      params,
      graph: this.graphAdjacency(g, 'A'),
      dims: this.dims,
      training: true,
      stochastic: { tensors, graphs },
    };
    const z: EncodeResult<SymbolicTensor> = this.model.doEncode(common);
    const u = g.gather(z.users, batch.users);
    const bpr = g.bprLoss(
      g.rowDot(u, g.gather(z.items, batch.pos)),
      g.rowDot(u, g.gather(z.items, batch.neg)),
    );
    const outputs: Record<string, SymbolicTensor> = { bpr };
    const aux = this.model.doAuxiliaryLoss?.({ ...common, encoded: z, batch }) ?? {};
    for (const [k, t] of Object.entries(aux)) outputs[`aux_${k}`] = t;
    let loss = g.addN([bpr, ...Object.values(aux)]);
    if (l2 > 0) {
      const reg = this.specs.filter((s) => s.regularize !== false).map((s) => g.sumSquares(params[s.name]));
      if (reg.length > 0) loss = g.add(loss, g.mul(g.addN(reg), l2));
    }
    const program = await compileTraining({ graph: g, loss, outputs }, { ...this.engine, cache: false });
    this.trainProgram = { program, l2, terms: Object.keys(aux) };
    return this.trainProgram;
  }

  /** Every train interaction once, each with a uniform negative outside the user's row. */
  sampleTriples(rng: Rng): Triples {
    const n = csrNnz(this.train);
    const users = new Int32Array(n);
    const pos = new Int32Array(n);
    const neg = new Int32Array(n);
    let k = 0;
    for (let u = 0; u < this.train.rows; u++) {
      const row = this.train.indices.subarray(this.train.indptr[u], this.train.indptr[u + 1]);
      for (const i of row) {
        users[k] = u;
        pos[k] = i;
        let j = rng.nextInt(this.train.cols);
        while (row.includes(j)) j = rng.nextInt(this.train.cols);
        neg[k++] = j;
      }
    }
    return { users, pos, neg };
  }

  /** Draws every stochastic input (both schedules) from `rng`. */
  stochasticFeeds(rng: Rng): Record<string, FeedValue> {
    const feeds: Record<string, FeedValue> = {};
    for (const s of this.stochastic) {
      if (s.kind === 'tensor') {
        const out = new Float32Array(s.shape.reduce((a, b) => a * b, 1));
        s.fill(out, rng);
        feeds[s.name] = { data: out, dims: s.shape };
      } else {
        Object.assign(feeds, adjacencyFeeds(s.name, this.adjacency(s.sample(this.train, rng))));
      }
    }
    return feeds;
  }

  /** Feeds of one step (the stochastic part passed in, so it can be held fixed). */
  stepFeeds(t: Triples, stochastic: Record<string, FeedValue>): FeedMap {
    this.trainAdjacency ??= adjacencyFeeds('A', this.adjacency(this.train));
    return {
      'batch.users': big(t.users),
      'batch.pos': big(t.pos),
      'batch.neg': big(t.neg),
      'batch.uniqueUsers': sortedUnique(t.users),
      'batch.uniquePos': sortedUnique(t.pos),
      ...this.trainAdjacency,
      ...stochastic,
    };
  }

  async release(): Promise<void> {
    await this.encodeProgram?.release();
    await this.trainProgram?.program.release();
    this.encodeProgram = undefined;
    this.trainProgram = undefined;
  }
}

/** Mean over users with train items of |top-K(scores) ∩ train row| / |train row|. */
export function trainRecallAtK(users: NdArray, items: NdArray, train: CsrMatrix, k: number): number {
  const [nu, d] = users.shape;
  const ni = items.shape[0];
  const U = users.data as Float32Array;
  const I = items.data as Float32Array;
  let total = 0;
  let counted = 0;
  const scores = new Float64Array(ni);
  const order = Array.from({ length: ni }, (_, i) => i);
  for (let u = 0; u < nu; u++) {
    const row = train.indices.subarray(train.indptr[u], train.indptr[u + 1]);
    if (row.length === 0) continue;
    for (let i = 0; i < ni; i++) {
      let s = 0;
      for (let c = 0; c < d; c++) s += U[u * d + c] * I[i * d + c];
      scores[i] = s;
    }
    order.sort((x, y) => scores[y] - scores[x] || x - y);
    const top = new Set(order.slice(0, k));
    let hits = 0;
    for (const i of row) if (top.has(i)) hits++;
    total += hits / row.length;
    counted++;
  }
  return counted ? total / counted : 0;
}
