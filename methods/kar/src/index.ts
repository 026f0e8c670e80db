export { createKar, karMethodDefinition } from './definition.js';
export type { HeaShape } from './hybrid-experts.js';
export { heaParameters, hybridExperts } from './hybrid-experts.js';
export { KarMethod } from './kar-method.js';
export type { KarSettings, KarSettingsInput } from './settings.js';
export { karSettingsSchema } from './settings.js';
