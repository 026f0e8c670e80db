import { parseSettings, type RecommenderMethodDefinition } from '@promax/core';
import { RlmrecConMethod } from './rlmrec-con-method.js';
import {
  RLMREC_CON_PRESETS,
  type RlmrecConSettings,
  type RlmrecConSettingsInput,
  rlmrecConSettingsSchema,
} from './settings.js';

/** The base models the released code defines RLMRec on (DCCF and AutoCF are not in the zoo). */
export const RLMREC_BASES = ['lightgcn', 'gccf', 'sgl', 'simgcl'] as const;

export function createRlmrecCon(settings: RlmrecConSettingsInput = {}): RlmrecConMethod {
  return new RlmrecConMethod(
    parseSettings(rlmrecConSettingsSchema, settings, { what: 'rlmrec-con settings' }),
  );
}

/** The plugin definition of RLMRec-Con (found by `promax methods` and `--method rlmrec-con`). */
export const rlmrecConMethodDefinition: RecommenderMethodDefinition<
  RlmrecConMethod,
  RlmrecConSettings,
  RlmrecConSettingsInput
> = {
  kind: 'method',
  specificationVersion: 'v1',
  id: 'rlmrec-con',
  packageName: '@promax/method-rlmrec-con',
  description:
    "RLMRec-Con (WWW'24): InfoNCE between CF embeddings and MLP-projected profile embeddings (training only)",
  settingsSchema: rlmrecConSettingsSchema,
  defaults: rlmrecConSettingsSchema.parse({}),
  presets: RLMREC_CON_PRESETS,
  inputs: [
    {
      kind: 'profileEmbeddings',
      need: 'required',
      purpose: 'the KD targets MLP(profile) for every user and item',
    },
  ],
  zeroWeightSettings: { kdWeight: 0, perModel: {} },
  tunable: { kdWeight: 'weight', kdTemperature: 'temperature' },
  unsupportedReason: (model) =>
    (RLMREC_BASES as readonly string[]).includes(model.modelId)
      ? undefined
      : `the released RLMRec code defines RLMRec-Con on ${RLMREC_BASES.join(', ')} only`,
  create: createRlmrecCon,
};
