export { createLightGcn, LIGHTGCN_EDGE_MASK, LightGcnModel, lightGcnDefinition } from './lightgcn-model.js';
export type { LightGcnSettings, LightGcnSettingsInput } from './settings.js';
export { lightGcnSettingsSchema } from './settings.js';
