import {
  type AuxiliaryLossOptions,
  type EncodeOptions,
  type EncodeResult,
  type ModelConstantSpec,
  type ModelConstantsOptions,
  type ModelDims,
  missingInputError,
  type ParameterSpec,
  PromaxError,
  parseModelSettings,
  type RecommenderModelDefinition,
  type RecommenderModelV1,
  requireGraph,
} from '@promax/core';
import { checkProfileMatrix, linearBiasInit, profileMlp, transposedInit } from '@promax/loss';
import { type Adjacency, type GraphBuilder, layerPropagation, type SymbolicTensor } from '@promax/tensor';
import { alphaRecInput } from './profile-input.js';
import { sampledSoftmaxLoss } from './sampled-softmax.js';
import {
  ALPHAREC_PRESETS,
  type AlphaRecSettings,
  type AlphaRecSettingsInput,
  alphaRecSettingsSchema,
} from './settings.js';

type RecommenderModel = RecommenderModelV1<GraphBuilder, SymbolicTensor, Adjacency, AlphaRecSettings>;

const ID = 'alpharec';
/** The constant input rows: users' train-item means, then the item profiles. */
export const ALPHAREC_INPUT = `${ID}.input`;
const MLP = 'mlp';

/**
 * AlphaRec (Sheng et al., "Language Representations Can be What Recommenders Need", 2024;
 * baselines.md §5): NO ID embeddings. Item i's input is its frozen profile embedding s_i, user u's
 * the mean of s_i over u's train items (a constant). One shared MLP f maps both to d, LightGCN
 * propagation without weights follows, and the output is the mean over layers 0..L. Training is a
 * sampled softmax over `negatives` items per positive on L2-normalised vectors (it replaces BPR);
 * scores are cosines (`predNorm`) or dot products.
 */
export class AlphaRecModel implements RecommenderModel {
  readonly specificationVersion = 'v1';
  readonly modelId = ID;
  readonly capabilities = {
    usesGraph: true,
    hasAuxiliaryLoss: true,
    hasStochasticInputs: false,
    replacesBpr: true,
  } as const;
  readonly graphNormalization = { selfLoops: false } as const;

  readonly embeddingSize: number;
  readonly sampledNegatives: number;
  /** D once known: the setting, or with 'auto' the profile width `doDeclareParameters` saw. */
  private width?: number;

  constructor(readonly settings: AlphaRecSettings) {
    this.embeddingSize = settings.embeddingSize;
    this.sampledNegatives = settings.negatives;
    if (settings.inputSize !== 'auto') this.width = this.checkedWidth(settings.inputSize);
  }

  /** The settings with `inputSize` resolved once the parameters were declared. */
  resolvedSettings(): AlphaRecSettings {
    return this.width === undefined ? this.settings : { ...this.settings, inputSize: this.width };
  }

  /** ⌊m·D⌋, the MLP's hidden width (unused by 'homo'); needs D to be known. */
  get hiddenSize(): number {
    return Math.floor(this.settings.hiddenRatio * this.inputWidth());
  }

  private checkedWidth(D: number): number {
    if (this.settings.mlp === 'mlp' && Math.floor(this.settings.hiddenRatio * D) < 1) {
      throw new PromaxError({
        code: 'INVALID_CONFIG',
        field: 'hiddenRatio',
        message: `alpharec: hiddenRatio ${this.settings.hiddenRatio} × inputSize ${D} leaves no hidden unit`,
        fix: 'raise hiddenRatio so that ⌊hiddenRatio · inputSize⌋ ≥ 1',
      });
    }
    return D;
  }

  /** D: the setting, else the width of the item profiles in `dims` (inputSize 'auto'). */
  private inputWidth(dims?: ModelDims): number {
    if (this.width !== undefined) return this.width;
    const items = dims?.profileWidths?.items;
    if (items === undefined) {
      throw new PromaxError({
        code: 'INVALID_CONFIG',
        field: 'modelSettings.inputSize',
        message: "alpharec: inputSize is 'auto' but the width of the item profile embeddings is not known",
        fix: 'give the run item profile embeddings (itm_emb_np.pkl / itm_emb.npy), or set modelSettings.inputSize',
      });
    }
    this.width = this.checkedWidth(items);
    return this.width;
  }

  /**
   * The MLP (`mlp.w1` [H, D] output-major as `profileMlp` reads it, `mlp.b1`, `mlp.w2` [H, d],
   * `mlp.b2`; 'homo': `mlp.w` [D, d]) with nn.Linear's default initialisation, which both released
   * codes keep: kaiming_uniform(a = √5) on the weights and the bias init are both U(±1/√fan_in).
   * `w1` is drawn as an input-major [D, H] table and stored transposed, so its values do not
   * depend on the layout.
   */
  doDeclareParameters(dims: ModelDims): ParameterSpec[] {
    const { embeddingSize: d, regularize } = this.settings;
    const D = this.inputWidth(dims);
    const H = this.hiddenSize;
    const linear = (name: string, shape: number[], fanIn: number, transposed = false): ParameterSpec => ({
      name: `${MLP}.${name}`,
      shape,
      role: 'weight',
      init: transposed ? transposedInit(linearBiasInit(fanIn)) : linearBiasInit(fanIn),
      regularize,
    });
    if (this.settings.mlp === 'homo') return [linear('w', [D, d], D)];
    return [
      linear('w1', [H, D], D, true),
      linear('b1', [H], D),
      linear('w2', [H, d], H),
      linear('b2', [d], H),
    ];
  }

  doDeclareConstants({ dims, train, inputs }: ModelConstantsOptions): ModelConstantSpec[] {
    const items = inputs.itemProfiles;
    if (!items) throw missingInputError(ID, 'itemProfileEmbeddings', inputs, 'model');
    const file = inputs.sources?.itemProfileEmbeddings;
    checkProfileMatrix({
      method: ID,
      what: 'item profile embeddings',
      matrix: items,
      rows: dims.numItems,
      file,
    });
    const D = this.inputWidth({ ...dims, profileWidths: { items: items.cols } });
    if (items.cols !== D) {
      throw new PromaxError({
        code: 'SHAPE_MISMATCH',
        field: 'modelSettings.inputSize',
        file,
        message: `alpharec: the item profile embeddings are ${items.cols}-d but inputSize is ${D}`,
        fix: `set modelSettings.inputSize=${items.cols} (--set modelSettings.inputSize=${items.cols})`,
      });
    }
    return [
      {
        name: ALPHAREC_INPUT,
        shape: [dims.numUsers + dims.numItems, D],
        data: alphaRecInput(train, items),
      },
    ];
  }

  doEncode({
    g,
    params,
    graph,
    dims,
    training,
    constants,
  }: EncodeOptions<GraphBuilder, SymbolicTensor, Adjacency>): EncodeResult<SymbolicTensor> {
    requireGraph('alpharec', graph);
    const x = constants[ALPHAREC_INPUT];
    if (!x) {
      throw new PromaxError({
        code: 'INVALID_ARGUMENT',
        field: ALPHAREC_INPUT,
        message: `alpharec reads the constant '${ALPHAREC_INPUT}', which the trainer did not give`,
        fix: 'train through createModelTrainable / runExperiment, which feed doDeclareConstants',
      });
    }
    const h = this.settings.mlp === 'homo' ? g.matmul(x, params[`${MLP}.w`]) : profileMlp(g, x, params, MLP);
    const z = layerPropagation(g, h, graph, { layers: this.settings.layers, combination: 'mean' });
    const [users, items] = g.split(z, [dims.numUsers, dims.numItems], 0);
    // Cosine scoring at inference: the dot product of L2-normalised vectors.
    if (!training && this.settings.predNorm)
      return { users: g.l2Normalize(users), items: g.l2Normalize(items) };
    return { users, items };
  }

  doAuxiliaryLoss({
    g,
    encoded,
    batch,
  }: AuxiliaryLossOptions<GraphBuilder, SymbolicTensor, Adjacency>): Record<string, SymbolicTensor> {
    if (!batch.negatives) {
      throw new PromaxError({
        code: 'INVALID_ARGUMENT',
        field: 'batch.negatives',
        message: `alpharec's loss needs ${this.sampledNegatives} negatives per triple, which the trainer did not draw`,
        fix: 'train with a trainer that honours sampledNegatives (createModelTrainable)',
      });
    }
    const u = g.gather(encoded.users, batch.users);
    const p = g.gather(encoded.items, batch.pos);
    return { ssm: sampledSoftmaxLoss(g, u, p, encoded.items, batch.negatives, this.settings.tau) };
  }
}

/** Creates an AlphaRec model; settings are validated (unknown keys are errors). */
export function createAlphaRec(settings: AlphaRecSettingsInput = {}): AlphaRecModel {
  return new AlphaRecModel(parseModelSettings(ID, alphaRecSettingsSchema, settings));
}

/** The plugin definition of AlphaRec: `promax models` and `--model alpharec` find it by the package name. */
export const alphaRecDefinition: RecommenderModelDefinition<
  AlphaRecModel,
  AlphaRecSettings,
  AlphaRecSettingsInput
> = {
  kind: 'model',
  specificationVersion: 'v1',
  id: ID,
  packageName: '@promax/model-alpharec',
  description:
    'AlphaRec: no ID tables; an MLP maps item profile embeddings (users: mean of their train items) before LightGCN propagation, sampled-softmax loss',
  settingsSchema: alphaRecSettingsSchema,
  defaults: alphaRecSettingsSchema.parse({}),
  presets: ALPHAREC_PRESETS,
  inputs: [
    {
      kind: 'itemProfileEmbeddings',
      need: 'required',
      purpose: "the model's only input: item i's profile, and user u's mean over its train items",
    },
  ],
  create: createAlphaRec,
};
