import {
  type EncodeOptions,
  type EncodeResult,
  type ModelDims,
  type ParameterSpec,
  parseModelSettings,
  type RecommenderModelDefinition,
  type RecommenderModelV1,
  requireGraph,
} from '@promax/core';
import { type Adjacency, type GraphBuilder, type SymbolicTensor, xavierUniform } from '@promax/tensor';
import { type GccfSettings, type GccfSettingsInput, gccfSettingsSchema } from './settings.js';

type RecommenderModel = RecommenderModelV1<GraphBuilder, SymbolicTensor, Adjacency, GccfSettings>;

/**
 * LR-GCCF (Chen et al., AAAI 2020): linear propagation E^(l) = Â E^(l−1) [W^(l)] over the graph with
 * self connections, and the final representation is the CONCATENATION [E^(0) ‖ … ‖ E^(L)], so
 * outputs have (L + 1)·d columns.
 */
export class GccfModel implements RecommenderModel {
  readonly specificationVersion = 'v1';
  readonly modelId = 'gccf';
  readonly capabilities = { usesGraph: true, hasAuxiliaryLoss: false, hasStochasticInputs: false } as const;
  readonly graphNormalization: { readonly selfLoops: boolean };

  readonly embeddingSize: number;
  readonly outputSize: number;

  constructor(readonly settings: GccfSettings) {
    this.graphNormalization = { selfLoops: settings.selfLoops };
    // The embedding tables' width; the final vectors concatenate the layers (d·(layers + 1) wide).
    this.embeddingSize = settings.embeddingSize;
    this.outputSize = settings.embeddingSize * (settings.layers + 1);
  }

  doDeclareParameters(dims: ModelDims): ParameterSpec[] {
    const { embeddingSize: d, layers, layerTransform } = this.settings;
    const specs: ParameterSpec[] = [
      { name: 'user_emb', shape: [dims.numUsers, d], role: 'user-embedding', init: xavierUniform() },
      { name: 'item_emb', shape: [dims.numItems, d], role: 'item-embedding', init: xavierUniform() },
    ];
    if (layerTransform) {
      for (let l = 1; l <= layers; l++)
        specs.push({ name: `w${l}`, shape: [d, d], role: 'weight', init: xavierUniform() });
    }
    return specs;
  }

  doEncode({
    g,
    params,
    graph,
    dims,
  }: EncodeOptions<GraphBuilder, SymbolicTensor, Adjacency>): EncodeResult<SymbolicTensor> {
    requireGraph('gccf', graph);
    const { layers, layerTransform } = this.settings;
    let x = g.concat([params.user_emb, params.item_emb], 0);
    const outs = [x];
    for (let l = 1; l <= layers; l++) {
      x = g.propagate(x, graph);
      if (layerTransform) x = g.matmul(x, params[`w${l}`]);
      outs.push(x);
    }
    const [users, items] = g.split(g.concat(outs, 1), [dims.numUsers, dims.numItems], 0);
    return { users, items };
  }
}

/** Creates an LR-GCCF model; settings are validated (unknown keys are errors). */
export function createGccf(settings: GccfSettingsInput = {}): GccfModel {
  return new GccfModel(parseModelSettings('gccf', gccfSettingsSchema, settings));
}

/** Registry entry of the GCCF plugin. */
export const gccfDefinition: RecommenderModelDefinition<GccfModel, GccfSettings, GccfSettingsInput> = {
  kind: 'model',
  specificationVersion: 'v1',
  id: 'gccf',
  packageName: '@promax/model-gccf',
  description: 'LR-GCCF: linear residual graph convolution with layer concatenation (Chen et al., 2020)',
  settingsSchema: gccfSettingsSchema,
  defaults: gccfSettingsSchema.parse({}),
  create: createGccf,
};
