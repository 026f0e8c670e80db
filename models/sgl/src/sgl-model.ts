import {
  type AuxiliaryLossOptions,
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
import { dropEdges } from './edge-dropout.js';
import { type SglSettings, type SglSettingsInput, sglPresets, sglSettingsSchema } from './settings.js';

type RecommenderModel = RecommenderModelV1<GraphBuilder, SymbolicTensor, Adjacency, SglSettings>;
type Encode = EncodeOptions<GraphBuilder, SymbolicTensor, Adjacency>;

/**
 * Names of the two dropped-edge views: stochastic graph views (SGL paper) or, with
 * `edgeKeepRate` < 1, edge masks over Â (adjacencies `sgl.view1.A`, `sgl.view2.A`).
 */
export const SGL_VIEWS = ['sgl.view1', 'sgl.view2'] as const;

/**
 * SGL with edge dropout (Wu et al., SIGIR 2021): a LightGCN encoder whose BPR loss uses the full
 * graph, plus λ_ssl · [InfoNCE over the batch's unique users + InfoNCE over its unique positive
 * items] between encodings over two subgraphs that each keep a train interaction with
 * probability 1 − ρ (renormalised like the full graph, redrawn every epoch).
 *
 * With `edgeKeepRate` < 1 the views are RLMRec's instead (its `sgl.py`: `forward(adj, keep_rate)`
 * twice, then `forward(adj, 1.0)` for BPR): Â ⊙ M₁ and Â ⊙ M₂, two independent 0/1 masks per
 * stored entry drawn every step, unscaled. The encoding every other loss uses, BPR's and the
 * methods' (RLMRec-Con/Gen's un-augmented view, ProMax's A and A′), is never dropped.
 */
export class SglModel implements RecommenderModel {
  readonly specificationVersion = 'v1';
  readonly modelId = 'sgl';
  readonly capabilities = { usesGraph: true, hasAuxiliaryLoss: true, hasStochasticInputs: true } as const;
  readonly graphNormalization = { selfLoops: false } as const;

  readonly embeddingSize: number;

  constructor(readonly settings: SglSettings) {
    this.embeddingSize = settings.embeddingSize;
  }

  doDeclareParameters(dims: ModelDims): ParameterSpec[] {
    const d = this.settings.embeddingSize;
    return [
      { name: 'user_emb', shape: [dims.numUsers, d], role: 'user-embedding', init: xavierUniform() },
      { name: 'item_emb', shape: [dims.numItems, d], role: 'item-embedding', init: xavierUniform() },
    ];
  }

  doDeclareStochasticInputs(): StochasticInputSpec[] {
    const { dropRate, lambdaSsl, resample, edgeKeepRate } = this.settings;
    if (lambdaSsl === 0) return [];
    if (edgeKeepRate < 1) {
      return SGL_VIEWS.map((name) => ({
        kind: 'edge-mask' as const,
        name,
        schedule: 'step' as const,
        keepRate: edgeKeepRate,
      }));
    }
    return SGL_VIEWS.map((name) => ({
      kind: 'graph' as const,
      name,
      schedule: resample,
      sample: (train, rng) => dropEdges(train, dropRate, rng),
    }));
  }

  doEncode({ g, params, graph, dims }: Encode): EncodeResult<SymbolicTensor> {
    requireGraph('sgl', graph);
    const { layers, layerCombination } = this.settings;
    const x0 = g.concat([params.user_emb, params.item_emb], 0);
    const z = layerPropagation(g, x0, graph, { layers, combination: layerCombination });
    const [users, items] = g.split(z, [dims.numUsers, dims.numItems], 0);
    return { users, items };
  }

  doAuxiliaryLoss(
    options: AuxiliaryLossOptions<GraphBuilder, SymbolicTensor, Adjacency>,
  ): Record<string, SymbolicTensor> {
    const { g, batch, stochastic, graph } = options;
    const { lambdaSsl, temperature, edgeKeepRate } = this.settings;
    if (lambdaSsl === 0) return { ssl: g.scalar(0) };
    const [a, b] = SGL_VIEWS.map((name) => {
      if (edgeKeepRate < 1) {
        const maskOf = stochastic.maskedGraphs[name];
        if (!maskOf || !graph) {
          throw new PromaxError({
            code: 'INVALID_ARGUMENT',
            field: name,
            message: `sgl: edgeKeepRate is ${edgeKeepRate} but edge mask '${name}' or the graph was not provided`,
            fix: 'feed every input of doDeclareStochasticInputs (the trainer glue does this)',
          });
        }
        return this.doEncode({ ...options, graph: maskOf(graph) });
      }
      const view = stochastic.graphs[name];
      if (!view) {
        throw new PromaxError({
          code: 'INVALID_ARGUMENT',
          field: name,
          message: `sgl: stochastic graph view '${name}' was not provided`,
          fix: 'feed every input of doDeclareStochasticInputs (the trainer glue does this)',
        });
      }
      return this.doEncode({ ...options, graph: view });
    });
    const users = g.infoNce(
      g.gather(a.users, batch.uniqueUsers),
      g.gather(b.users, batch.uniqueUsers),
      temperature,
    );
    const items = g.infoNce(
      g.gather(a.items, batch.uniquePos),
      g.gather(b.items, batch.uniquePos),
      temperature,
    );
    return { ssl: g.mul(g.add(users, items), lambdaSsl) };
  }
}

/** Creates an SGL (edge dropout) model; settings are validated (unknown keys are errors). */
export function createSgl(settings: SglSettingsInput = {}): SglModel {
  return new SglModel(parseModelSettings('sgl', sglSettingsSchema, settings));
}

/** Registry entry of the SGL plugin. */
export const sglDefinition: RecommenderModelDefinition<SglModel, SglSettings, SglSettingsInput> = {
  kind: 'model',
  specificationVersion: 'v1',
  id: 'sgl',
  packageName: '@promax/model-sgl',
  description: 'SGL-ED: LightGCN + InfoNCE between two edge-dropout views (Wu et al., 2021)',
  settingsSchema: sglSettingsSchema,
  defaults: sglSettingsSchema.parse({}),
  presets: sglPresets,
  create: createSgl,
};
