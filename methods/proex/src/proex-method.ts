import {
  type EncodeResult,
  type Matrix,
  type MethodPrepareOptions,
  missingInputError,
  type PreparedMethodV1,
  PromaxError,
  type RecommenderMethodV1,
  Rng,
} from '@promax/core';
import {
  checkProfileMatrix,
  gatherRows,
  profileMlp,
  profileMlpParameters,
  rlmrecHidden,
  sampleDirichlet,
  uniformityLoss,
  uniqueWithPositions,
} from '@promax/loss';
import type { Adjacency, GraphBuilder, SymbolicTensor } from '@promax/tensor';
import type { ProexSettings } from './settings.js';

type Prepared = PreparedMethodV1<GraphBuilder, SymbolicTensor, Adjacency>;

const ID = 'proex';
const MLP = `${ID}.mlp`;
const USER_ROWS = `${ID}.userRows`;
const ITEM_ROWS = `${ID}.itemRows`;
const USER_AT = `${ID}.userAt`;
const POS_AT = `${ID}.posAt`;
const NEG_AT = `${ID}.negAt`;
const UNIQUE_POS_AT = `${ID}.uniquePosAt`;
const BETA = `${ID}.beta`;

/** The Dirichlet stream of a run: its own seed, so adding ProEx never moves the model's draws. */
function dirichletSeed(seed: number): number {
  return (Math.imul(seed ^ 0x70726f65, 0x9e3779b1) ^ 0x5f3759df) >>> 0;
}

/**
 * ProEx (baselines.md §3.2): K profiles per entity (the original + the extra ones) go through one
 * shared MLP f. Each step draws E Dirichlet(α) mixtures β_e; environment e scores with
 * z + Σ_k β_ek f(S^k), and the loss is Σ_e BPR_e + invWeight·Var(BPR_1..E) + exWeight·Σ_k
 * [uni(f(S_u^k)[U]) + uni(f(S_i^k)[V])] + reg. Every read of f is a row of the batch's users or
 * positive ∪ negative items, so f runs on those rows only (exact, ≈ 41% of the rows on
 * Amazon-book). Scoring adds the mean projection (1/K)Σ_k f(S^k), computed once per evaluation.
 */
export class ProexMethod
  implements RecommenderMethodV1<GraphBuilder, SymbolicTensor, Adjacency, ProexSettings>
{
  readonly specificationVersion = 'v1';
  readonly methodId = ID;

  constructor(readonly settings: ProexSettings) {}

  async doPrepare(options: MethodPrepareOptions): Promise<Prepared> {
    const { dataset, inputs, model } = options;
    const s = this.settings;
    if (!inputs.userProfiles || !inputs.itemProfiles)
      throw missingInputError(ID, 'profileEmbeddings', inputs);
    const extra = inputs.extraProfiles;
    if (!extra || extra.users.length === 0 || extra.items.length === 0)
      throw missingInputError(ID, 'extraProfileEmbeddings', inputs);
    if (extra.users.length !== extra.items.length) {
      throw new PromaxError({
        code: 'MISSING_INPUT',
        field: 'extraProfileEmbeddings',
        file: inputs.sources?.extraProfileEmbeddings,
        message: `proex: ${extra.users.length} extra user profile files but ${extra.items.length} extra item profile files`,
        fix: 'provide usr_emb_np_k and itm_emb_np_k for the same k = 1..3',
      });
    }
    const users: Matrix[] = [inputs.userProfiles, ...extra.users];
    const items: Matrix[] = [inputs.itemProfiles, ...extra.items];
    const D = users[0].cols;
    for (const [side, list, rows] of [
      ['user', users, dataset.numUsers],
      ['item', items, dataset.numItems],
    ] as const) {
      list.forEach((m, k) => {
        checkProfileMatrix({
          method: ID,
          what: k === 0 ? `${side} profile embeddings` : `extra ${side} profile embeddings ${k}`,
          matrix: m,
          rows,
          width: D,
          file: k === 0 ? inputs.sources?.profileEmbeddings : inputs.sources?.extraProfileEmbeddings,
        });
      });
    }
    const K = users.length;
    const E = s.numEnvs;
    const out = model.outputSize ?? model.embeddingSize;
    const hidden = s.hidden ?? rlmrecHidden(D, out);
    const used = {
      profileEmbeddings: inputs.sources?.profileEmbeddings ?? 'given',
      extraProfileEmbeddings: inputs.sources?.extraProfileEmbeddings ?? 'given',
    };
    const details = { profiles: K, environments: E, mlp: [D, hidden, out] };
    const notes = K === 4 ? [] : [`${K} profiles per entity (the released runs use 4)`];
    if (s.scale === 0 && s.invWeight === 0 && s.exWeight === 0) {
      return {
        report: {
          used,
          active: [],
          notes: [...notes, 'every weight is 0: the base model trains and scores alone'],
          details,
        },
        release: async () => {},
      };
    }
    const rng = new Rng(dirichletSeed(options.seed));
    const beta = new Float32Array(E * K);
    let drawn = false;
    const userMark = new Int32Array(dataset.numUsers).fill(-1);
    const itemMark = new Int32Array(dataset.numItems).fill(-1);
    let userBuffer: Float32Array = new Float32Array(0);
    let itemBuffer: Float32Array = new Float32Array(0);
    const grow = (buf: Float32Array, need: number) =>
      buf.length >= need ? buf : new Float32Array(Math.max(need, Math.ceil(buf.length * 1.25)));
    const mean = (g: GraphBuilder, projected: SymbolicTensor[]) => g.mul(g.addN(projected), s.scale / K);
    return {
      report: { used, active: ['env', 'inv', 'ex'], notes, details },
      parameters: profileMlpParameters(MLP, { input: D, hidden, output: out }),
      replacesBpr: true,
      doLoss: (ctx) => {
        const { g, batch } = ctx;
        const enc = ctx.encode('original');
        const p = ctx.methodParams;
        // [K, Ru, D] → [K·Ru, D] → f → [K, Ru, d]: one GEMM for all K profiles of the batch's users (items alike).
        const project = (name: string, rows: string) =>
          g.reshape(profileMlp(g, g.reshape(ctx.addInput(name, [K, rows, D]), [-1, D]), p, MLP), [
            K,
            rows,
            out,
          ]);
        const pu = project(USER_ROWS, 'Ru');
        const pi = project(ITEM_ROWS, 'Ri');
        const b = g.mul(ctx.addInput(BETA, [E, K]), s.scale);
        // m^e = Σ_k β_ek P^k for every environment at once: [E, K]·[K, R·d] → [E, R, d].
        const mix = (pk: SymbolicTensor, rows: string) =>
          g.reshape(g.matmul(b, g.reshape(pk, [K, -1])), [E, rows, out]);
        const mu = g.gather(mix(pu, 'Ru'), ctx.addInput(USER_AT, ['B'], 'int64'), 1);
        const mi = mix(pi, 'Ri');
        const mp = g.gather(mi, ctx.addInput(POS_AT, ['B'], 'int64'), 1);
        const mn = g.gather(mi, ctx.addInput(NEG_AT, ['B'], 'int64'), 1);
        const u = g.add(g.gather(enc.users, batch.users), mu);
        const i = g.add(g.gather(enc.items, batch.pos), mp);
        const j = g.add(g.gather(enc.items, batch.neg), mn);
        // BPR_e = mean_b softplus(u·j − u·i) per environment: [E].
        const bprs = g.reduceMean(g.softplus(g.sub(g.rowDot(u, j), g.rowDot(u, i))), [1]);
        const env = g.reduceSum(bprs);
        const centred = g.sub(bprs, g.reduceMean(bprs, [0], true));
        const variance = g.div(g.reduceSum(g.mul(centred, centred)), E - 1);
        const uniquePosAt = ctx.addInput(UNIQUE_POS_AT, ['Bi'], 'int64');
        const userParts = g.split(pu, new Array(K).fill(1), 0);
        const itemParts = g.split(pi, new Array(K).fill(1), 0);
        const ex: SymbolicTensor[] = [];
        for (let k = 0; k < K; k++) {
          ex.push(uniformityLoss(g, g.squeeze(userParts[k], [0]), s.uniformityTemperature));
          ex.push(
            uniformityLoss(g, g.gather(g.squeeze(itemParts[k], [0]), uniquePosAt), s.uniformityTemperature),
          );
        }
        return {
          env,
          inv: g.mul(variance, s.invWeight),
          ex: g.mul(g.addN(ex), s.exWeight),
        };
      },
      feedsForBatch: (batch) => {
        if (!drawn || batch.redraw !== false) {
          for (let e = 0; e < E; e++) sampleDirichlet(rng, s.alpha, beta.subarray(e * K, (e + 1) * K));
          drawn = true;
        }
        const us = uniqueWithPositions([batch.users], userMark);
        const is = uniqueWithPositions([batch.pos, batch.neg, batch.uniquePos], itemMark);
        const ru = us.unique.length;
        const ri = is.unique.length;
        userBuffer = grow(userBuffer, K * ru * D);
        itemBuffer = grow(itemBuffer, K * ri * D);
        for (let k = 0; k < K; k++) {
          gatherRows(users[k], us.unique, userBuffer, k * ru * D);
          gatherRows(items[k], is.unique, itemBuffer, k * ri * D);
        }
        return {
          [USER_ROWS]: { data: userBuffer.subarray(0, K * ru * D), dims: [K, ru, D] },
          [ITEM_ROWS]: { data: itemBuffer.subarray(0, K * ri * D), dims: [K, ri, D] },
          [USER_AT]: us.positions[0],
          [POS_AT]: is.positions[0],
          [NEG_AT]: is.positions[1],
          [UNIQUE_POS_AT]: is.positions[2],
          [BETA]: { data: beta, dims: [E, K] },
        };
      },
      doScore: (ctx): EncodeResult<SymbolicTensor> => {
        const { g } = ctx;
        const p = ctx.methodParams;
        const side = (ms: Matrix[], name: string) =>
          mean(
            g,
            ms.map((m, k) => profileMlp(g, ctx.addInput(`${ID}.${name}${k}`, [m.rows, D]), p, MLP)),
          );
        return {
          users: g.add(ctx.encoded.users, side(users, 'users')),
          items: g.add(ctx.encoded.items, side(items, 'items')),
        };
      },
      inferenceFeeds: () =>
        Object.fromEntries([
          ...users.map((m, k) => [`${ID}.users${k}`, { data: m.data, dims: [m.rows, D] }] as const),
          ...items.map((m, k) => [`${ID}.items${k}`, { data: m.data, dims: [m.rows, D] }] as const),
        ]),
      release: async () => {
        userBuffer = new Float32Array(0);
        itemBuffer = new Float32Array(0);
      },
    };
  }
}
