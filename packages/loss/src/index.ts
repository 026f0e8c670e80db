// Profile preprocessing (method.md §2).

// Building blocks of the rival methods (baselines.md): profile MLPs, RLMRec/ProEx contrastive terms, row feeds.
export type { InfoNceWeights } from './baselines/contrastive.js';
export { rlmrecInfoNce, rlmrecNormalize, sslConLoss, uniformityLoss } from './baselines/contrastive.js';
export type { ProfileMlpShape } from './baselines/profile-mlp.js';
export {
  linearBiasInit,
  profileMlp,
  profileMlpParameters,
  rlmrecHidden,
  transposedInit,
  xavierUniformFans,
} from './baselines/profile-mlp.js';
export {
  checkProfileMatrix,
  distinctCounts,
  gatherRows,
  requireProfilePair,
  sampleDirichlet,
  sampleGamma,
  uniqueWithPositions,
} from './baselines/profile-rows.js';
export type { TopEigen } from './linalg/symmetric-eigen.js';
export { symmetricTopEigen } from './linalg/symmetric-eigen.js';
export type { S2drLoss, S2drLossOptions } from './losses/s2dr-loss.js';
export { s2drLoss } from './losses/s2dr-loss.js';
export type { SdrForm, SdrInputs, SdrLoss, SdrLossOptions } from './losses/sdr-loss.js';
// Loss graph builders (§4).
export { sdrInputs, sdrLoss } from './losses/sdr-loss.js';
export type { SparseSdrBatch, SparseSdrLossOptions } from './losses/sparse-sdr-loss.js';
export { PAD_OFFSET, sparseSdrBatch, sparseSdrInputs, sparseSdrLoss } from './losses/sparse-sdr-loss.js';
export { uniqueIds } from './losses/unique-ids.js';
export type {
  PreprocessedProfiles,
  PreprocessInfo,
  PreprocessMode,
  PreprocessProfilesInput,
} from './preprocess/preprocess-profiles.js';
export { preprocessProfiles } from './preprocess/preprocess-profiles.js';
export type {
  ApplyWhiteningOptions,
  FitWhiteningOptions,
  Whitening,
  WhiteningTimings,
} from './preprocess/whitening.js';
export { applyWhitening, fitWhitening, l2NormalizeRows } from './preprocess/whitening.js';
// Settings schemas of the losses (the ProMax method package combines them and holds the presets).
export { preprocessSettingsSchema, s2drSettingsSchema, sdrSettingsSchema } from './settings.js';
export { entropyWeight, teacherEntropy } from './teacher/entropy-weight.js';
export type { SdrTeacher, SdrTeacherInfo, SdrTeacherOptions } from './teacher/sdr-teacher.js';
// The SDR teacher (§3–4).
export { buildSdrTeacher } from './teacher/sdr-teacher.js';
export type {
  SparseSdrTeacher,
  SparseSdrTeacherInfo,
  SparseSdrTeacherOptions,
  TopKSource,
} from './teacher/sparse-sdr-teacher.js';
export { buildSparseSdrTeacher } from './teacher/sparse-sdr-teacher.js';
