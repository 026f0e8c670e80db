import {
  type EncodeOptions,
  type EncodeResult,
  type ModelDims,
  type ParameterSpec,
  PromaxError,
  parseModelSettings,
  type RecommenderModelDefinition,
  type RecommenderModelV1,
  requireGraph,
  type StochasticInputSpec,
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

/** Name of the per-step edge mask (`edgeKeepRate` < 1); the kept entries of view A are the adjacency `lightgcn.edgeMask.A`. */
export const LIGHTGCN_EDGE_MASK = 'lightgcn.edgeMask';

/**
 * LightGCN (He et al., SIGIR 2020): E^(l) = Â E^(l−1) over the symmetrically normalised
 * user–item graph Â = D^-½ A D^-½ (no self loops, no transforms, no non-linearities).
 *
 * With `edgeKeepRate` < 1 every TRAINING encoding propagates over Â ⊙ M, M a fresh 0/1 mask per
 * stored entry and step (RLMRec's LightGCN, whose forward drops edges whenever it trains, whatever
 * adjacency it is given). So methods that encode the original view (BPR, RLMRec-Con's KD term,
 * RLMRec-Gen's masked forward) all see that step's dropped Â, as in RLMRec's `lightgcn_plus.py` and
 * `lightgcn_gene.py`, and a second view (ProMax's A′) is dropped with its own mask. Inference
 * encodes over the full graph.
 */
export class LightGcnModel implements RecommenderModel {
  readonly specificationVersion = 'v1';
  readonly modelId = 'lightgcn';
  readonly capabilities = { usesGraph: true, hasAuxiliaryLoss: false, hasStochasticInputs: true } as const;
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

  /** The edge mask when `edgeKeepRate` < 1; nothing otherwise (the full-graph trajectory is unchanged). */
  doDeclareStochasticInputs(): StochasticInputSpec[] {
    const keepRate = this.settings.edgeKeepRate;
    if (keepRate === 1) return [];
    return [{ kind: 'edge-mask', name: LIGHTGCN_EDGE_MASK, schedule: 'step', keepRate }];
  }

  doEncode({
    g,
    params,
    graph,
    dims,
    training,
    stochastic,
  }: EncodeOptions<GraphBuilder, SymbolicTensor, Adjacency>): EncodeResult<SymbolicTensor> {
    requireGraph('lightgcn', graph);
    const { layers, layerCombination, edgeKeepRate } = this.settings;
    let view = graph;
    if (training && edgeKeepRate < 1) {
      const maskOf = stochastic.maskedGraphs[LIGHTGCN_EDGE_MASK];
      if (!maskOf) {
        throw new PromaxError({
          code: 'INVALID_ARGUMENT',
          field: LIGHTGCN_EDGE_MASK,
          message: `lightgcn: edgeKeepRate is ${edgeKeepRate} but the training graph has no edge mask '${LIGHTGCN_EDGE_MASK}'`,
          fix: 'feed every input of doDeclareStochasticInputs (createModelTrainable does this)',
        });
      }
      view = maskOf(graph);
    }
    const x0 = g.concat([params.user_emb, params.item_emb], 0);
    const z = layerPropagation(g, x0, view, { layers, combination: layerCombination });
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
