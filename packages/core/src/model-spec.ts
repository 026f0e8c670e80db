import type * as z from 'zod';
import type { CsrMatrix } from './csr.js';
import { PromaxError } from './errors.js';
import type { MethodInputSpec, MethodInputs } from './method-spec.js';
import type { Rng } from './rng.js';
import { parseSettings } from './settings.js';

/**
 * The base-model plugin contract, version 1.
 *
 * A model describes its parameters and writes its forward pass with a graph builder; a trainer
 * (e.g. `createModelTrainable` in @promax/pipeline) owns the graph, the loss, the optimiser and
 * all randomness. Core cannot import the engine, so the contract is generic over the engine's
 * types: G = graph builder, T = symbolic tensor, A = adjacency handle. Bind it once where the
 * engine is known:
 *
 * ```ts
 * import type { RecommenderModelV1 } from '@promax/core';
 * import type { Adjacency, GraphBuilder, SymbolicTensor } from '@promax/tensor';
 * type RecommenderModel = RecommenderModelV1<GraphBuilder, SymbolicTensor, Adjacency>;
 * ```
 */
export type RecommenderModelSpecificationVersion = 'v1';

/** The dataset a model is instantiated for. */
export interface ModelDims {
  readonly numUsers: number;
  readonly numItems: number;
  /**
   * Widths of the profile embeddings the run reads, when it reads any: a model sized by them
   * (AlphaRec's MLP) takes its input width from here instead of a setting the user must match.
   */
  readonly profileWidths?: { readonly users?: number; readonly items?: number };
}

/**
 * Fills a float32 buffer of `shape` from a seeded generator (never `Math.random`).
 * Structurally the same as @promax/tensor's `Initializer`, so `xavierUniform()` etc. fit.
 */
export type ParameterInitializer = (out: Float32Array, shape: readonly number[], rng: Rng) => void;

/** What a parameter is; trainers and tools may treat roles differently (e.g. warm starts). */
export type ParameterRole = 'user-embedding' | 'item-embedding' | 'weight';

/** One trainable float32 tensor of a model. */
export interface ParameterSpec {
  /** Unique within the model; also the checkpoint tensor name (letters, digits, `_ . -`). */
  readonly name: string;
  /** Fixed sizes, e.g. `[numUsers, 32]`. */
  readonly shape: readonly number[];
  readonly role: ParameterRole;
  /** Initial values; the trainer's default (Xavier-uniform) when omitted. */
  readonly init?: ParameterInitializer;
  /**
   * Whether the trainer's λreg·‖p‖² penalty covers this parameter (default true: the reference
   * regularises every model parameter, `reg_params(model)`).
   */
  readonly regularize?: boolean;
}

/** When a stochastic input is redrawn. */
export type StochasticSchedule = 'step' | 'epoch';

/** A float32 random tensor the trainer draws from its seeded Rng and feeds (e.g. SimGCL noise). */
export interface StochasticTensorSpec {
  readonly kind: 'tensor';
  /** Graph input name; must not clash with the trainer's own inputs (`batch.*`, `A`, `A_aug`). */
  readonly name: string;
  readonly shape: readonly number[];
  readonly schedule: StochasticSchedule;
  /** Writes fresh values into `out` (length = product of `shape`), drawing only from `rng`. */
  fill(out: Float32Array, rng: Rng): void;
}

/**
 * A random graph view (e.g. SGL's edge dropout): a sub-matrix of the train matrix that the
 * trainer normalises like every other graph of the model (see `graphNormalization`) and feeds as
 * an adjacency.
 */
export interface StochasticGraphSpec {
  readonly kind: 'graph';
  /** Adjacency name (its inputs are `<name>.src`, `<name>.dst`, …). */
  readonly name: string;
  readonly schedule: StochasticSchedule;
  /** A users × items matrix drawn from `train` using only `rng`. */
  sample(train: CsrMatrix, rng: Rng): CsrMatrix;
}

/**
 * Edge dropout over a normalised adjacency the model encodes over in training (RLMRec's
 * `SpAdjEdgeDrop`): for every graph view it is asked for (A, A′, …), the trainer draws one keep
 * or drop per stored entry — u→i and i→u separately — keeping it with probability `keepRate`,
 * from its seeded Rng, and feeds the kept entries at their values in the view (no rescaling, no
 * renormalisation). Inference graphs get none.
 */
export interface StochasticEdgeMaskSpec {
  readonly kind: 'edge-mask';
  /** Mask name; its view of `<view>` is the adjacency `<name>.<view>` (e.g. `lightgcn.edgeMask.A`). */
  readonly name: string;
  readonly schedule: StochasticSchedule;
  /** Probability that an entry is kept, in (0, 1]. */
  readonly keepRate: number;
}

export type StochasticInputSpec = StochasticTensorSpec | StochasticGraphSpec | StochasticEdgeMaskSpec;

/** Stochastic inputs as graph values, by name (present only while training). */
export interface StochasticValues<T, A> {
  readonly tensors: Readonly<Record<string, T>>;
  readonly graphs: Readonly<Record<string, A>>;
  /**
   * Edge masks by spec name: `maskedGraphs[name](graph)` is `graph` ⊙ M, the same matrix holding
   * only this draw's kept entries, to encode over instead of `graph`; the same adjacency for every
   * call with the same view in one training graph. Views are the trainer's A and A′, not
   * stochastic graph views.
   */
  readonly maskedGraphs: Readonly<Record<string, (graph: A) => A>>;
}

/** What a model can do; trainers and the conformance suite check these against the methods. */
export interface ModelCapabilities {
  /** `doEncode` reads the graph view: encoding over A and A′ differs. False for MF. */
  readonly usesGraph: boolean;
  /** The model adds its own loss terms (`doAuxiliaryLoss`), e.g. SimGCL's contrastive term. */
  readonly hasAuxiliaryLoss: boolean;
  /** The model declares random inputs (`doDeclareStochasticInputs`). */
  readonly hasStochasticInputs: boolean;
  /**
   * The model's `doAuxiliaryLoss` holds its ranking loss, which REPLACES the trainer's BPR
   * (AlphaRec's sampled softmax); needs `hasAuxiliaryLoss`. Absent: false (BPR runs).
   */
  readonly replacesBpr?: boolean;
}

/**
 * A constant float32 tensor a model reads besides its parameters (e.g. profile embeddings):
 * built once per dataset by `doDeclareConstants`, fed unchanged to every training and inference
 * graph, never trained (no gradient flows into it).
 */
export interface ModelConstantSpec {
  /**
   * Graph input name (letters, digits, `_ . -`), conventionally `<modelId>.<name>`; must not clash
   * with the model's parameters, stochastic inputs or the trainer's inputs (`batch.*`, `A`, `A_aug`).
   */
  readonly name: string;
  /** Fixed sizes, e.g. `[numUsers + numItems, 1536]`. */
  readonly shape: readonly number[];
  /** Row-major values, length = product of `shape`. */
  readonly data: Float32Array;
}

/** What a model builds its constants from: the dataset's dims, its TRAIN matrix and the run's inputs. */
export interface ModelConstantsOptions {
  readonly dims: ModelDims;
  /** The train split only (validation and test interactions never reach a model). */
  readonly train: CsrMatrix;
  /** The inputs the run found (profile embeddings, …); the model checks what it needs. */
  readonly inputs: MethodInputs;
}

/** How the trainer normalises every user–item graph it gives the model. */
export interface GraphNormalization {
  /** D̃^-½ (A + I) D̃^-½ instead of D^-½ A D^-½ (GCCF). */
  readonly selfLoops: boolean;
}

/** Final user and item representations; scores are their dot products. */
export interface EncodeResult<T> {
  /** [numUsers, k] */
  readonly users: T;
  /** [numItems, k] (same k) */
  readonly items: T;
}

export interface EncodeOptions<G, T, A> {
  /** The graph under construction; add nodes with it. */
  readonly g: G;
  /** One tensor per declared parameter, by name. */
  readonly params: Readonly<Record<string, T>>;
  /**
   * The user–item graph view to encode over (original A, augmented A′, …), normalised as the
   * model asked; undefined when the model does not use a graph.
   */
  readonly graph: A | undefined;
  readonly dims: ModelDims;
  /** True inside a training graph; inference graphs have no stochastic inputs. */
  readonly training: boolean;
  /** The model's stochastic inputs (empty maps when not training). */
  readonly stochastic: StochasticValues<T, A>;
  /** The model's constants (`doDeclareConstants`), by name; empty when it declares none. */
  readonly constants: Readonly<Record<string, T>>;
}

/** The batch's index tensors (int64). */
export interface BatchTensors<T> {
  /** [B] user of each triple. */
  readonly users: T;
  /** [B] positive item of each triple. */
  readonly pos: T;
  /** [B] negative item of each triple. */
  readonly neg: T;
  /** [Bu] distinct users of the batch, ascending (torch.unique order). */
  readonly uniqueUsers: T;
  /** [Bi] distinct positive items of the batch, ascending. */
  readonly uniquePos: T;
  /**
   * [B, K] negatives of each triple, only for a model with `sampledNegatives` K > 0: drawn by the
   * trainer for every batch, uniformly (with replacement) over the items NOT in the user's train row.
   */
  readonly negatives?: T;
}

export interface AuxiliaryLossOptions<G, T, A> extends EncodeOptions<G, T, A> {
  /** The encoding of `graph` the main (BPR) loss uses, to reuse instead of recomputing. */
  readonly encoded: EncodeResult<T>;
  readonly batch: BatchTensors<T>;
}

/**
 * A base recommender, specification v1. Implementations are created by a factory
 * (`createLightGcn(settings)`) and hold no dataset: every method receives the dims.
 */
export interface RecommenderModelV1<G, T, A, S = Readonly<Record<string, unknown>>> {
  readonly specificationVersion: 'v1';
  /** Stable id, e.g. 'lightgcn' (the package is `@promax/model-<id>`). */
  readonly modelId: string;
  /** The resolved settings (defaults applied), recorded in run configs. */
  readonly settings: S;
  /**
   * The settings with what the data decided filled in (AlphaRec: `inputSize: 'auto'` → the
   * profile width), once `doDeclareParameters` ran; recorded in results.json. Absent: `settings`.
   */
  resolvedSettings?(): S;
  readonly capabilities: ModelCapabilities;
  readonly graphNormalization: GraphNormalization;
  /**
   * The model's embedding size d (its ID tables' width): what methods size profile projections and
   * whitening by (method.md §2: k = d). The final vectors are usually d wide too; GCCF concatenates
   * its layers, d·(L+1).
   */
  readonly embeddingSize: number;
  /** The width of the final user/item vectors when it is not `embeddingSize` (GCCF: d·(L+1)). */
  readonly outputSize?: number;
  /**
   * K > 0: the trainer draws K negatives per triple for every batch (seeded, outside the user's
   * train row) and passes them as `batch.negatives` [B, K] to `doAuxiliaryLoss` (AlphaRec: 256).
   * Absent or 0: none are drawn, and the trainer's random stream is untouched.
   */
  readonly sampledNegatives?: number;
  /** Parameters for a dataset, in a fixed order (initialisation draws from one Rng in this order). */
  doDeclareParameters(dims: ModelDims): readonly ParameterSpec[];
  /** Random inputs the trainer must draw and feed (only with `capabilities.hasStochasticInputs`). */
  doDeclareStochasticInputs?(dims: ModelDims): readonly StochasticInputSpec[];
  /**
   * Constant tensors built from the run's inputs and train matrix (AlphaRec: item profile
   * embeddings and each user's mean over its train items), given to every `doEncode` as
   * `constants`. Throw `missingInputError(modelId, kind, inputs, 'model')` for an absent input.
   */
  doDeclareConstants?(options: ModelConstantsOptions): readonly ModelConstantSpec[];
  /** The forward pass: user and item representations over `graph`. Pure graph building. */
  doEncode(options: EncodeOptions<G, T, A>): EncodeResult<T>;
  /**
   * How a model that reads no graph (`usesGraph: false`) builds its view over ANOTHER graph, for
   * methods that compare two views (ProMax's S2DR over A′). Graph models encode over the view with
   * `doEncode` and leave this out. `encoded` is the model's own encoding; `graph` the other view.
   */
  doEncodeView?(
    options: EncodeOptions<G, T, A> & { readonly graph: A; readonly encoded: EncodeResult<T> },
  ): EncodeResult<T>;
  /**
   * Model-specific loss terms added to BPR + λreg (only with `capabilities.hasAuxiliaryLoss`),
   * each a float32 scalar ALREADY weighted by the model's own λ, by name (e.g. `{ cl: … }`).
   * With `capabilities.replacesBpr` they are added to λreg alone (the model's own ranking loss).
   */
  doAuxiliaryLoss?(options: AuxiliaryLossOptions<G, T, A>): Readonly<Record<string, T>>;
}

/**
 * How a model package presents itself to registries and the CLI: id, settings schema (strict,
 * documented), defaults and the factory.
 */
export interface RecommenderModelDefinition<M, S, I = S> {
  readonly kind: 'model';
  readonly specificationVersion: 'v1';
  readonly id: string;
  /** The npm package, `@promax/model-<id>` or `promax-model-<id>`. */
  readonly packageName: string;
  /** One line for `promax models`. */
  readonly description: string;
  readonly settingsSchema: z.ZodType<S, I>;
  /** The schema's defaults (what `create()` uses). */
  readonly defaults: Readonly<S>;
  /**
   * Optional settings for named datasets (e.g. the reference configuration of those splits),
   * keyed by canonical dataset name (amazon-book, yelp, …). A pipeline applies the preset of the dataset it trains on beneath the
   * user's own settings, and records which preset it used.
   */
  readonly presets?: Readonly<Record<string, I>>;
  /**
   * Inputs the model reads besides the train matrix (the kinds methods declare; absent: none).
   * A missing required one is a MISSING_INPUT error naming the files looked for, before training.
   */
  readonly inputs?: readonly MethodInputSpec[];
  create(settings?: I): M;
}

const NAME = /^[A-Za-z_][A-Za-z0-9_.-]*$/;

/**
 * Parses model settings with the model's schema (defaults applied); throws ONE
 * PromaxError('INVALID_CONFIG') listing every issue with its key path.
 */
export function parseModelSettings<S, I>(modelId: string, schema: z.ZodType<S, I>, value: unknown): S {
  return parseSettings(schema, value ?? {}, {
    what: `${modelId} settings`,
    fix: `pass only the documented ${modelId} settings (see the package README)`,
    details: { model: modelId },
  }) as S;
}

/**
 * The graph view a graph model's `doEncode` was given, or the named error when none was
 * (a trainer that ignored `capabilities.usesGraph`).
 */
export function requireGraph<A>(modelId: string, graph: A | undefined): asserts graph is A {
  if (graph === undefined || graph === null) {
    throw new PromaxError({
      code: 'INVALID_ARGUMENT',
      field: 'graph',
      message: `${modelId} encodes over a graph view, but none was given`,
      fix: 'pass the normalised user–item adjacency (capabilities.usesGraph is true)',
      details: { model: modelId },
    });
  }
}

/** The structural checks every trainer applies before using a model. */
export function assertRecommenderModelV1(
  model: unknown,
): asserts model is RecommenderModelV1<unknown, unknown, unknown, unknown> {
  const m = model as Partial<RecommenderModelV1<unknown, unknown, unknown, unknown>> | null;
  const fail = (message: string, fix?: string): never => {
    throw new PromaxError({ code: 'INVALID_ARGUMENT', field: 'model', message, fix });
  };
  if (typeof m !== 'object' || m === null)
    fail('the model must be an object implementing RecommenderModelV1');
  const id = typeof m?.modelId === 'string' ? m.modelId : '(no modelId)';
  if (m?.specificationVersion !== 'v1') {
    fail(
      `model ${id} implements specification ${String(m?.specificationVersion)}, this trainer supports 'v1'`,
      'upgrade the model package or the trainer so that their specification versions match',
    );
  }
  if (typeof m?.modelId !== 'string' || m.modelId.length === 0) fail('the model has no modelId');
  const caps = m?.capabilities;
  if (!caps || typeof caps.usesGraph !== 'boolean' || typeof caps.hasAuxiliaryLoss !== 'boolean') {
    fail(`model ${id}: capabilities must hold booleans usesGraph, hasAuxiliaryLoss, hasStochasticInputs`);
  }
  if (typeof m?.doDeclareParameters !== 'function' || typeof m.doEncode !== 'function') {
    fail(`model ${id} must implement doDeclareParameters and doEncode`);
  }
  if (caps?.hasAuxiliaryLoss !== (typeof m?.doAuxiliaryLoss === 'function')) {
    fail(
      `model ${id}: capabilities.hasAuxiliaryLoss must be true exactly when doAuxiliaryLoss is implemented`,
    );
  }
  if (caps?.hasStochasticInputs !== (typeof m?.doDeclareStochasticInputs === 'function')) {
    fail(
      `model ${id}: capabilities.hasStochasticInputs must be true exactly when doDeclareStochasticInputs is implemented`,
    );
  }
  if (!(Number.isInteger(m?.embeddingSize) && (m?.embeddingSize as number) > 0)) {
    fail(`model ${id}: embeddingSize must be a positive integer (the width of its final vectors)`);
  }
  if (typeof m?.graphNormalization?.selfLoops !== 'boolean') {
    fail(`model ${id}: graphNormalization.selfLoops must be a boolean`);
  }
  if (caps?.replacesBpr !== undefined && typeof caps.replacesBpr !== 'boolean') {
    fail(`model ${id}: capabilities.replacesBpr must be a boolean when set`);
  }
  if (caps?.replacesBpr && !caps.hasAuxiliaryLoss) {
    fail(
      `model ${id}: capabilities.replacesBpr needs hasAuxiliaryLoss (doAuxiliaryLoss holds the ranking loss)`,
    );
  }
  const k = m?.sampledNegatives;
  if (k !== undefined && !(Number.isInteger(k) && (k as number) >= 0)) {
    fail(`model ${id}: sampledNegatives must be a non-negative integer, got ${String(k)}`);
  }
}

/** Checks declared parameters: unique valid names, positive integer shapes. */
export function assertParameterSpecs(modelId: string, specs: readonly ParameterSpec[]): void {
  const seen = new Set<string>();
  for (const s of specs) {
    if (typeof s.name !== 'string' || !NAME.test(s.name)) {
      throw new PromaxError({
        code: 'INVALID_ARGUMENT',
        field: String(s.name),
        message: `model ${modelId}: parameter name '${String(s.name)}' is not usable`,
        fix: 'use letters, digits, _ . - (starting with a letter or _)',
      });
    }
    if (seen.has(s.name)) {
      throw new PromaxError({
        code: 'INVALID_ARGUMENT',
        field: s.name,
        message: `model ${modelId}: parameter '${s.name}' is declared twice`,
      });
    }
    seen.add(s.name);
    if (
      !Array.isArray(s.shape) ||
      s.shape.length === 0 ||
      !s.shape.every((d) => Number.isInteger(d) && d > 0)
    ) {
      throw new PromaxError({
        code: 'SHAPE_MISMATCH',
        field: s.name,
        message: `model ${modelId}: parameter '${s.name}' has shape [${String(s.shape)}]; sizes must be positive integers`,
      });
    }
  }
}

/**
 * Checks a model's constants: valid names unique among themselves and unused by `taken` (its
 * parameters, stochastic inputs and the trainer's inputs), positive integer shapes, and data of
 * exactly that size.
 */
export function assertModelConstants(
  modelId: string,
  constants: readonly ModelConstantSpec[],
  taken: ReadonlySet<string>,
): void {
  const seen = new Set<string>();
  for (const c of constants) {
    if (typeof c.name !== 'string' || !NAME.test(c.name) || taken.has(c.name) || seen.has(c.name)) {
      throw new PromaxError({
        code: 'INVALID_ARGUMENT',
        field: String(c.name),
        message: `model ${modelId}: constant name '${String(c.name)}' is not usable (invalid, declared twice, or already a parameter or trainer input)`,
        fix: `name constants '${modelId}.<name>' (letters, digits, _ . -)`,
      });
    }
    seen.add(c.name);
    const ok =
      Array.isArray(c.shape) && c.shape.length > 0 && c.shape.every((d) => Number.isInteger(d) && d > 0);
    const size = ok ? c.shape.reduce((a, b) => a * b, 1) : -1;
    if (!ok || !(c.data instanceof Float32Array) || c.data.length !== size) {
      throw new PromaxError({
        code: 'SHAPE_MISMATCH',
        field: c.name,
        message: `model ${modelId}: constant '${c.name}' has shape [${String(c.shape)}] but ${c.data instanceof Float32Array ? c.data.length : 'no float32'} values`,
        fix: 'give a Float32Array whose length is the product of the (positive integer) shape',
      });
    }
  }
}
