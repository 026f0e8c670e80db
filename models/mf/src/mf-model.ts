import {
  type EncodeOptions,
  type EncodeResult,
  type ModelDims,
  type ParameterSpec,
  parseModelSettings,
  type RecommenderModelDefinition,
  type RecommenderModelV1,
} from '@promax/core';
import { type Adjacency, type GraphBuilder, type SymbolicTensor, xavierUniform } from '@promax/tensor';
import { type MfSettings, type MfSettingsInput, mfSettingsSchema } from './settings.js';

type RecommenderModel = RecommenderModelV1<GraphBuilder, SymbolicTensor, Adjacency, MfSettings>;

/**
 * Matrix factorisation trained with BPR (Rendle et al., 2009): a user's and an item's
 * representation are their embedding rows. It reads no graph (`usesGraph: false`); methods that
 * compare two graph views get its `doEncodeView`.
 */
export class MfModel implements RecommenderModel {
  readonly specificationVersion = 'v1';
  readonly modelId = 'mf';
  readonly capabilities = { usesGraph: false, hasAuxiliaryLoss: false, hasStochasticInputs: false } as const;
  readonly graphNormalization = { selfLoops: false } as const;

  readonly embeddingSize: number;

  constructor(readonly settings: MfSettings) {
    this.embeddingSize = settings.embeddingSize;
  }

  doDeclareParameters(dims: ModelDims): ParameterSpec[] {
    const d = this.settings.embeddingSize;
    return [
      { name: 'user_emb', shape: [dims.numUsers, d], role: 'user-embedding', init: xavierUniform() },
      { name: 'item_emb', shape: [dims.numItems, d], role: 'item-embedding', init: xavierUniform() },
    ];
  }

  doEncode({ params }: EncodeOptions<GraphBuilder, SymbolicTensor, Adjacency>): EncodeResult<SymbolicTensor> {
    return { users: params.user_emb, items: params.item_emb };
  }

  /**
   * MF's view over another graph (S2DR's A′): one parameter-free propagation of its embeddings,
   * z′ = Â′·z (LightGCN's layer without weights), so the view differs exactly where A′ adds edges.
   */
  doEncodeView({
    g,
    graph,
    dims,
    encoded,
  }: EncodeOptions<GraphBuilder, SymbolicTensor, Adjacency> & {
    graph: Adjacency;
    encoded: EncodeResult<SymbolicTensor>;
  }): EncodeResult<SymbolicTensor> {
    const all = g.concat([encoded.users, encoded.items], 0);
    const [users, items] = g.split(g.propagate(all, graph), [dims.numUsers, dims.numItems], 0);
    return { users, items };
  }
}

/** Creates a BPR-MF model; settings are validated (unknown keys are errors). */
export function createMf(settings: MfSettingsInput = {}): MfModel {
  return new MfModel(parseModelSettings('mf', mfSettingsSchema, settings));
}

/** Registry entry of the MF plugin. */
export const mfDefinition: RecommenderModelDefinition<MfModel, MfSettings, MfSettingsInput> = {
  kind: 'model',
  specificationVersion: 'v1',
  id: 'mf',
  packageName: '@promax/model-mf',
  description: 'BPR-MF: user and item embedding tables scored by dot product (Rendle et al., 2009)',
  settingsSchema: mfSettingsSchema,
  defaults: mfSettingsSchema.parse({}),
  create: createMf,
};
