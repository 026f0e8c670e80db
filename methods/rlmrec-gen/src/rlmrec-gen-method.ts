import {
  type Matrix,
  type MethodPrepareOptions,
  type PreparedMethodV1,
  PromaxError,
  type RecommenderMethodV1,
  Rng,
} from '@promax/core';
import {
  gatherRows,
  profileMlp,
  profileMlpParameters,
  requireProfilePair,
  rlmrecHidden,
  sslConLoss,
} from '@promax/loss';
import type { Adjacency, GraphBuilder, SymbolicTensor } from '@promax/tensor';
import { effectiveGenSettings, type RlmrecGenSettings } from './settings.js';

type Prepared = PreparedMethodV1<GraphBuilder, SymbolicTensor, Adjacency>;

const ID = 'rlmrec-gen';
const DECODER = `${ID}.decoder`;
const TOKEN = `${ID}.mask_token`;
const KEEP_USERS = `${ID}.keepUsers`;
const KEEP_ITEMS = `${ID}.keepItems`;
const MASKED = `${ID}.masked`;
const TARGETS = `${ID}.targets`;

function maskSeed(seed: number): number {
  return (Math.imul(seed ^ 0x6d61736b, 0x85ebca6b) ^ 0x27d4eb2f) >>> 0;
}

/**
 * RLMRec-Gen (baselines.md §2.2): each step masks M = max(⌊N·maskRatio⌋, 1) nodes drawn from all
 * users and items together, replacing their ID rows with one learnable token (init 0); BPR runs on
 * the masked forward Z′, and a decoder g (d → H → D) reconstructs the raw profiles of the masked
 * nodes: reconWeight · ssl_con(g(Z′[M]), S_all[M]; τ). Scoring is the model's own, unmasked.
 */
export class RlmrecGenMethod
  implements RecommenderMethodV1<GraphBuilder, SymbolicTensor, Adjacency, RlmrecGenSettings>
{
  readonly specificationVersion = 'v1';
  readonly methodId = ID;

  constructor(readonly settings: RlmrecGenSettings) {}

  async doPrepare(options: MethodPrepareOptions): Promise<Prepared> {
    const { dataset, inputs, model } = options;
    const { users, items, file } = requireProfilePair(ID, inputs, dataset);
    const s = effectiveGenSettings(this.settings, model.modelId);
    const { numUsers: NU, numItems: NI } = dataset;
    const N = NU + NI;
    const M = Math.max(Math.floor(N * s.maskRatio), 1);
    const D = users.cols;
    const d = model.embeddingSize;
    const out = model.outputSize ?? d;
    const hidden = s.hidden ?? rlmrecHidden(D, out);
    const used = { profileEmbeddings: file ?? 'given' };
    const details = { effective: s, masked: M, decoder: [out, hidden, D], model: model.modelId };
    if (s.reconWeight === 0) {
      return {
        report: {
          used,
          active: [],
          notes: ['reconWeight is 0: the base model trains alone (no masking)'],
          details,
        },
        release: async () => {},
      };
    }
    const rng = new Rng(maskSeed(options.seed));
    const keepUsers = new Float32Array(NU);
    const keepItems = new Float32Array(NI);
    const perm = Int32Array.from({ length: N }, (_, k) => k);
    const masked = new BigInt64Array(M);
    const targets = new Float32Array(M * D);
    let drawn = false;
    const draw = () => {
      keepUsers.fill(1);
      keepItems.fill(1);
      // The first M entries of a partial Fisher–Yates shuffle: M distinct nodes, uniformly.
      for (let k = 0; k < M; k++) {
        const j = k + rng.nextInt(N - k);
        const t = perm[k];
        perm[k] = perm[j];
        perm[j] = t;
        const node = perm[k];
        masked[k] = BigInt(node);
        if (node < NU) {
          keepUsers[node] = 0;
          gatherRows(users, [node], targets, k * D);
        } else {
          keepItems[node - NU] = 0;
          gatherRows(items as Matrix, [node - NU], targets, k * D);
        }
      }
    };
    return {
      report: { used, active: ['recon'], notes: [], details },
      parameters: [
        { name: TOKEN, shape: [1, d], role: 'weight', init: (o) => o.fill(0) },
        ...profileMlpParameters(DECODER, { input: out, hidden, output: D }),
      ],
      replacesBpr: true,
      doLoss: (ctx) => {
        const { g, batch } = ctx;
        const spec = (role: 'user-embedding' | 'item-embedding') => {
          const found = ctx.parameterSpecs.find((p) => p.role === role && p.shape[1] === d);
          if (!found) {
            throw new PromaxError({
              code: 'UNSUPPORTED_COMBINATION',
              field: 'model',
              message: `rlmrec-gen masks ID embedding rows, but model ${model.modelId} has no ${role} table of width ${d}`,
              fix: 'use rlmrec-gen with lightgcn, gccf, sgl or simgcl',
            });
          }
          return found.name;
        };
        const userTable = spec('user-embedding');
        const itemTable = spec('item-embedding');
        const token = ctx.methodParams[TOKEN];
        const maskRows = (table: SymbolicTensor, keep: SymbolicTensor) =>
          g.add(g.mul(table, keep), g.mul(g.sub(1, keep), token));
        const z = ctx.encodeWith({
          [userTable]: maskRows(ctx.params[userTable], ctx.addInput(KEEP_USERS, [NU, 1])),
          [itemTable]: maskRows(ctx.params[itemTable], ctx.addInput(KEEP_ITEMS, [NI, 1])),
        });
        const u = g.gather(z.users, batch.users);
        const bpr = g.bprLoss(
          g.rowDot(u, g.gather(z.items, batch.pos)),
          g.rowDot(u, g.gather(z.items, batch.neg)),
        );
        const rows = g.gather(g.concat([z.users, z.items], 0), ctx.addInput(MASKED, [M], 'int64'));
        const recon = sslConLoss(
          g,
          profileMlp(g, rows, ctx.methodParams, DECODER),
          ctx.addInput(TARGETS, [M, D]),
          s.reconTemperature,
        );
        return { masked_bpr: bpr, recon: g.mul(recon, s.reconWeight) };
      },
      feedsForBatch: (batch) => {
        if (!drawn || batch.redraw !== false) {
          draw();
          drawn = true;
        }
        return {
          [KEEP_USERS]: { data: keepUsers, dims: [NU, 1] },
          [KEEP_ITEMS]: { data: keepItems, dims: [NI, 1] },
          [MASKED]: masked,
          [TARGETS]: { data: targets, dims: [M, D] },
        };
      },
      release: async () => {},
    };
  }
}
