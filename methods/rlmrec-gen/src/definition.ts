import { parseSettings, type RecommenderMethodDefinition } from '@promax/core';
import { RlmrecGenMethod } from './rlmrec-gen-method.js';
import {
  RLMREC_GEN_PRESETS,
  type RlmrecGenSettings,
  type RlmrecGenSettingsInput,
  rlmrecGenSettingsSchema,
} from './settings.js';

/** The base models the released code defines RLMRec on (DCCF and AutoCF are not in the zoo). */
export const RLMREC_GEN_BASES = ['lightgcn', 'gccf', 'sgl', 'simgcl'] as const;

export function createRlmrecGen(settings: RlmrecGenSettingsInput = {}): RlmrecGenMethod {
  return new RlmrecGenMethod(
    parseSettings(rlmrecGenSettingsSchema, settings, { what: 'rlmrec-gen settings' }),
  );
}

/** The plugin definition of RLMRec-Gen (found by `promax methods` and `--method rlmrec-gen`). */
export const rlmrecGenMethodDefinition: RecommenderMethodDefinition<
  RlmrecGenMethod,
  RlmrecGenSettings,
  RlmrecGenSettingsInput
> = {
  kind: 'method',
  specificationVersion: 'v1',
  id: 'rlmrec-gen',
  packageName: '@promax/method-rlmrec-gen',
  description:
    "RLMRec-Gen (WWW'24): masked-node reconstruction of profile embeddings from the masked forward (training only)",
  settingsSchema: rlmrecGenSettingsSchema,
  defaults: rlmrecGenSettingsSchema.parse({}),
  presets: RLMREC_GEN_PRESETS,
  inputs: [
    {
      kind: 'profileEmbeddings',
      need: 'required',
      purpose: 'the reconstruction targets of masked users and items',
    },
  ],
  zeroWeightSettings: { reconWeight: 0, perModel: {} },
  tunable: { reconWeight: 'weight', reconTemperature: 'temperature', maskRatio: 'ratio' },
  unsupportedReason: (model) =>
    (RLMREC_GEN_BASES as readonly string[]).includes(model.modelId)
      ? undefined
      : `the released RLMRec code defines RLMRec-Gen on ${RLMREC_GEN_BASES.join(', ')} only`,
  create: createRlmrecGen,
};
