import type {
  Matrix,
  MethodFeed,
  MethodPrepareOptions,
  PreparedMethodV1,
  RecommenderMethodV1,
} from '@promax/core';
import {
  distinctCounts,
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
const USER_IDS = `${ID}.userIds`;
const USER_COUNTS = `${ID}.userCounts`;
/** Per item side (positives, negatives): its distinct ids, their rows of ITEM_ROWS, counts, log counts. */
const SIDES = ['pos', 'neg'] as const;
const sideInput = (side: (typeof SIDES)[number], what: 'Ids' | 'At' | 'Counts' | 'LogCounts') =>
  `${ID}.${side}${what}`;

/**
 * RLMRec-Con (baselines.md §2.1): one shared MLP f projects the profiles to the model's width and
 * the KD term (kdWeight / B) · [InfoNCE_R(Z_u[u], P_u[u], P_u) + InfoNCE_R(Z_i[p], P_i[p], P_i[p])
 * + InfoNCE_R(Z_i[n], P_i[n], P_i[n])] is added to BPR + reg. Users contrast against every user's
 * projection, so f runs on all user rows; items contrast within the batch, so f runs only on the
 * batch's distinct positive ∪ negative items (identical values and gradients, ≈ half the item work).
 * The user profiles are a constant of the training graph, the batch's item rows a feed; no gradient
 * flows into either. Each InfoNCE runs on the batch's distinct rows, weighted by their counts (the
 * same sums). Scoring is the model's own.
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
        const { g } = ctx;
        const enc = ctx.encode('original');
        const p = ctx.methodParams;
        // Every user's profile at every step: a constant of the graph, so the engine packs it for
        // its two GEMMs (forward, W₁'s gradient) once per run instead of once per step.
        const pu = profileMlp(g, g.constant(users.data, { shape: [users.rows, D] }), p, MLP);
        const pi = profileMlp(g, ctx.addInput(ITEM_ROWS, ['R', D]), p, MLP);
        const tau = s.kdTemperature;
        // Repeated rows of the batch are folded: each distinct user / item appears once, its term
        // weighted by how many batch rows it stands for (and an in-batch denominator column by how
        // many it repeats) — the released sums exactly, on ≈ 25–45% fewer logits.
        const userIds = ctx.addInput(USER_IDS, ['Ru'], 'int64');
        const terms = [
          rlmrecInfoNce(g, g.gather(enc.users, userIds), g.gather(pu, userIds), pu, tau, {
            rows: ctx.addInput(USER_COUNTS, ['Ru']),
          }),
        ];
        for (const side of SIDES) {
          const n = `R${side}`;
          const rows = g.gather(pi, ctx.addInput(sideInput(side, 'At'), [n], 'int64'));
          const z = g.gather(enc.items, ctx.addInput(sideInput(side, 'Ids'), [n], 'int64'));
          terms.push(
            rlmrecInfoNce(g, z, rows, rows, tau, {
              rows: ctx.addInput(sideInput(side, 'Counts'), [n]),
              logColumns: ctx.addInput(sideInput(side, 'LogCounts'), [n]),
            }),
          );
        }
        const kd = g.addN(terms);
        // kd_weight / B with B the actual batch length (the last batch is shorter).
        return { kd: g.div(g.mul(kd, s.kdWeight), g.dimValue('B')) };
      },
      feedsForBatch: (batch) => {
        const { unique, positions } = uniqueWithPositions([batch.pos, batch.neg], itemMark);
        const need = unique.length * D;
        if (itemBuffer.length < need)
          itemBuffer = new Float32Array(Math.max(need, Math.ceil(itemBuffer.length * 1.25)));
        const u = distinctCounts(batch.users, dataset.numUsers);
        const feeds: Record<string, MethodFeed> = {
          [ITEM_ROWS]: { data: gatherRows(items as Matrix, unique, itemBuffer), dims: [unique.length, D] },
          [USER_IDS]: BigInt64Array.from(u.values, BigInt),
          [USER_COUNTS]: u.counts,
        };
        SIDES.forEach((side, k) => {
          const at = distinctCounts(positions[k], unique.length);
          feeds[sideInput(side, 'At')] = BigInt64Array.from(at.values, BigInt);
          feeds[sideInput(side, 'Ids')] = BigInt64Array.from(at.values, (r) => BigInt(unique[r]));
          feeds[sideInput(side, 'Counts')] = at.counts;
          feeds[sideInput(side, 'LogCounts')] = at.logCounts;
        });
        return feeds;
      },
      release: async () => {
        itemBuffer = new Float32Array(0);
      },
    };
  }
}
