import {
  type EncodeOptions,
  type EncodeResult,
  type ModelDims,
  type ParameterSpec,
  PromaxError,
  parseModelSettings,
  type RecommenderModelDefinition,
  type RecommenderModelV1,
} from '@promax/core';
import {
  type Adjacency,
  type GraphBuilder,
  layerPropagation,
  type SymbolicTensor,
  xavierUniform,
} from '@promax/tensor';
import { type LightGcnSettings, type LightGcnSettingsInput, lightGcnSettingsSchema } from './settings.js';

type RecommenderModel = RecommenderModelV1<GraphBuilder, SymbolicTensor, Adjacency, LightGcnSettings>;

/**
 * LightGCN (He et al., SIGIR 2020): E^(l) = Â E^(l−1) over the symmetrically normalised
 * user–item graph Â = D^-½ A D^-½ (no self loops, no transforms, no non-linearities).
 */
export class LightGcnModel implements RecommenderModel {
  readonly specificationVersion = 'v1';
  readonly modelId = 'lightgcn';
  readonly capabilities = { usesGraph: true, hasAuxiliaryLoss: false, hasStochasticInputs: false } as const;
  readonly graphNormalization = { selfLoops: false } as const;

  readonly embeddingSize: number;

  constructor(readonly settings: LightGcnSettings) {
    this.embeddingSize = settings.embeddingSize;
  }

  doDeclareParameters(dims: ModelDims): ParameterSpec[] {
    const d = this.settings.embeddingSize;
    return [
      { name: 'user_emb', shape: [dims.numUsers, d], role: 'user-embedding', init: xavierUniform() },
      { name: 'item_emb', shape: [dims.numItems, d], role: 'item-embedding', init: xavierUniform() },
    ];
  }

  doEncode({
    g,
    params,
    graph,
    dims,
  }: EncodeOptions<GraphBuilder, SymbolicTensor, Adjacency>): EncodeResult<SymbolicTensor> {
    if (!graph) {
      throw new PromaxError({
        code: 'INVALID_ARGUMENT',
        field: 'graph',
        message: 'lightgcn encodes over a graph view, but none was given',
        fix: 'pass the normalised user–item adjacency (capabilities.usesGraph is true)',
      });
    }
    const { layers, layerCombination } = this.settings;
    const x0 = g.concat([params.user_emb, params.item_emb], 0);
    const z = layerPropagation(g, x0, graph, { layers, combination: layerCombination });
    const [users, items] = g.split(z, [dims.numUsers, dims.numItems], 0);
    return { users, items };
  }
}

/** Creates a LightGCN model; settings are validated (unknown keys are errors). */
export function createLightGcn(settings: LightGcnSettingsInput = {}): LightGcnModel {
  return new LightGcnModel(parseModelSettings('lightgcn', lightGcnSettingsSchema, settings));
}

/** Registry entry of the LightGCN plugin. */
export const lightGcnDefinition: RecommenderModelDefinition<
  LightGcnModel,
  LightGcnSettings,
  LightGcnSettingsInput
> = {
  kind: 'model',
  specificationVersion: 'v1',
  id: 'lightgcn',
  packageName: '@promax/model-lightgcn',
  description: 'LightGCN: linear propagation over the normalised user–item graph (He et al., 2020)',
  settingsSchema: lightGcnSettingsSchema,
  defaults: lightGcnSettingsSchema.parse({}),
  create: createLightGcn,
};
