import {
  assertRecommenderModelV1,
  type CsrMatrix,
  csrNnz,
  type Matrix,
  type MethodInputs,
  type NdArray,
  type Rng,
} from '@promax/core';
import {
  createModelTrainable,
  type ModelTrainable,
  type StateDict,
  type TrainableMethod,
} from '@promax/pipeline';
import { type CompileOptions, ParameterStore } from '@promax/tensor';
import type { RecommenderModel } from './types.js';

/** Per-view outputs of an encoding over two graphs. */
export interface TwoViewEncoding {
  a: { users: NdArray; items: NdArray };
  b: { users: NdArray; items: NdArray };
}

/** BPR triples of one step. */
export interface Triples {
  users: Int32Array;
  pos: Int32Array;
  neg: Int32Array;
}

export interface HarnessTrainableOptions {
  seed: number;
  /** The train graph (default: the harness's). */
  train?: CsrMatrix;
  /** A′ for methods that encode the augmented view. */
  aug?: CsrMatrix;
  lr?: number;
  /** λreg (default 0: gradient checks see the model's own terms). */
  l2?: number;
  methods?: readonly TrainableMethod[];
  /** Inputs of a model that reads some (default: the harness's). */
  inputs?: MethodInputs;
}

const asNd = (m: Matrix): NdArray => ({ dtype: 'float32', shape: [m.rows, m.cols], data: m.data });

/**
 * The conformance suites' access to a model through the REAL trainer (`createModelTrainable` of
 * @promax/pipeline): parameters, stochastic inputs, BPR + λreg + auxiliary terms, gradients and
 * inference all come from the code that trains every run, not from a copy of it.
 */
export class ModelHarness {
  readonly numUsers: number;
  readonly numItems: number;
  private readonly made: ModelTrainable[] = [];
  private readonly encoders = new Map<CsrMatrix, ModelTrainable>();

  /**
   * @param inputs what a model that reads inputs (profile embeddings, `doDeclareConstants`) gets
   *   in every trainable; models without constants ignore it.
   */
  constructor(
    readonly model: RecommenderModel,
    readonly train: CsrMatrix,
    readonly engine: CompileOptions = {},
    readonly inputs: MethodInputs = {},
  ) {
    assertRecommenderModelV1(model);
    this.numUsers = train.rows;
    this.numItems = train.cols;
  }

  /** A trainable of the model (released with the harness). */
  async trainable(options: HarnessTrainableOptions): Promise<ModelTrainable> {
    const t = await createModelTrainable({
      model: this.model,
      data: {
        numUsers: this.numUsers,
        numItems: this.numItems,
        train: options.train ?? this.train,
        aug: options.aug,
        inputs: options.inputs ?? this.inputs,
      },
      seed: options.seed,
      optimizer: { lr: options.lr ?? 1e-3 },
      l2: options.l2 ?? 0,
      methods: options.methods,
      engine: { ...this.engine, cache: false },
    });
    this.made.push(t);
    return t;
  }

  /** The model's parameters as the trainer initialises them from `seed` (a copy). */
  async initStore(seed: number): Promise<ParameterStore> {
    const t = await this.trainable({ seed });
    return storeOf(t.getState());
  }

  /** Encodes over two graph views with the same parameters (the trainer's inference program). */
  async encode(store: ParameterStore, a: CsrMatrix, b: CsrMatrix): Promise<TwoViewEncoding> {
    const one = async (m: CsrMatrix) => {
      let t = this.encoders.get(m);
      if (!t) {
        t = await this.trainable({ seed: 0, train: m });
        this.encoders.set(m, t);
      }
      t.setState(stateOf(t.getState(), store));
      const e = await t.embed();
      return { users: asNd(e.users), items: asNd(e.items) };
    };
    return { a: await one(a), b: await one(b) };
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

  async release(): Promise<void> {
    for (const t of this.made.splice(0)) await t.release();
    this.encoders.clear();
  }
}

/** A ParameterStore holding copies of a state's tensors. */
export function storeOf(state: StateDict): ParameterStore {
  const store = new ParameterStore();
  for (const [name, t] of Object.entries(state)) store.set(name, t.shape, Float32Array.from(t.data));
  return store;
}

function stateOf(like: StateDict, store: ParameterStore): StateDict {
  const out: StateDict = {};
  for (const [name, t] of Object.entries(like)) out[name] = { shape: t.shape, data: store.get(name) };
  return out;
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
