import {
  type Matrix,
  type MethodBatch,
  type MethodFeed,
  type MethodModelInfo,
  type MethodPrepareOptions,
  type MethodRunReport,
  type PreparedMethodV1,
  PromaxError,
  type RecommenderMethodV1,
  Rng,
} from '@promax/core';
import {
  buildSdrTeacher,
  buildSparseSdrTeacher,
  type PreprocessInfo,
  preprocessProfiles,
  type SdrTeacher,
  type SparseSdrTeacher,
  s2drLoss,
  sdrLoss,
  sparseSdrBatch,
  sparseSdrLoss,
} from '@promax/loss';
import type { Adjacency, GraphBuilder, SymbolicTensor } from '@promax/tensor';
import type { PromaxSettings } from './settings.js';

type Prepared = PreparedMethodV1<GraphBuilder, SymbolicTensor, Adjacency>;

const TEACHER = 'promax.sdr.teacher';
const WEIGHTS = 'promax.sdr.weights';
const CANDIDATES = 'promax.sdr.candidates';
const TARGETS = 'promax.sdr.targets';
const OFFSETS = 'promax.sdr.offsets';
const FLAT = 'promax.sdr.flat';
const RAMPS = { sdr: 'promax.sdr.ramp', s2dr: 'promax.s2dr.ramp' } as const;

/**
 * ProMax (method.md §4): SDR (the profile retrieval distribution teaches the model's) and S2DR
 * (the model over A and over A′ must agree), added to any base model's BPR loss.
 *
 * Second view (S2DR): graph models encode over A′ with the same parameters; a model without a
 * graph supplies its own `doEncodeView` (MF: one parameter-free propagation over Â′). Models with
 * their own contrastive loss (SimGCL, SGL) keep it: S2DR is added beside it, each with its weight.
 */
export class PromaxMethod
  implements RecommenderMethodV1<GraphBuilder, SymbolicTensor, Adjacency, PromaxSettings>
{
  readonly specificationVersion = 'v1';
  readonly methodId = 'promax';

  constructor(readonly settings: PromaxSettings) {}

  async doPrepare(options: MethodPrepareOptions): Promise<Prepared> {
    const { settings } = this;
    const { dataset, inputs, model } = options;
    const notes: string[] = [];
    const used: Record<string, string> = {};
    // A term with weight 0 stays in the graph (a constant 0: same trajectory as the base model).
    let sdr = settings.sdr.enabled;
    let s2dr = settings.s2dr.enabled;
    if (!sdr) notes.push('SDR disabled by settings');
    if (!s2dr) notes.push('S2DR disabled by settings');
    if (sdr && !(inputs.userProfiles && inputs.itemProfiles)) {
      sdr = false;
      notes.push(
        `SDR skipped: no profile embeddings for this dataset${inputs.lookedFor?.profileEmbeddings ? ` (looked for ${inputs.lookedFor.profileEmbeddings})` : ''}`,
      );
    }
    if (s2dr && !inputs.aug) {
      s2dr = false;
      notes.push(
        `S2DR skipped: no augmented graph A′ for this dataset${inputs.lookedFor?.augmentedGraph ? ` (looked for ${inputs.lookedFor.augmentedGraph})` : ''}`,
      );
    } else if (s2dr && inputs.aug && inputs.aug.indptr[inputs.aug.rows] === 0) {
      s2dr = false;
      notes.push('S2DR skipped: the augmented graph A′ has no edges');
    }
    if (s2dr && !model.encodesViews) throw unsupported(model);
    const active = [...(sdr ? ['sdr'] : []), ...(s2dr ? ['s2dr'] : [])];
    if (sdr) used.profileEmbeddings = inputs.sources?.profileEmbeddings ?? 'given';
    if (s2dr) used.augmentedGraph = inputs.sources?.augmentedGraph ?? 'given';

    let teacher: SdrTeacher | undefined;
    let sparse: SparseSdrTeacher | undefined;
    let preprocessInfo: PreprocessInfo | undefined;
    if (sdr) {
      const userProfiles = inputs.userProfiles as Matrix;
      const itemProfiles = inputs.itemProfiles as Matrix;
      for (const [side, m, n] of [
        ['user', userProfiles, dataset.numUsers],
        ['item', itemProfiles, dataset.numItems],
      ] as const) {
        if (m.rows !== n) {
          throw new PromaxError({
            code: 'SHAPE_MISMATCH',
            field: `${side}Profiles`,
            file: inputs.sources?.profileEmbeddings,
            message: `${side} profile embeddings have ${m.rows} rows but the dataset has ${n} ${side}s`,
            fix: `provide one profile vector per ${side}, in the dataset's id order`,
          });
        }
      }
      const pre = await preprocessProfiles({
        users: userProfiles,
        items: itemProfiles,
        k: settings.preprocess.dim ?? model.embeddingSize,
        mode: settings.preprocess.mode,
        eps: settings.preprocess.eps,
        engine: options.engine,
        onProgress: options.onProgress,
      });
      preprocessInfo = pre.info;
      if (settings.sdr.teacher === 'sparse') {
        // Each user's top-K items by profile similarity (memory |U|·K), from the run's index
        // (`--index`, e.g. LanceDB) or an exact top-K on onnxruntime:
        // with `topK` set, exactly that truncated teacher; otherwise the full row's top K plus its tail.
        sparse = await buildSparseSdrTeacher({
          userProfiles: pre.users,
          itemProfiles: pre.items,
          k: settings.sdr.topK ?? settings.sdr.sparseK,
          renormalize: settings.sdr.topK !== null,
          seed: options.seed,
          retriever: options.neighbours,
          tauP: settings.sdr.tauP,
          mask: settings.sdr.maskTrain ? dataset.train : undefined,
          weightClip: settings.sdr.weightClip,
          engine: options.engine,
          onProgress: options.onProgress,
        });
      } else {
        teacher = await buildSdrTeacher({
          userProfiles: pre.users,
          itemProfiles: pre.items,
          tauP: settings.sdr.tauP,
          mask: settings.sdr.maskTrain ? dataset.train : undefined,
          topK: settings.sdr.topK ?? undefined,
          weightClip: settings.sdr.weightClip,
          memoryBudgetBytes: settings.sdr.memoryBudgetBytes,
          engine: options.engine,
          onProgress: options.onProgress,
        });
      }
    }
    const report: MethodRunReport = {
      used,
      active,
      notes,
      details: {
        components: { sdr, s2dr, notes },
        ...(preprocessInfo ? { preprocess: preprocessInfo } : {}),
        ...(teacher ? { teacher: teacher.info } : {}),
        ...(sparse ? { sparseTeacher: sparse.info } : {}),
      },
    };
    if (!sdr && !s2dr) return { report, release: async () => {} };

    const numItems = dataset.numItems;
    // Sparse SDR's candidate logits: gathered item vectors (Bu·(K+M)·d values) or one [Bu, N]
    // product (Bu·N), whichever is smaller ('auto'); the values are the same.
    const sparseWidth = sparse ? sparse.info.k + settings.sdr.sparseNegatives : 0;
    const outWidth = options.model.outputSize ?? options.model.embeddingSize;
    const product =
      sparse !== undefined &&
      (settings.sdr.sparseLogits === 'product' ||
        (settings.sdr.sparseLogits === 'auto' && numItems <= sparseWidth * outWidth));
    if (sparse) notes.push(`sparse SDR logits: ${product ? '[Bu, N] product' : 'gathered candidates'}`);
    // Teacher rows are [Bu, N] (≈ 130 MB per Amazon-book batch): one buffer, grown when a batch
    // needs more, is reused for every batch (batches run one after another and feeds are not kept).
    let rowsBuffer = new Float32Array(0);
    // The sparse teacher's sampled negatives come from the run's seed (a stream of their own).
    const negatives = new Rng((options.seed ^ 0x2545f491) >>> 0);
    // Warm-ups: a term's weight times min(1, (epoch − 1)/W), fed as a [1] input per batch (W > 0 only)
    const warmups = { sdr: sdr ? settings.sdr.warmupEpochs : 0, s2dr: s2dr ? settings.s2dr.warmupEpochs : 0 };
    const ramps = { sdr: Float32Array.of(0), s2dr: Float32Array.of(0) };
    const ramped = (['sdr', 's2dr'] as const).filter((t) => warmups[t] > 0);
    for (const t of ramped)
      notes.push(
        `${t === 'sdr' ? 'SDR λ1' : 'S2DR λ2'} ramps from 0 to ${t === 'sdr' ? settings.sdr.lambda1 : settings.s2dr.lambda2} over ${warmups[t]} epochs`,
      );
    const ramp = (
      term: 'sdr' | 's2dr',
      loss: SymbolicTensor,
      ctx: { g: GraphBuilder; addInput(name: string, shape: number[]): SymbolicTensor },
    ) => (warmups[term] > 0 ? ctx.g.mul(loss, ctx.g.reshape(ctx.addInput(RAMPS[term], [1]), [])) : loss);
    type Feeds = Record<string, MethodFeed>;
    const withRamp = (feeds: ((batch: MethodBatch) => Feeds | Promise<Feeds>) | undefined) =>
      ramped.length
        ? async (batch: MethodBatch): Promise<Feeds> => {
            const out: Feeds = feeds ? { ...(await feeds(batch)) } : {};
            for (const t of ramped) out[RAMPS[t]] = ramps[t];
            return out;
          }
        : feeds;
    return {
      report,
      usesAugmentedView: s2dr,
      doLoss: (ctx) => {
        const { g, batch } = ctx;
        const enc = ctx.encode('original');
        const terms: Record<string, SymbolicTensor> = {};
        if (sdr && sparse) {
          const width = sparseWidth;
          const out = sparseSdrLoss(g, {
            ...(product ? { flatIds: ctx.addInput(FLAT, ['Bu', width], 'int64') } : {}),
            zUsers: g.gather(enc.users, batch.uniqueUsers),
            zItems: enc.items,
            candidates: ctx.addInput(CANDIDATES, ['Bu', width]),
            targets: ctx.addInput(TARGETS, ['Bu', width]),
            offsets: ctx.addInput(OFFSETS, ['Bu', width]),
            weights: ctx.addInput(WEIGHTS, ['Bu']),
            tauQ: settings.sdr.tauQ,
            lambda1: settings.sdr.lambda1,
          });
          terms.sdr = ramp('sdr', out.loss, ctx);
        } else if (sdr) {
          const teacherRows = ctx.addInput(TEACHER, ['Bu', numItems]);
          const weights = ctx.addInput(WEIGHTS, ['Bu']);
          const out = sdrLoss(g, {
            zUsers: g.gather(enc.users, batch.uniqueUsers),
            zItems: enc.items,
            teacher: teacherRows,
            weights,
            tauQ: settings.sdr.tauQ,
            lambda1: settings.sdr.lambda1,
            form: settings.sdr.form,
          });
          terms.sdr = ramp('sdr', out.loss, ctx);
        }
        if (s2dr) {
          const aug = ctx.encode('augmented');
          const out = s2drLoss(g, {
            zU: g.gather(enc.users, batch.uniqueUsers),
            zUAug: g.gather(aug.users, batch.uniqueUsers),
            zI: g.gather(enc.items, batch.uniquePos),
            zIAug: g.gather(aug.items, batch.uniquePos),
            zUBatch: g.gather(enc.users, batch.users),
            zIBatch: g.gather(enc.items, batch.pos),
            zUAugBatch: g.gather(aug.users, batch.users),
            zIAugBatch: g.gather(aug.items, batch.pos),
            tauS: settings.s2dr.tauS,
            lambda2: settings.s2dr.lambda2,
            infoNceEpsilon: settings.s2dr.infoNceEpsilon,
          });
          terms.s2dr = ramp('s2dr', out.loss, ctx);
        }
        return terms;
      },
      ...(ramped.length
        ? {
            onEpochStart: (epoch: number) => {
              for (const t of ramped) ramps[t][0] = Math.min(1, (epoch - 1) / warmups[t]);
            },
          }
        : {}),
      feedsForBatch: withRamp(
        sparse
          ? (batch) => {
              const b = sparseSdrBatch(
                sparse as SparseSdrTeacher,
                batch.uniqueUsers,
                settings.sdr.sparseNegatives,
                negatives,
                { flatIds: product },
              );
              return {
                [CANDIDATES]: b.candidates,
                [TARGETS]: b.targets,
                [OFFSETS]: b.offsets,
                [WEIGHTS]: b.weights,
                ...(b.flatIds ? { [FLAT]: b.flatIds } : {}),
              };
            }
          : teacher
            ? async (batch) => {
                const tch = teacher as SdrTeacher;
                const need = batch.uniqueUsers.length * numItems;
                if (rowsBuffer.length < need)
                  rowsBuffer = new Float32Array(Math.max(need, Math.ceil(rowsBuffer.length * 1.25)));
                return {
                  [TEACHER]: await tch.rowsFor(batch.uniqueUsers, rowsBuffer.subarray(0, need)),
                  [WEIGHTS]: tch.weightsFor(batch.uniqueUsers),
                };
              }
            : undefined,
      ),
      release: async () => {
        rowsBuffer = new Float32Array(0);
        await teacher?.release();
      },
    };
  }
}

function unsupported(model: MethodModelInfo): PromaxError {
  return new PromaxError({
    code: 'UNSUPPORTED_COMBINATION',
    field: 'model',
    message: `ProMax's S2DR needs a second view of the model over A′, and model ${model.modelId} reads no graph and has no doEncodeView`,
    fix: `set methodSettings.promax.s2dr.enabled: false, or implement doEncodeView in ${model.modelId}`,
  });
}
