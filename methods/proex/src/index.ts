export { createProex, proexMethodDefinition } from './definition.js';
export { ProexMethod } from './proex-method.js';
export type { ProexSettings, ProexSettingsInput } from './settings.js';
export { PROEX_PRESETS, proexSettingsSchema } from './settings.js';
