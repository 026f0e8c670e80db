export { createLightGcn, LightGcnModel, lightGcnDefinition } from './lightgcn-model.js';
export type { LightGcnSettings, LightGcnSettingsInput } from './settings.js';
export { lightGcnSettingsSchema } from './settings.js';
