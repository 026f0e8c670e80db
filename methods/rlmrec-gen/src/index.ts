export { createRlmrecGen, RLMREC_GEN_BASES, rlmrecGenMethodDefinition } from './definition.js';
export { RlmrecGenMethod } from './rlmrec-gen-method.js';
export type { RlmrecGenSettings, RlmrecGenSettingsInput } from './settings.js';
export { effectiveGenSettings, RLMREC_GEN_PRESETS, rlmrecGenSettingsSchema } from './settings.js';
