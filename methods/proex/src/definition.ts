import { parseSettings, type RecommenderMethodDefinition } from '@promax/core';
import { ProexMethod } from './proex-method.js';
import {
  PROEX_PRESETS,
  type ProexSettings,
  type ProexSettingsInput,
  proexSettingsSchema,
} from './settings.js';

export function createProex(settings: ProexSettingsInput = {}): ProexMethod {
  return new ProexMethod(parseSettings(proexSettingsSchema, settings, { what: 'proex settings' }));
}

/** The plugin definition of ProEx (found by `promax methods` and `--method proex`). */
export const proexMethodDefinition: RecommenderMethodDefinition<
  ProexMethod,
  ProexSettings,
  ProexSettingsInput
> = {
  kind: 'method',
  specificationVersion: 'v1',
  id: 'proex',
  packageName: '@promax/method-proex',
  description:
    "ProEx (KDD'26): Dirichlet mixtures of K projected profiles added to the model's vectors (training and scoring), invariance + uniformity terms",
  settingsSchema: proexSettingsSchema,
  defaults: proexSettingsSchema.parse({}),
  presets: PROEX_PRESETS,
  inputs: [
    { kind: 'profileEmbeddings', need: 'required', purpose: 'profile k = 0 (usr_emb_np / itm_emb_np)' },
    {
      kind: 'extraProfileEmbeddings',
      need: 'required',
      purpose:
        'profiles k = 1..3 (usr_emb_np_{1,2,3} / itm_emb_np_{1,2,3}, in a dataset folder or beside --embeddings, as `promax embed` writes them from `promax profiles --variants 3`)',
    },
  ],
  zeroWeightSettings: { scale: 0, invWeight: 0, exWeight: 0 },
  tunable: { invWeight: 'weight', exWeight: 'weight', alpha: 'scale', uniformityTemperature: 'temperature' },
  // The released code is LightGCN only; the method reads nothing but user/item vectors, so it runs on any model.
  unsupportedReason: () => undefined,
  create: createProex,
};
