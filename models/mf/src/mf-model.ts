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
 * representation are their embedding rows. It ignores the graph view, so encoding over A and A′
 * gives the same result (`usesGraph: false`).
 */
export class MfModel implements RecommenderModel {
  readonly specificationVersion = 'v1';
  readonly modelId = 'mf';
  readonly capabilities = { usesGraph: false, hasAuxiliaryLoss: false, hasStochasticInputs: false } as const;
  readonly graphNormalization = { selfLoops: false } as const;

  constructor(readonly settings: MfSettings) {}

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
}

/** Creates a BPR-MF model; settings are validated (unknown keys are errors). */
export function createMf(settings: MfSettingsInput = {}): MfModel {
  return new MfModel(parseModelSettings('mf', mfSettingsSchema, settings));
}

/** Registry entry of the MF plugin. */
export const mfDefinition: RecommenderModelDefinition<MfModel, MfSettings, MfSettingsInput> = {
  id: 'mf',
  packageName: '@promax/model-mf',
  description: 'BPR-MF: user and item embedding tables scored by dot product (Rendle et al., 2009)',
  settingsSchema: mfSettingsSchema,
  defaults: mfSettingsSchema.parse({}),
  create: createMf,
};
