import type { Matrix, MethodPrepareOptions, PreparedMethodV1, RecommenderMethodV1 } from '@promax/core';
import {
  gatherRows,
  profileMlp,
  profileMlpParameters,
  requireProfilePair,
  rlmrecHidden,
  rlmrecInfoNce,
  uniqueWithPositions,
} from '@promax/loss';
import type { Adjacency, GraphBuilder, SymbolicTensor } from '@promax/tensor';
import { effectiveConSettings, type RlmrecConSettings } from './settings.js';

type Prepared = PreparedMethodV1<GraphBuilder, SymbolicTensor, Adjacency>;

const ID = 'rlmrec-con';
const MLP = `${ID}.mlp`;
const ITEM_ROWS = `${ID}.itemRows`;
const POS_AT = `${ID}.posAt`;
const NEG_AT = `${ID}.negAt`;

/**
 * RLMRec-Con (baselines.md §2.1): one shared MLP f projects the profiles to the model's width and
 * the KD term (kdWeight / B) · [InfoNCE_R(Z_u[u], P_u[u], P_u) + InfoNCE_R(Z_i[p], P_i[p], P_i[p])
 * + InfoNCE_R(Z_i[n], P_i[n], P_i[n])] is added to BPR + reg. Users contrast against every user's
 * projection, so f runs on all user rows; items contrast within the batch, so f runs only on the
 * batch's distinct positive ∪ negative items (identical values and gradients, ≈ half the item work).
 * The user profiles are a constant of the training graph, the batch's item rows a feed; no gradient
 * flows into either. Scoring is the model's own.
 */
export class RlmrecConMethod
  implements RecommenderMethodV1<GraphBuilder, SymbolicTensor, Adjacency, RlmrecConSettings>
{
  readonly specificationVersion = 'v1';
  readonly methodId = ID;

  constructor(readonly settings: RlmrecConSettings) {}

  async doPrepare(options: MethodPrepareOptions): Promise<Prepared> {
    const { dataset, inputs, model } = options;
    const { users, items, file } = requireProfilePair(ID, inputs, dataset);
    const s = effectiveConSettings(this.settings, model.modelId);
    const out = model.outputSize ?? model.embeddingSize;
    const D = users.cols;
    const hidden = s.hidden ?? rlmrecHidden(D, out);
    const used = { profileEmbeddings: file ?? 'given' };
    const details = { effective: s, mlp: [D, hidden, out], model: model.modelId };
    if (s.kdWeight === 0) {
      return {
        report: { used, active: [], notes: ['kdWeight is 0: the base model trains alone'], details },
        release: async () => {},
      };
    }
    const notes: string[] = [];
    if (model.modelId === 'sgl' || model.modelId === 'simgcl') {
      notes.push(
        `${model.modelId}: KD and BPR use the un-augmented encoding, as released (the augmented views live only in the model's own contrastive term)`,
      );
    }
    const itemMark = new Int32Array(dataset.numItems).fill(-1);
    let itemBuffer = new Float32Array(0);
    return {
      report: { used, active: ['kd'], notes, details },
      parameters: profileMlpParameters(MLP, { input: D, hidden, output: out }),
      doLoss: (ctx) => {
        const { g, batch } = ctx;
        const enc = ctx.encode('original');
        const p = ctx.methodParams;
        // Every user's profile at every step: a constant of the graph, so the engine packs it for
        // its two GEMMs (forward, W₁'s gradient) once per run instead of once per step.
        const pu = profileMlp(g, g.constant(users.data, { shape: [users.rows, D] }), p, MLP);
        const pi = profileMlp(g, ctx.addInput(ITEM_ROWS, ['R', D]), p, MLP);
        const posAt = ctx.addInput(POS_AT, ['B'], 'int64');
        const negAt = ctx.addInput(NEG_AT, ['B'], 'int64');
        const tau = s.kdTemperature;
        const piPos = g.gather(pi, posAt);
        const piNeg = g.gather(pi, negAt);
        const kd = g.addN([
          rlmrecInfoNce(g, g.gather(enc.users, batch.users), g.gather(pu, batch.users), pu, tau),
          rlmrecInfoNce(g, g.gather(enc.items, batch.pos), piPos, piPos, tau),
          rlmrecInfoNce(g, g.gather(enc.items, batch.neg), piNeg, piNeg, tau),
        ]);
        // kd_weight / B with B the actual batch length (the last batch is shorter).
        return { kd: g.div(g.mul(kd, s.kdWeight), g.dimValue('B')) };
      },
      feedsForBatch: (batch) => {
        const { unique, positions } = uniqueWithPositions([batch.pos, batch.neg], itemMark);
        const need = unique.length * D;
        if (itemBuffer.length < need)
          itemBuffer = new Float32Array(Math.max(need, Math.ceil(itemBuffer.length * 1.25)));
        return {
          [ITEM_ROWS]: { data: gatherRows(items as Matrix, unique, itemBuffer), dims: [unique.length, D] },
          [POS_AT]: positions[0],
          [NEG_AT]: positions[1],
        };
      },
      release: async () => {
        itemBuffer = new Float32Array(0);
      },
    };
  }
}
