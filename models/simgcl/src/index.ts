export type { SimGclSettings, SimGclSettingsInput } from './settings.js';
export { simGclPresets, simGclSettingsSchema } from './settings.js';
export { createSimGcl, SimGclModel, simGclDefinition, simGclNoiseName } from './simgcl-model.js';
export { fillUniform } from './uniform-noise.js';
