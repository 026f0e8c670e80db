import type * as z from 'zod';
import type { CsrMatrix } from './csr.js';
import { PromaxError } from './errors.js';
import type {
  BatchTensors,
  EncodeResult,
  ModelCapabilities,
  ModelDims,
  ParameterSpec,
  StochasticValues,
} from './model-spec.js';
import type { Matrix } from './ndarray.js';
import type { ProgressHandler } from './progress.js';

/**
 * The method plugin contract, version 1: a way of training ANY base model with extra signals
 * (ProMax's SDR + S2DR, RLMRec, ProEx, KAR, …). A method never owns the trainer: it prepares
 * loss terms, per-batch feeds, optional extra parameters and an optional change to inference
 * scoring, and the one training recipe (`runExperiment` in @promax/pipeline) builds them into the
 * model's training graph. Like `RecommenderModelV1`, the contract is generic over the engine's
 * types (G graph builder, T symbolic tensor, A adjacency handle); bind it where the engine is known.
 */
export type RecommenderMethodSpecificationVersion = 'v1';

/** The graph views a method can encode the model over. */
export type MethodGraphView = 'original' | 'augmented';

/** An input a method reads besides the train matrix. */
export type MethodInputKind =
  /** One profile embedding per user and per item (e.g. RLMRec's usr_emb_np.pkl / itm_emb_np.pkl). */
  | 'profileEmbeddings'
  /** One profile embedding per item only (itm_emb_np.pkl): AlphaRec derives its users from them. */
  | 'itemProfileEmbeddings'
  /** Extra profile embeddings per entity (ProEx's usr_emb_np_{1,2,3}.pkl / itm_emb_np_{1,2,3}.pkl). */
  | 'extraProfileEmbeddings'
  /** The augmented train matrix A′ ⊇ R (aug_trn_mat.npz). */
  | 'augmentedGraph';

/** How a method declares an input, for `promax methods`, docs and the "missing input" checks. */
export interface MethodInputSpec {
  readonly kind: MethodInputKind;
  /**
   * 'required': the method cannot run without it (a named MISSING_INPUT error before training);
   * 'optional': the method runs without it, states what it skipped and records that.
   */
  readonly need: 'required' | 'optional';
  /** What it is used for, one line. */
  readonly purpose: string;
}

/** The inputs the pipeline found for a run (absent fields: not available). */
export interface MethodInputs {
  readonly userProfiles?: Matrix;
  readonly itemProfiles?: Matrix;
  /** Extra profile embeddings: one matrix per variant and side (same variant order on both). */
  readonly extraProfiles?: { readonly users: readonly Matrix[]; readonly items: readonly Matrix[] };
  readonly aug?: CsrMatrix;
  /** Where each input came from (file paths by input kind), for messages and records. */
  readonly sources?: Readonly<Partial<Record<MethodInputKind, string>>>;
  /** Files looked for when an input is absent, by kind (for the MISSING_INPUT message). */
  readonly lookedFor?: Readonly<Partial<Record<MethodInputKind, string>>>;
}

/** The dataset a method is prepared for. */
export interface MethodDataset extends ModelDims {
  /** Canonical dataset name (amazon-book, yelp, …) or the folder name. */
  readonly name: string | null;
  readonly train: CsrMatrix;
}

/** The model a method is applied to (only what a method may inspect). */
export interface MethodModelInfo {
  readonly modelId: string;
  readonly capabilities: ModelCapabilities;
  readonly embeddingSize: number;
  /** The width of the final vectors when it differs from `embeddingSize` (GCCF concatenates its layers). */
  readonly outputSize?: number;
  /** True when the model can encode over a second graph view (graph models, or `doEncodeView`). */
  readonly encodesViews: boolean;
}

/**
 * Top-K cosine search over a corpus that a method may use instead of its own exact search (the
 * sparse SDR teacher's top-K items per user). Structural: any `@promax/retrieval` Retriever fits
 * (exact, a LanceDB ANN index, …). The caller owns it and releases it after the run.
 */
export interface NeighbourSearch {
  readonly provider: string;
  /** Replaces the indexed corpus (rows are the ids returned). */
  index(corpus: Matrix): Promise<void>;
  /** Per query row: up to k ids by descending cosine, skipping `exclude`'s row entries. */
  doSearch(options: {
    queries: Matrix;
    k: number;
    metric: 'cosine';
    exclude?: CsrMatrix;
  }): Promise<{ indices: Int32Array; scores: Float32Array; counts: Int32Array }>;
}

export interface MethodPrepareOptions {
  readonly dataset: MethodDataset;
  readonly model: MethodModelInfo;
  readonly inputs: MethodInputs;
  /** The run's seed (methods that draw randomness derive their own stream from it). */
  readonly seed: number;
  /** Engine options for any programs the method compiles (e.g. `{ intraOpNumThreads }`). */
  readonly engine?: Readonly<Record<string, unknown>>;
  /** A nearest-neighbour index the run was given (`--index`); absent: methods search exactly. */
  readonly neighbours?: NeighbourSearch;
  readonly onProgress?: ProgressHandler;
}

/** One batch as index arrays (valid only during the call). */
export interface MethodBatch {
  readonly users: Int32Array;
  readonly pos: Int32Array;
  readonly neg: Int32Array;
  /** Distinct users, ascending. */
  readonly uniqueUsers: Int32Array;
  /** Distinct positive items, ascending. */
  readonly uniquePos: Int32Array;
  /**
   * False when the trainer re-runs the previous step with the same randomness (finite-difference
   * checks): a method that draws per step (ProEx's environments, RLMRec-Gen's mask) reuses its last draw.
   */
  readonly redraw?: boolean;
}

/** The element type of a method input: float32 values or int64 row indices. */
export type MethodInputType = 'float32' | 'int64';

/** A float32 feed: a flat array for inputs whose shape the graph fixes, or data with dims. */
export type MethodFeed =
  | Float32Array
  | BigInt64Array
  | { readonly data: Float32Array | BigInt64Array; readonly dims: readonly number[] };

/** What `doLoss` can use to add terms to the model's training graph. */
export interface MethodLossContext<G, T, A> {
  readonly g: G;
  /** The model's parameters, by name. */
  readonly params: Readonly<Record<string, T>>;
  /** The method's own parameters (declared in `PreparedMethodV1.parameters`), by name. */
  readonly methodParams: Readonly<Record<string, T>>;
  readonly dims: ModelDims;
  /** The model's encoding over a view, with the SAME parameters (memoised; 'original' is BPR's). */
  encode(view: MethodGraphView): EncodeResult<T>;
  /**
   * The model's encoding over a view with some parameters replaced by tensors built from them
   * (RLMRec-Gen's masked ID tables). Not memoised. Names must be the model's parameter names.
   */
  encodeWith(params: Readonly<Record<string, T>>, view?: MethodGraphView): EncodeResult<T>;
  /** The model's parameter specs (names, shapes, roles), to find its ID tables. */
  readonly parameterSpecs: readonly ParameterSpec[];
  /** The normalised adjacency handles ('augmented' needs A′). */
  readonly views: { readonly original: A; readonly augmented: A };
  /** The batch (int64): users/pos/neg [B], uniqueUsers [Bu], uniquePos [Bi]. */
  readonly batch: BatchTensors<T>;
  readonly stochastic: StochasticValues<T, A>;
  /**
   * Declares a per-batch float32 input fed by `feedsForBatch`; symbolic dims 'B', 'Bu', 'Bi' tie
   * it to the batch. Names must start with the method id and a dot (`promax.sdr.teacher`).
   * `type` 'int64' declares row indices (fed as BigInt64Array) for gathers.
   */
  addInput(name: string, shape: readonly (number | string)[], type?: MethodInputType): T;
}

/** What `doScore` can use to change the final user/item vectors at inference. */
export interface MethodScoreContext<G, T> {
  readonly g: G;
  readonly params: Readonly<Record<string, T>>;
  readonly methodParams: Readonly<Record<string, T>>;
  readonly dims: ModelDims;
  /** The model's own final vectors over the original graph. */
  readonly encoded: EncodeResult<T>;
  /** Declares an inference input fed from `inferenceFeeds()` (constant profile matrices, …). */
  addInput(name: string, shape: readonly number[]): T;
}

/** What one method reports about a run: recorded in results.json and printed by the CLI. */
export interface MethodRunReport {
  /** Inputs it read, by kind, with their source when known. */
  readonly used: Readonly<Partial<Record<MethodInputKind, string>>>;
  /** The terms that run (e.g. ['sdr', 's2dr']). */
  readonly active: readonly string[];
  /** Why any term does not run, and other facts a user should see once. */
  readonly notes: readonly string[];
  /** Extra facts for results.json (e.g. the SDR teacher's size). */
  readonly details?: Readonly<Record<string, unknown>>;
}

/** A method prepared for one dataset, model and set of inputs. */
export interface PreparedMethodV1<G, T, A> {
  readonly report: MethodRunReport;
  /** Extra trainable parameters (initialised from a stream seeded by the run seed and method id). */
  readonly parameters?: readonly ParameterSpec[];
  /** Whether `doLoss` encodes over the augmented view (the trainer then needs A′). */
  readonly usesAugmentedView?: boolean;
  /**
   * The method's own ranking loss replaces the trainer's BPR over the model's vectors (ProEx's
   * environment BPRs, KAR's BPR over fused vectors, RLMRec-Gen's BPR over the masked forward).
   * At most one method of a run may set it; the trainer then reports no 'bpr' term.
   */
  readonly replacesBpr?: boolean;
  /** Loss terms, each a float32 scalar ALREADY weighted, by name (names unique across the run). */
  doLoss?(ctx: MethodLossContext<G, T, A>): Readonly<Record<string, T>>;
  /** Feeds of the inputs declared with `addInput`, per batch (buffers may be reused across batches). */
  feedsForBatch?(
    batch: MethodBatch,
  ): Readonly<Record<string, MethodFeed>> | Promise<Readonly<Record<string, MethodFeed>>>;
  /** Runs at every epoch start. */
  onEpochStart?(epoch: number): void | Promise<void>;
  /** Changes the final vectors used for scoring at inference (ProEx and KAR add profile projections). */
  doScore?(ctx: MethodScoreContext<G, T>): EncodeResult<T>;
  /** Feeds of the inputs `doScore` declared. */
  inferenceFeeds?(): Readonly<Record<string, MethodFeed>>;
  /** Frees what `prepare` allocated (teacher buffers, sessions). Called once. */
  release(): Promise<void>;
}

/** A method instance: resolved settings and `doPrepare`. Created by its definition's `create`. */
export interface RecommenderMethodV1<G, T, A, S = Readonly<Record<string, unknown>>> {
  readonly specificationVersion: 'v1';
  /** Stable id, e.g. 'promax' (the package is `@promax/method-<id>`). */
  readonly methodId: string;
  /** The resolved settings (defaults and preset applied), recorded in run configs. */
  readonly settings: S;
  doPrepare(options: MethodPrepareOptions): Promise<PreparedMethodV1<G, T, A>>;
}

/**
 * How `promax tune` searches a setting by default, around the value v the run resolves (preset
 * included): a loss `weight` or a positive `scale` on a log scale over [v/10, 10·v], a
 * `temperature` on a log scale over [v/4, 4·v], a `ratio` in (0, 1) over [v/2, min(2·v, 0.95)].
 */
export type TunableKind = 'weight' | 'scale' | 'temperature' | 'ratio';

/**
 * How a method package presents itself to plugin discovery, the CLI and the recipe: id, settings
 * schema (strict, documented), defaults, per-dataset presets, inputs and the factory.
 */
export interface RecommenderMethodDefinition<M, S, I = S> {
  readonly kind: 'method';
  readonly specificationVersion: 'v1';
  readonly id: string;
  /** The npm package, `@promax/method-<id>` or `promax-method-<id>`. */
  readonly packageName: string;
  /** One line for `promax methods`. */
  readonly description: string;
  /** Set when the method is the project's adaptation rather than the released method (shown everywhere). */
  readonly adaptation?: string;
  readonly settingsSchema: z.ZodType<S, I>;
  /** The schema's defaults. */
  readonly defaults: Readonly<S>;
  /** Settings for canonical dataset names (amazon-book, yelp, steam, …), applied beneath the user's. */
  readonly presets?: Readonly<Record<string, I>>;
  readonly inputs: readonly MethodInputSpec[];
  /** Settings that make every term weigh 0 (the conformance suite checks the base trajectory). */
  readonly zeroWeightSettings?: I;
  /**
   * The settings `promax tune` searches by default (dotted paths into the settings, each a positive
   * number in the defaults and in every preset), and how. Where the settings hold a per-model
   * override, `perModel.<model id>.<path>`, the tuner searches that one (the value in force).
   * Without `tunable` the tuner goes by names: `lambda…`/`weight` as weights, `tau…`/`temperature`
   * as temperatures.
   */
  readonly tunable?: Readonly<Record<string, TunableKind>>;
  /** A reason the method cannot train this model, or undefined when it can. */
  unsupportedReason?(model: MethodModelInfo): string | undefined;
  create(settings?: I): M;
}

/** The structural checks applied to every method before a run. */
export function assertRecommenderMethodV1(
  method: unknown,
): asserts method is RecommenderMethodV1<unknown, unknown, unknown, unknown> {
  const m = method as Partial<RecommenderMethodV1<unknown, unknown, unknown, unknown>> | null;
  const id = typeof m?.methodId === 'string' ? m.methodId : '(no methodId)';
  const fail = (message: string, fix?: string): never => {
    throw new PromaxError({ code: 'INVALID_ARGUMENT', field: 'method', message, fix });
  };
  if (typeof m !== 'object' || m === null)
    fail('a method must be an object implementing RecommenderMethodV1');
  if (m?.specificationVersion !== 'v1') {
    fail(
      `method ${id} implements specification ${String(m?.specificationVersion)}, this recipe supports 'v1'`,
      'upgrade the method package or @promax/pipeline so that their specification versions match',
    );
  }
  if (typeof m?.methodId !== 'string' || !/^[a-z][a-z0-9-]*$/.test(m.methodId))
    fail(`method ${id}: methodId must be lower-case letters, digits and '-'`);
  if (typeof m?.doPrepare !== 'function') fail(`method ${id} must implement doPrepare`);
}

/**
 * A named MISSING_INPUT error for a method (or, with `plugin: 'model'`, a base model that reads
 * inputs, `RecommenderModelDefinition.inputs`) that cannot run without an input.
 */
export function missingInputError(
  methodId: string,
  kind: MethodInputKind,
  inputs: MethodInputs,
  plugin: 'method' | 'model' = 'method',
): PromaxError {
  const looked = inputs.lookedFor?.[kind];
  const what: Record<MethodInputKind, string> = {
    profileEmbeddings: 'profile embeddings (one vector per user and per item)',
    itemProfileEmbeddings: 'item profile embeddings (one vector per item)',
    extraProfileEmbeddings: 'extra profile embeddings (usr_emb_np_{1,2,3} / itm_emb_np_{1,2,3})',
    augmentedGraph: 'the augmented train matrix A′',
  };
  const fix: Record<MethodInputKind, string> = {
    profileEmbeddings:
      'put usr_emb_np.pkl + itm_emb_np.pkl (or usr_emb.npy + itm_emb.npy) in the dataset folder, or pass --embeddings DIR (the output of promax embed)',
    itemProfileEmbeddings:
      'put itm_emb_np.pkl (or itm_emb_np.npy) in the dataset folder, or pass --embeddings DIR (the output of promax embed)',
    extraProfileEmbeddings:
      'put usr_emb_np_{1,2,3}.pkl + itm_emb_np_{1,2,3}.pkl in the dataset folder, or write them: promax profiles --dataset D --llm-base-url URL --llm-model M --variants 3 --out PROFILES (or --llm-gguf FILE), then promax embed --profiles PROFILES --encoder onnx:all-MiniLM-L6-v2 --out EMB, and train with --embeddings EMB',
    augmentedGraph:
      'put aug_trn_mat.npz in the dataset folder, or pass --aug FILE (the output of promax augment)',
  };
  return new PromaxError({
    code: 'MISSING_INPUT',
    field: kind,
    file: looked,
    message: `${plugin} ${methodId} needs ${what[kind]}, which this run does not have${looked ? ` (looked for ${looked})` : ''}`,
    fix: fix[kind],
    details: { [plugin]: methodId, input: kind },
  });
}
