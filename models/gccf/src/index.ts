export { createGccf, GccfModel, gccfDefinition } from './gccf-model.js';
export type { GccfSettings, GccfSettingsInput } from './settings.js';
export { gccfSettingsSchema } from './settings.js';
