export { dropEdges } from './edge-dropout.js';
export type { SglSettings, SglSettingsInput } from './settings.js';
export { sglPresets, sglSettingsSchema } from './settings.js';
export { createSgl, SGL_VIEWS, SglModel, sglDefinition } from './sgl-model.js';
