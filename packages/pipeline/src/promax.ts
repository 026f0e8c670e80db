import { type CsrMatrix, type Matrix, type ProgressHandler, PromaxError, Rng } from '@promax/core';
import {
  buildSdrTeacher,
  buildSparseSdrTeacher,
  type PreprocessInfo,
  type PromaxSettings,
  preprocessProfiles,
  type SdrTeacher,
  type SdrTeacherInfo,
  type SparseSdrTeacher,
  type SparseSdrTeacherInfo,
  s2drLoss,
  sdrLoss,
  sparseSdrBatch,
  sparseSdrLoss,
  type TopKSource,
} from '@promax/loss';
import type { EngineOptions, SymbolicTensor } from '@promax/tensor';
import type { BatchIndices, ExtraLossContext, ExtraLossHook, RecommenderModel } from './model-trainable.js';

/** Which ProMax terms run, and why the others don't. */
export interface PromaxComponents {
  sdr: boolean;
  s2dr: boolean;
  /** Human-readable reasons for each disabled term (e.g. "no profile embeddings"). */
  notes: string[];
}

export interface PreparePromaxOptions {
  /** Resolved settings (`resolvePromaxSettings(dataset, overrides)` from @promax/loss). */
  settings: PromaxSettings;
  model: RecommenderModel;
  data: {
    numUsers: number;
    numItems: number;
    train: CsrMatrix;
    /** A′ (needed by S2DR). */
    aug?: CsrMatrix;
    /** Profile embeddings (needed by SDR), one row per user / item. */
    userProfiles?: Matrix;
    itemProfiles?: Matrix;
  };
  /** The model's embedding size: the whitening target k when `preprocess.dim` is null. */
  modelDim: number;
  engine?: EngineOptions;
  onProgress?: ProgressHandler;
  /** With `sdr.teacher: 'sparse'`: finds each user's top-K items (e.g. a LanceDB index); default exact. */
  sdrRetriever?: TopKSource;
  /** Seeds the sparse teacher's negative sampling (default 2025). */
  seed?: number;
}

export interface PreparedPromax {
  components: PromaxComponents;
  /** Pass to `createModelTrainable({ extraLoss })`; undefined when no term runs. */
  extraLoss?: ExtraLossHook;
  /** Pass to `createModelTrainable({ feedsForBatch })`. */
  feedsForBatch?: (batch: BatchIndices) => Promise<Record<string, Float32Array>>;
  /** The preprocessed profile vectors (cache them in the run directory). */
  profiles?: { users: Matrix; items: Matrix; info: PreprocessInfo };
  teacherInfo?: SdrTeacherInfo;
  /** Set instead of `teacherInfo` with `sdr.teacher: 'sparse'`. */
  sparseTeacherInfo?: SparseSdrTeacherInfo;
  release(): Promise<void>;
}

const TEACHER = 'promax.sdr.teacher';
const WEIGHTS = 'promax.sdr.weights';
const CANDIDATES = 'promax.sdr.candidates';
const TARGETS = 'promax.sdr.targets';
const OFFSETS = 'promax.sdr.offsets';

/**
 * Turns any base model into "model + ProMax" (method.md §4): prepares the profile teacher for SDR
 * (PCA whitening §2 + p(i|u) §3) and returns an `extraLoss` hook adding SDR and S2DR to the base
 * model's training graph.
 *
 * Second view (S2DR): graph models encode over A′ with the same parameters. MF reads no graph,
 * so its augmented view is one parameter-free propagation of its embeddings over the normalised
 * A′ (z′ = Â′·z, LightGCN's layer without weights): the view changes exactly where A′ adds edges.
 * Models with their own contrastive loss (SimGCL, SGL) keep it: S2DR is added beside it, each
 * with its own weight.
 */
export async function preparePromax(options: PreparePromaxOptions): Promise<PreparedPromax> {
  const { settings, data, model } = options;
  const notes: string[] = [];
  // A term with weight 0 stays in the graph (a constant 0: same trajectory as the base model).
  let sdr = settings.sdr.enabled;
  let s2dr = settings.s2dr.enabled;
  if (!sdr) notes.push('SDR disabled by settings');
  if (!s2dr) notes.push('S2DR disabled by settings');
  if (sdr && !(data.userProfiles && data.itemProfiles)) {
    sdr = false;
    notes.push('SDR skipped: no profile embeddings (usr_emb_np / itm_emb_np) for this dataset');
  }
  if (s2dr && !data.aug) {
    s2dr = false;
    notes.push("S2DR skipped: no augmented graph A' (aug_trn_mat) for this dataset");
  }
  const components: PromaxComponents = { sdr, s2dr, notes };
  if (!sdr && !s2dr) return { components, release: async () => {} };

  let teacher: SdrTeacher | undefined;
  let sparse: SparseSdrTeacher | undefined;
  let profiles: PreparedPromax['profiles'];
  if (sdr && data.userProfiles && data.itemProfiles) {
    for (const [side, m, n] of [
      ['user', data.userProfiles, data.numUsers],
      ['item', data.itemProfiles, data.numItems],
    ] as const) {
      if (m.rows !== n) {
        throw new PromaxError({
          code: 'SHAPE_MISMATCH',
          field: `${side}Profiles`,
          message: `${side} profile embeddings have ${m.rows} rows but the dataset has ${n} ${side}s`,
          fix: `provide one profile vector per ${side}, in the dataset's id order`,
        });
      }
    }
    const pre = await preprocessProfiles({
      users: data.userProfiles,
      items: data.itemProfiles,
      k: settings.preprocess.dim ?? options.modelDim,
      mode: settings.preprocess.mode,
      eps: settings.preprocess.eps,
      engine: options.engine,
      onProgress: options.onProgress,
    });
    profiles = { users: pre.users, items: pre.items, info: pre.info };
    if (settings.sdr.teacher === 'sparse') {
      sparse = await buildSparseSdrTeacher({
        userProfiles: pre.users,
        itemProfiles: pre.items,
        k: settings.sdr.sparseK,
        tauP: settings.sdr.tauP,
        mask: settings.sdr.maskTrain ? data.train : undefined,
        weightClip: settings.sdr.weightClip,
        retriever: options.sdrRetriever,
        engine: options.engine,
        onProgress: options.onProgress,
      });
    } else
      teacher = await buildSdrTeacher({
        userProfiles: pre.users,
        itemProfiles: pre.items,
        tauP: settings.sdr.tauP,
        mask: settings.sdr.maskTrain ? data.train : undefined,
        topK: settings.sdr.topK ?? undefined,
        weightClip: settings.sdr.weightClip,
        memoryBudgetBytes: settings.sdr.memoryBudgetBytes,
        engine: options.engine,
        onProgress: options.onProgress,
      });
  }

  const usesGraph = model.capabilities.usesGraph;
  const extraLoss: ExtraLossHook = (ctx: ExtraLossContext) => {
    const { g, batch } = ctx;
    const enc = ctx.encode('original');
    const terms: Record<string, SymbolicTensor> = {};
    if (sdr && sparse) {
      const width = sparse.info.k + settings.sdr.sparseNegatives;
      const out = sparseSdrLoss(g, {
        zUsers: g.gather(enc.users, batch.uniqueUsers),
        zItems: enc.items,
        candidates: ctx.addInput(CANDIDATES, 'float32', ['Bu', width]),
        targets: ctx.addInput(TARGETS, 'float32', ['Bu', width]),
        offsets: ctx.addInput(OFFSETS, 'float32', ['Bu', width]),
        weights: ctx.addInput(WEIGHTS, 'float32', ['Bu']),
        tauQ: settings.sdr.tauQ,
        lambda1: settings.sdr.lambda1,
      });
      terms.sdr = out.loss;
    } else if (sdr) {
      const t = ctx.addInput(TEACHER, 'float32', ['Bu', data.numItems]);
      const w = ctx.addInput(WEIGHTS, 'float32', ['Bu']);
      const out = sdrLoss(g, {
        zUsers: g.gather(enc.users, batch.uniqueUsers),
        zItems: enc.items,
        teacher: t,
        weights: w,
        tauQ: settings.sdr.tauQ,
        lambda1: settings.sdr.lambda1,
        form: settings.sdr.form,
      });
      terms.sdr = out.loss;
    }
    if (s2dr) {
      let aug: { users: SymbolicTensor; items: SymbolicTensor };
      if (usesGraph) aug = ctx.encode('augmented');
      else {
        const all = g.concat([enc.users, enc.items], 0);
        const prop = g.propagate(all, ctx.views.augmented);
        const [users, items] = g.split(prop, [data.numUsers, data.numItems], 0);
        aug = { users, items };
      }
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
      terms.s2dr = out.loss;
    }
    return terms;
  };

  // Teacher rows are [Bu, N] (≈ 130 MB per Amazon-book batch): one buffer, grown when a batch
  // needs more, is reused for every batch (the trainer runs batches one after another and the
  // feeds are not kept), instead of a fresh allocation per batch.
  let rowsBuffer = new Float32Array(0);
  const rng = new Rng(options.seed ?? 2025);
  const sparseFeeds = sparse
    ? async (batch: BatchIndices): Promise<Record<string, Float32Array>> => {
        const b = sparseSdrBatch(
          sparse as SparseSdrTeacher,
          batch.uniqueUsers,
          settings.sdr.sparseNegatives,
          rng,
        );
        return {
          [CANDIDATES]: b.candidates,
          [TARGETS]: b.targets,
          [OFFSETS]: b.offsets,
          [WEIGHTS]: b.weights,
        };
      }
    : undefined;
  const denseFeeds = teacher
    ? async (batch: BatchIndices): Promise<Record<string, Float32Array>> => {
        const tch = teacher as SdrTeacher;
        const need = batch.uniqueUsers.length * data.numItems;
        if (rowsBuffer.length < need)
          rowsBuffer = new Float32Array(Math.max(need, Math.ceil(rowsBuffer.length * 1.25)));
        return {
          [TEACHER]: await tch.rowsFor(batch.uniqueUsers, rowsBuffer.subarray(0, need)),
          [WEIGHTS]: tch.weightsFor(batch.uniqueUsers),
        };
      }
    : undefined;
  const feedsForBatch = sparseFeeds ?? denseFeeds;

  return {
    components,
    extraLoss,
    feedsForBatch,
    profiles,
    teacherInfo: teacher?.info,
    sparseTeacherInfo: sparse?.info,
    release: async () => {
      rowsBuffer = new Float32Array(0);
      await teacher?.release();
    },
  };
}
