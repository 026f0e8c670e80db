import type { RecommenderModelDefinition } from '@promax/core';
import { gccfDefinition } from '@promax/model-gccf';
import { lightGcnDefinition } from '@promax/model-lightgcn';
import { mfDefinition } from '@promax/model-mf';
import { sglDefinition } from '@promax/model-sgl';
import { simGclDefinition } from '@promax/model-simgcl';
import type { RecommenderModel } from '@promax/pipeline';

// biome-ignore lint/suspicious/noExplicitAny: each definition has its own settings type
export type AnyModelDefinition = RecommenderModelDefinition<RecommenderModel, any, any>;

/** The built-in base models (the CLI is the only place that imports concrete models). */
export const BUILT_IN_MODELS: Readonly<Record<string, AnyModelDefinition>> = {
  mf: mfDefinition as AnyModelDefinition,
  lightgcn: lightGcnDefinition as AnyModelDefinition,
  gccf: gccfDefinition as AnyModelDefinition,
  simgcl: simGclDefinition as AnyModelDefinition,
  sgl: sglDefinition as AnyModelDefinition,
};
