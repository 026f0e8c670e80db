export type { BatchExport, BatchImportSummary, BatchRequestLine } from './batch-api.js';
export { batchCustomId, exportChatBatch, importChatBatch, writeChatBatch } from './batch-api.js';
export type {
  ChatJobOptions,
  ChatJobResult,
  ChatJobSummary,
  ChatMessage,
  ChatTask,
  JobEntry,
  JobEstimate,
} from './chat-job.js';
export { buildRequestBody, estimateChatJob, keyOf, runChatJob } from './chat-job.js';
export type { ChatClient } from './client.js';
export { createChatClient } from './client.js';
export type { Clock } from './clock.js';
export { systemClock } from './clock.js';
// Texts and profile files of a dataset (what the profile pipeline reads and writes).
export type { ItemTexts } from './dataset-texts.js';
export { defaultDomain, itemTextFile, loadItemTexts } from './dataset-texts.js';
export type { ProfileEntry } from './loaders.js';
export { loadProfilesJsonl, loadRlmrecProfiles, profilesFromStore } from './loaders.js';
export type { ParseResult, ProfileOutput, RerankParse } from './output.js';
export {
  extractJson,
  parseProfileOutput,
  parseRerankOutput,
  profileOutputSchema,
  rerankOutputSchema,
} from './output.js';
export type { TokenUsage } from './pricing.js';
export { costUsd, DEFAULT_PRICES, estimateMessageTokens, estimateTokens, priceOf } from './pricing.js';
export type {
  IdSpace,
  LoadedProfiles,
  ProfileFile,
  ProfileKind,
  ProfileVariantFiles,
} from './profile-files.js';
export {
  findProfileFile,
  findProfileVariants,
  kindOfFile,
  loadProfileMap,
  locateProfiles,
  PROFILE_OUTPUT,
  PROFILES_MANIFEST,
  profileOutputFile,
  readProfileFile,
  writeProfilesJsonl,
} from './profile-files.js';
export type {
  GeneratedProfile,
  ProfileFailure,
  ProfileJobOptions,
  ProfileJobResult,
  ProfileRequest,
} from './profile-job.js';
export { estimateProfileJob, generateProfiles, profileTasks } from './profile-job.js';
export type {
  Domain,
  FactValue,
  HistoryEntry,
  ItemProfileInput,
  ProfilePromptSettings,
  ProfilePromptSettingsInput,
  RenderedPrompt,
  RerankCandidate,
  RerankInput,
  RerankPromptSettings,
  RerankPromptSettingsInput,
  UserProfileInput,
} from './prompts.js';
export {
  buildItemProfilePrompt,
  buildRerankPrompt,
  buildUserProfilePrompt,
  domainSchema,
  itemProfileSystemPrompt,
  MAX_PROFILE_VARIANTS,
  PROFILE_PROMPT_VERSION,
  PROFILE_VARIANTS,
  profilePromptSettingsSchema,
  profileTemplateName,
  promptHash,
  RERANK_PROMPT_VERSION,
  rerankPromptSettingsSchema,
  userProfileSystemPrompt,
} from './prompts.js';
export { RateLimiter } from './rate-limiter.js';
export type { RerankAnswer, RerankOptions, RerankOutcome } from './rerank.js';
export { DEFAULT_RERANK_REPAIRS, rerankCandidates, rerankTasks } from './rerank.js';
export type { FailureRecord, StoredUsage, StoreKey, StoreRecord, SuccessRecord } from './result-store.js';
export { ResultStore, storeKeyString } from './result-store.js';
export type { ErrorClass, RetryCause } from './retry.js';
export {
  backoffDelayMs,
  classifyRequestError,
  RETRY_CAUSES,
  retryAfterMs,
  retryWarningCode,
} from './retry.js';
export type {
  BackoffSettings,
  EndpointSettings,
  JobSettings,
  JobSettingsInput,
  ModelPrice,
  PriceTable,
} from './settings.js';
export {
  backoffSettingsSchema,
  endpointSettingsSchema,
  jobSettingsSchema,
  modelPriceSchema,
  parseSettings,
  priceTableSchema,
} from './settings.js';
