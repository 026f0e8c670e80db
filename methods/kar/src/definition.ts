import { parseSettings, type RecommenderMethodDefinition } from '@promax/core';
import { KarMethod } from './kar-method.js';
import { type KarSettings, type KarSettingsInput, karSettingsSchema } from './settings.js';

export function createKar(settings: KarSettingsInput = {}): KarMethod {
  return new KarMethod(parseSettings(karSettingsSchema, settings, { what: 'kar settings' }));
}

/** The plugin definition of KAR (adapted) (found by `promax methods` and `--method kar`). */
export const karMethodDefinition: RecommenderMethodDefinition<KarMethod, KarSettings, KarSettingsInput> = {
  kind: 'method',
  specificationVersion: 'v1',
  id: 'kar',
  packageName: '@promax/method-kar',
  description:
    "KAR (adapted): KAR's hybrid-expert adaptor maps profiles to vectors added to the model's, in training and scoring",
  adaptation:
    'the released KAR covers CTR and re-ranking only; this top-K plug-in (HEA on profile embeddings, fused by addition, BPR) is our adaptation (baselines.md §4.2)',
  settingsSchema: karSettingsSchema,
  defaults: karSettingsSchema.parse({}),
  inputs: [
    {
      kind: 'profileEmbeddings',
      need: 'required',
      purpose: 'the adaptor input x_u, x_i (user and item profile embeddings)',
    },
  ],
  zeroWeightSettings: { weight: 0 },
  tunable: { weight: 'weight' },
  // Any model with user and item vectors (the whole zoo, MF included).
  unsupportedReason: () => undefined,
  create: createKar,
};
