import { parseSettings, type RecommenderMethodDefinition } from '@promax/core';
import { PromaxMethod } from './promax-method.js';
import {
  PROMAX_PRESETS,
  type PromaxSettings,
  type PromaxSettingsInput,
  promaxSettingsSchema,
} from './settings.js';

/** Creates the ProMax method; settings are validated (unknown keys are errors). */
export function createPromax(settings: PromaxSettingsInput = {}): PromaxMethod {
  return new PromaxMethod(parseSettings(promaxSettingsSchema, settings, { what: 'promax settings' }));
}

/** The plugin definition of ProMax (found by `promax methods` and `--method promax`). */
export const promaxMethodDefinition: RecommenderMethodDefinition<
  PromaxMethod,
  PromaxSettings,
  PromaxSettingsInput
> = {
  kind: 'method',
  specificationVersion: 'v1',
  id: 'promax',
  packageName: '@promax/method-promax',
  description:
    "ProMax (SIGIR'26): SDR (profile retrieval distribution → model) + S2DR (agreement over A and A′)",
  settingsSchema: promaxSettingsSchema,
  defaults: promaxSettingsSchema.parse({}),
  presets: PROMAX_PRESETS,
  inputs: [
    {
      kind: 'profileEmbeddings',
      need: 'optional',
      purpose: 'the SDR teacher p(i|u) (SDR is skipped without them)',
    },
    {
      kind: 'augmentedGraph',
      need: 'optional',
      purpose: "S2DR's second view A′ (S2DR is skipped without it)",
    },
  ],
  zeroWeightSettings: { sdr: { lambda1: 0 }, s2dr: { lambda2: 0 } },
  tunable: {
    'sdr.lambda1': 'weight',
    'sdr.tauP': 'temperature',
    'sdr.tauQ': 'temperature',
    's2dr.lambda2': 'weight',
    's2dr.tauS': 'temperature',
  },
  unsupportedReason: () => undefined,
  create: createPromax,
};
