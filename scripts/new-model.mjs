#!/usr/bin/env node
// Scaffolds a base-model plugin package: node scripts/new-model.mjs NAME [--dir models]
// Writes models/NAME (package.json, tsconfig, vitest config, README, src/) with a working
// graph model (E + Â·E per layer, averaged) that passes the conformance suite, then tells you
// what to run. NAME: lowercase letters, digits and dashes (the package is @promax/model-NAME).
import { relative } from 'node:path';
import { packageFiles, scaffoldTarget, writePackage } from './scaffold.mjs';
import { root } from './workspace.mjs';

const { name, dir, Pascal, camel, pkg, up } = scaffoldTarget('model', 'models');

const files = {
  ...packageFiles({
    pkg,
    up,
    description: `Base model '${name}' for ProMax.`,
    deps: ['@promax/core', '@promax/tensor'],
    devDeps: ['@promax/testkit'],
  }),
  'src/settings.ts': `import * as z from 'zod';

/** ${Pascal} settings. Every field has a default and a comment; unknown keys are errors. */
export const ${camel}SettingsSchema = z.strictObject({
  /** Embedding size d of the user and item tables. */
  embeddingSize: z.number().int().positive().default(32),
  /** Propagation layers L. */
  layers: z.number().int().positive().default(2),
});

/** Resolved ${Pascal} settings. */
export type ${Pascal}Settings = z.output<typeof ${camel}SettingsSchema>;
/** ${Pascal} settings as written by a user (every field optional). */
export type ${Pascal}SettingsInput = z.input<typeof ${camel}SettingsSchema>;
`,
  [`src/${name}-model.ts`]: `import {
  type EncodeOptions,
  type EncodeResult,
  type ModelDims,
  type ParameterSpec,
  PromaxError,
  parseModelSettings,
  type RecommenderModelDefinition,
  type RecommenderModelV1,
} from '@promax/core';
import { type Adjacency, type GraphBuilder, type SymbolicTensor, xavierUniform } from '@promax/tensor';
import { type ${Pascal}Settings, type ${Pascal}SettingsInput, ${camel}SettingsSchema } from './settings.js';

// The contract bound to the engine's types (declared here, not imported from the dev-only testkit).
type RecommenderModel = RecommenderModelV1<GraphBuilder, SymbolicTensor, Adjacency, ${Pascal}Settings>;

/**
 * TODO: describe the model and cite its paper. The template propagates E^(l) = Â E^(l−1) and
 * averages E^(0..L). Write the forward pass with the graph builder only; gradients come from the
 * engine, parameters and randomness from the trainer.
 */
export class ${Pascal}Model implements RecommenderModel {
  readonly specificationVersion = 'v1';
  readonly modelId = '${name}';
  // Set hasAuxiliaryLoss / hasStochasticInputs when you implement doAuxiliaryLoss /
  // doDeclareStochasticInputs (the conformance suite checks that they agree).
  readonly capabilities = { usesGraph: true, hasAuxiliaryLoss: false, hasStochasticInputs: false } as const;
  readonly graphNormalization = { selfLoops: false } as const;

  readonly embeddingSize: number;

  constructor(readonly settings: ${Pascal}Settings) {
    this.embeddingSize = settings.embeddingSize;
  }

  doDeclareParameters(dims: ModelDims): ParameterSpec[] {
    const d = this.settings.embeddingSize;
    return [
      { name: 'user_emb', shape: [dims.numUsers, d], role: 'user-embedding', init: xavierUniform() },
      { name: 'item_emb', shape: [dims.numItems, d], role: 'item-embedding', init: xavierUniform() },
    ];
  }

  doEncode({ g, params, graph, dims }: EncodeOptions<GraphBuilder, SymbolicTensor, Adjacency>): EncodeResult<SymbolicTensor> {
    if (!graph) {
      throw new PromaxError({
        code: 'INVALID_ARGUMENT',
        field: 'graph',
        message: '${name} encodes over a graph view, but none was given',
        fix: 'pass the normalised user–item adjacency (capabilities.usesGraph is true)',
      });
    }
    let x = g.concat([params.user_emb, params.item_emb], 0);
    const outs = [x];
    for (let l = 0; l < this.settings.layers; l++) outs.push((x = g.propagate(x, graph)));
    const z = g.mul(g.addN(outs), 1 / outs.length);
    const [users, items] = g.split(z, [dims.numUsers, dims.numItems], 0);
    return { users, items };
  }
}

/** Creates a ${Pascal} model; settings are validated (unknown keys are errors). */
export function create${Pascal}(settings: ${Pascal}SettingsInput = {}): ${Pascal}Model {
  return new ${Pascal}Model(parseModelSettings('${name}', ${camel}SettingsSchema, settings));
}

/** The plugin definition of ${Pascal}: \`promax models\` and \`--model ${name}\` find it by the package name. */
export const ${camel}Definition: RecommenderModelDefinition<${Pascal}Model, ${Pascal}Settings, ${Pascal}SettingsInput> = {
  kind: 'model',
  specificationVersion: 'v1',
  id: '${name}',
  packageName: '${pkg}',
  description: '${Pascal}: TODO one line for \`promax models\` (template: mean of LightGCN layers 0..L)',
  settingsSchema: ${camel}SettingsSchema,
  defaults: ${camel}SettingsSchema.parse({}),
  create: create${Pascal},
};
`,
  'src/index.ts': `export { create${Pascal}, ${Pascal}Model, ${camel}Definition } from './${name}-model.js';
export type { ${Pascal}Settings, ${Pascal}SettingsInput } from './settings.js';
export { ${camel}SettingsSchema } from './settings.js';
`,
  [`src/${name}.test.ts`]: `import { describeRecommenderModel } from '@promax/testkit';
import { describe, expect, it } from 'vitest';
import { create${Pascal}, ${camel}Definition } from './index.js';

// The shared conformance suite: the model is done when it passes.
describeRecommenderModel('${name}', () => create${Pascal}({ embeddingSize: 8 }));

describe('${name}', () => {
  it('has documented defaults', () => {
    expect(create${Pascal}().settings).toEqual(${camel}Definition.defaults);
  });
  // TODO: compare doEncode with a float64 reference (see propagateReference in @promax/testkit).
});
`,
  'README.md': `# ${pkg}

Base model '${name}' for ProMax (\`RecommenderModel\` v1). TODO: what it computes, its paper, and
every setting with its default.

| setting         | default | meaning                        |
| --------------- | ------- | ------------------------------ |
| \`embeddingSize\` | 32      | d of the user and item tables  |
| \`layers\`        | 2       | propagation layers L           |

## Example

\`\`\`ts
import { loadDataset } from '@promax/data';
import { runExperiment } from '@promax/pipeline';
import { ${camel}Definition } from '${pkg}';

const { results } = await runExperiment({ dataset: loadDataset('amazon-book'), model: { definition: ${camel}Definition } });
\`\`\`

or \`pnpm promax train --dataset amazon-book --model ${name} --out runs/${name}\` (add \`--method promax\`
for ProMax on it).
`,
};

writePackage(
  dir,
  files,
  `  pnpm install && pnpm build                  # link and build the new package
  npx vitest run ${relative(root, dir)}        # the conformance suite
  pnpm promax models                           # lists ${name}
  pnpm promax train --dataset amazon-book --model ${name} --max-epochs 1 --out runs/${name}
Then edit src/${name}-model.ts, the settings and the README (see CONTRIBUTING.md).`,
);
