export type { SimGclSettings, SimGclSettingsInput } from './settings.js';
export { simGclSettingsSchema } from './settings.js';
export { createSimGcl, SimGclModel, simGclDefinition, simGclNoiseName } from './simgcl-model.js';
export { fillUniform } from './uniform-noise.js';
