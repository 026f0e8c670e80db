import type {
  EncodeResult,
  Matrix,
  MethodPrepareOptions,
  PreparedMethodV1,
  RecommenderMethodV1,
} from '@promax/core';
import { gatherRows, requireProfilePair, uniqueWithPositions } from '@promax/loss';
import type { Adjacency, GraphBuilder, SymbolicTensor } from '@promax/tensor';
import { type HeaShape, heaParameters, hybridExperts } from './hybrid-experts.js';
import type { KarSettings } from './settings.js';

type Prepared = PreparedMethodV1<GraphBuilder, SymbolicTensor, Adjacency>;

const ID = 'kar';
const USER_ROWS = `${ID}.userRows`;
const ITEM_ROWS = `${ID}.itemRows`;
const USER_AT = `${ID}.userAt`;
const POS_AT = `${ID}.posAt`;
const NEG_AT = `${ID}.negAt`;
const ALL_USERS = `${ID}.userProfiles`;
const ALL_ITEMS = `${ID}.itemProfiles`;

/**
 * KAR adapted to top-K recommendation (baselines.md §4.2, OUR adaptation: the released KAR is for
 * CTR and re-ranking only): the hybrid-expert adaptor maps each profile embedding to an augmented
 * vector a, fused with the model's final vector (z + a, or [z; a]); the loss is the model's BPR
 * over the fused vectors (+ reg), in training and at inference. The adaptor runs only on the
 * batch's distinct users and positive ∪ negative items while training (exact: BPR reads no other
 * row), and once over all rows per evaluation.
 */
export class KarMethod implements RecommenderMethodV1<GraphBuilder, SymbolicTensor, Adjacency, KarSettings> {
  readonly specificationVersion = 'v1';
  readonly methodId = ID;

  constructor(readonly settings: KarSettings) {}

  async doPrepare(options: MethodPrepareOptions): Promise<Prepared> {
    const { dataset, inputs, model } = options;
    const s = this.settings;
    const { users, items, file } = requireProfilePair(ID, inputs, dataset);
    const D = users.cols;
    const shape: HeaShape = {
      input: D,
      shared: s.sharedExperts,
      specific: s.specificExperts,
      hidden: s.expertHidden,
      output: model.outputSize ?? model.embeddingSize,
    };
    const used = { profileEmbeddings: file ?? 'given' };
    const details = {
      adaptation: true,
      experts: { shared: shape.shared, specific: shape.specific },
      arch: [D, shape.hidden, shape.output],
      fusion: s.fusion,
    };
    if (s.weight === 0) {
      return {
        report: { used, active: [], notes: ['weight is 0: the base model trains and scores alone'], details },
        release: async () => {},
      };
    }
    const fuse = (g: GraphBuilder, z: SymbolicTensor, a: SymbolicTensor): SymbolicTensor => {
      const scaled = s.weight === 1 ? a : g.mul(a, s.weight);
      return s.fusion === 'add' ? g.add(z, scaled) : g.concat([z, scaled], 1);
    };
    const userMark = new Int32Array(dataset.numUsers).fill(-1);
    const itemMark = new Int32Array(dataset.numItems).fill(-1);
    let userBuffer: Float32Array = new Float32Array(0);
    let itemBuffer: Float32Array = new Float32Array(0);
    const grow = (buf: Float32Array, need: number) =>
      buf.length >= need ? buf : new Float32Array(Math.max(need, Math.ceil(buf.length * 1.25)));
    return {
      report: {
        used,
        active: ['kar'],
        notes: [
          "KAR (adapted): the project's top-K adaptation of KAR's hybrid-expert adaptor (baselines.md §4.2)",
        ],
        details,
      },
      parameters: heaParameters(ID, shape),
      replacesBpr: true,
      doLoss: (ctx) => {
        const { g, batch } = ctx;
        const enc = ctx.encode('original');
        const p = ctx.methodParams;
        const au = hybridExperts(g, ctx.addInput(USER_ROWS, ['Ru', D]), p, ID, 'user', shape);
        const ai = hybridExperts(g, ctx.addInput(ITEM_ROWS, ['Ri', D]), p, ID, 'item', shape);
        const u = fuse(
          g,
          g.gather(enc.users, batch.users),
          g.gather(au, ctx.addInput(USER_AT, ['B'], 'int64')),
        );
        const i = fuse(g, g.gather(enc.items, batch.pos), g.gather(ai, ctx.addInput(POS_AT, ['B'], 'int64')));
        const j = fuse(g, g.gather(enc.items, batch.neg), g.gather(ai, ctx.addInput(NEG_AT, ['B'], 'int64')));
        return { kar: g.bprLoss(g.rowDot(u, i), g.rowDot(u, j)) };
      },
      feedsForBatch: (batch) => {
        const us = uniqueWithPositions([batch.users], userMark);
        const is = uniqueWithPositions([batch.pos, batch.neg], itemMark);
        userBuffer = grow(userBuffer, us.unique.length * D);
        itemBuffer = grow(itemBuffer, is.unique.length * D);
        return {
          [USER_ROWS]: { data: gatherRows(users, us.unique, userBuffer), dims: [us.unique.length, D] },
          [ITEM_ROWS]: {
            data: gatherRows(items as Matrix, is.unique, itemBuffer),
            dims: [is.unique.length, D],
          },
          [USER_AT]: us.positions[0],
          [POS_AT]: is.positions[0],
          [NEG_AT]: is.positions[1],
        };
      },
      doScore: (ctx): EncodeResult<SymbolicTensor> => {
        const { g } = ctx;
        const p = ctx.methodParams;
        const au = hybridExperts(g, ctx.addInput(ALL_USERS, [users.rows, D]), p, ID, 'user', shape);
        const ai = hybridExperts(g, ctx.addInput(ALL_ITEMS, [items.rows, D]), p, ID, 'item', shape);
        return { users: fuse(g, ctx.encoded.users, au), items: fuse(g, ctx.encoded.items, ai) };
      },
      inferenceFeeds: () => ({
        [ALL_USERS]: { data: users.data, dims: [users.rows, D] },
        [ALL_ITEMS]: { data: items.data, dims: [items.rows, D] },
      }),
      release: async () => {
        userBuffer = new Float32Array(0);
        itemBuffer = new Float32Array(0);
      },
    };
  }
}
