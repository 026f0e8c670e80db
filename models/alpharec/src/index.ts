export { ALPHAREC_INPUT, AlphaRecModel, alphaRecDefinition, createAlphaRec } from './alpharec-model.js';
export { alphaRecInput } from './profile-input.js';
export { sampledSoftmaxLoss } from './sampled-softmax.js';
export type { AlphaRecSettings, AlphaRecSettingsInput } from './settings.js';
export { ALPHAREC_PRESETS, alphaRecSettingsSchema } from './settings.js';
