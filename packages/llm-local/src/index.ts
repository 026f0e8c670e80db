export { grammarSchemaOf, LOCAL_PROFILE_PROMPT_DEFAULTS, localProfileAnswerSchema } from './answer-schema.js';
export type { FittedPrompt } from './context-fit.js';
export { fitPromptToBudget } from './context-fit.js';
export type { GgufSummary } from './gguf-file.js';
export { checkGgufHeader, fileSha256, summarizeGguf } from './gguf-file.js';
export type {
  LoadLocalChatModelOptions,
  LocalChatCompletion,
  LocalModelInfo,
  LocalModelStats,
  ResponseSchemaOption,
} from './local-chat-model.js';
export { completionPrompt, LocalChatModel, loadLocalChatModel } from './local-chat-model.js';
export type { LocalModelSettings, LocalModelSettingsInput } from './settings.js';
export { localModelSettingsSchema, parseLocalModelSettings } from './settings.js';
