export { createRlmrecCon, RLMREC_BASES, rlmrecConMethodDefinition } from './definition.js';
export { RlmrecConMethod } from './rlmrec-con-method.js';
export type { RlmrecConSettings, RlmrecConSettingsInput } from './settings.js';
export { effectiveConSettings, RLMREC_CON_PRESETS, rlmrecConSettingsSchema } from './settings.js';
