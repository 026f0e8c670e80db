import { type CsrMatrix, type Matrix, type ProgressHandler, PromaxError } from '@promax/core';
import {
  buildSdrTeacher,
  type PreprocessInfo,
  type PromaxSettings,
  preprocessProfiles,
  type SdrTeacher,
  type SdrTeacherInfo,
  s2drLoss,
  sdrLoss,
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
  release(): Promise<void>;
}

const TEACHER = 'promax.sdr.teacher';
const WEIGHTS = 'promax.sdr.weights';

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
  } else if (s2dr && data.aug && data.aug.indptr[data.aug.rows] === 0) {
    s2dr = false;
    notes.push("S2DR skipped: the augmented graph A' has no edges");
  }
  if (sdr && data.userProfiles && data.itemProfiles)
    notes.push(
      `SDR uses the profile embeddings (${data.userProfiles.rows}×${data.userProfiles.cols} users, ${data.itemProfiles.rows}×${data.itemProfiles.cols} items)`,
    );
  if (s2dr && data.aug) notes.push(`S2DR uses A' (${data.aug.indptr[data.aug.rows]} edges)`);
  const components: PromaxComponents = { sdr, s2dr, notes };
  if (!sdr && !s2dr) return { components, release: async () => {} };

  let teacher: SdrTeacher | undefined;
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
    if (sdr) {
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
  const feedsForBatch = teacher
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

  return {
    components,
    extraLoss,
    feedsForBatch,
    profiles,
    teacherInfo: teacher?.info,
    release: async () => {
      rowsBuffer = new Float32Array(0);
      await teacher?.release();
    },
  };
}
