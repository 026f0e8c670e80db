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
import { type Adjacency, type GraphBuilder, type SymbolicTensor, xavierUniform } from '@promax/tensor';
import {
  type SimGclSettings,
  type SimGclSettingsInput,
  simGclPresets,
  simGclSettingsSchema,
} from './settings.js';
import { fillUniform } from './uniform-noise.js';

type RecommenderModel = RecommenderModelV1<GraphBuilder, SymbolicTensor, Adjacency, SimGclSettings>;
type Encode = EncodeOptions<GraphBuilder, SymbolicTensor, Adjacency>;

/** Name of the noise input of perturbed view `view` (1, 2) at layer `layer` (1..L). */
export function simGclNoiseName(view: number, layer: number): string {
  return `simgcl.noise.v${view}.l${layer}`;
}

/**
 * SimGCL (Yu et al., SIGIR 2022): a LightGCN encoder whose BPR loss uses the clean encoding, plus
 * λ_cl · [InfoNCE over the batch's unique users + InfoNCE over its unique positive items] between
 * two views perturbed at every layer by ε·sign(e)⊙normalize(noise), noise ~ U(0,1) redrawn every
 * step (in-batch negatives, temperature τ).
 */
export class SimGclModel implements RecommenderModel {
  readonly specificationVersion = 'v1';
  readonly modelId = 'simgcl';
  readonly capabilities = { usesGraph: true, hasAuxiliaryLoss: true, hasStochasticInputs: true } as const;
  readonly graphNormalization = { selfLoops: false } as const;

  readonly embeddingSize: number;

  constructor(readonly settings: SimGclSettings) {
    this.embeddingSize = settings.embeddingSize;
  }

  doDeclareParameters(dims: ModelDims): ParameterSpec[] {
    const d = this.settings.embeddingSize;
    return [
      { name: 'user_emb', shape: [dims.numUsers, d], role: 'user-embedding', init: xavierUniform() },
      { name: 'item_emb', shape: [dims.numItems, d], role: 'item-embedding', init: xavierUniform() },
    ];
  }

  doDeclareStochasticInputs(dims: ModelDims): StochasticInputSpec[] {
    const shape = [dims.numUsers + dims.numItems, this.settings.embeddingSize];
    const specs: StochasticInputSpec[] = [];
    if (this.settings.lambdaCl === 0) return specs;
    for (const view of [1, 2]) {
      for (let l = 1; l <= this.settings.layers; l++) {
        specs.push({
          kind: 'tensor',
          name: simGclNoiseName(view, l),
          shape,
          schedule: 'step',
          fill: fillUniform,
        });
      }
    }
    return specs;
  }

  doEncode(options: Encode): EncodeResult<SymbolicTensor> {
    return this.encodeWith(options, () => undefined);
  }

  doAuxiliaryLoss(
    options: AuxiliaryLossOptions<GraphBuilder, SymbolicTensor, Adjacency>,
  ): Record<string, SymbolicTensor> {
    const { g, batch } = options;
    const { lambdaCl, temperature, eps } = this.settings;
    if (lambdaCl === 0) return { cl: g.scalar(0) };
    const views = [1, 2].map((view) =>
      this.encodeWith(options, (l) => {
        const noise = options.stochastic.tensors[simGclNoiseName(view, l)];
        if (!noise) {
          throw new PromaxError({
            code: 'INVALID_ARGUMENT',
            field: simGclNoiseName(view, l),
            message: `simgcl: stochastic input '${simGclNoiseName(view, l)}' was not provided`,
            fix: 'feed every input of doDeclareStochasticInputs (the trainer glue does this)',
          });
        }
        return (x: SymbolicTensor) => g.add(x, g.mul(g.mul(g.sign(x), g.l2Normalize(noise)), eps));
      }),
    );
    const [a, b] = views;
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
    return { cl: g.mul(g.add(users, items), lambdaCl) };
  }

  /** The LightGCN encoder; `perturb(l)` may return a function applied to layer l's output. */
  private encodeWith(
    { g, params, graph, dims }: Encode,
    perturb: (layer: number) => ((x: SymbolicTensor) => SymbolicTensor) | undefined,
  ): EncodeResult<SymbolicTensor> {
    requireGraph('simgcl', graph);
    const { layers, layerCombination } = this.settings;
    let x = g.concat([params.user_emb, params.item_emb], 0);
    const outs = layerCombination === 'mean' ? [x] : [];
    for (let l = 1; l <= layers; l++) {
      x = g.propagate(x, graph);
      x = perturb(l)?.(x) ?? x;
      outs.push(x);
    }
    let z = g.addN(outs);
    if (layerCombination === 'mean') z = g.mul(z, 1 / (layers + 1));
    const [users, items] = g.split(z, [dims.numUsers, dims.numItems], 0);
    return { users, items };
  }
}

/** Creates a SimGCL model; settings are validated (unknown keys are errors). */
export function createSimGcl(settings: SimGclSettingsInput = {}): SimGclModel {
  return new SimGclModel(parseModelSettings('simgcl', simGclSettingsSchema, settings));
}

/** Registry entry of the SimGCL plugin. */
export const simGclDefinition: RecommenderModelDefinition<SimGclModel, SimGclSettings, SimGclSettingsInput> =
  {
    kind: 'model',
    specificationVersion: 'v1',
    id: 'simgcl',
    packageName: '@promax/model-simgcl',
    description: 'SimGCL: LightGCN + InfoNCE between two noise-perturbed views (Yu et al., 2022)',
    settingsSchema: simGclSettingsSchema,
    defaults: simGclSettingsSchema.parse({}),
    presets: simGclPresets,
    create: createSimGcl,
  };
