export { createPromax, promaxMethodDefinition } from './definition.js';
export { PromaxMethod } from './promax-method.js';
export type { PromaxSettings, PromaxSettingsInput } from './settings.js';
export { PROMAX_PRESETS, promaxSettingsSchema } from './settings.js';
