export { createMf, MfModel, mfDefinition } from './mf-model.js';
export type { MfSettings, MfSettingsInput } from './settings.js';
export { mfSettingsSchema } from './settings.js';
