#!/usr/bin/env node
// Scaffolds a method plugin package: pnpm new:method NAME [--dir methods]
// Writes methods/NAME (package.json, tsconfig, vitest config, README, CHANGELOG, src/) with a
// working method (an in-batch InfoNCE term between each user and her positive item) that passes
// the method conformance suite and trains with `promax train --method NAME`, then tells you what
// to run. NAME: lowercase letters, digits and dashes (the package is @promax/method-NAME).
import { relative } from 'node:path';
import { packageFiles, scaffoldTarget, writePackage } from './scaffold.mjs';
import { root } from './workspace.mjs';

const { name, dir, Pascal, camel, pkg, up } = scaffoldTarget('method', 'methods');

const files = {
  ...packageFiles({
    pkg,
    up,
    description: `Method '${name}' for ProMax.`,
    deps: ['@promax/core', '@promax/tensor'],
    devDeps: ['@promax/testkit', '@promax/pipeline'],
  }),
  'src/settings.ts': `import * as z from 'zod';

/** ${Pascal} settings. Every field has a default and a comment; unknown keys are errors. */
export const ${camel}SettingsSchema = z.strictObject({
  /** Weight of the term (0 turns it off: the base model's trajectory, bit for bit). */
  weight: z.number().nonnegative().default(0.1),
  /** InfoNCE temperature τ. */
  temperature: z.number().positive().default(0.2),
});

/** Resolved ${Pascal} settings. */
export type ${Pascal}Settings = z.output<typeof ${camel}SettingsSchema>;
/** ${Pascal} settings as written by a user (every field optional). */
export type ${Pascal}SettingsInput = z.input<typeof ${camel}SettingsSchema>;
`,
  [`src/${name}-method.ts`]: `import {
  type MethodPrepareOptions,
  type PreparedMethodV1,
  parseSettings,
  type RecommenderMethodDefinition,
  type RecommenderMethodV1,
} from '@promax/core';
import type { Adjacency, GraphBuilder, SymbolicTensor } from '@promax/tensor';
import { type ${Pascal}Settings, type ${Pascal}SettingsInput, ${camel}SettingsSchema } from './settings.js';

type Prepared = PreparedMethodV1<GraphBuilder, SymbolicTensor, Adjacency>;

/**
 * TODO: describe the method and cite its paper. The template adds
 * weight · InfoNCE(z_u[u], z_i[i⁺], τ) over the batch (each user against every positive of the
 * batch) to the base model's BPR loss. A method never owns the trainer: it returns loss terms,
 * per-batch feeds, optional parameters and an optional scoring change, and \`runExperiment\` builds
 * them into the model's training graph.
 */
export class ${Pascal}Method implements RecommenderMethodV1<GraphBuilder, SymbolicTensor, Adjacency, ${Pascal}Settings> {
  readonly specificationVersion = 'v1';
  readonly methodId = '${name}';

  constructor(readonly settings: ${Pascal}Settings) {}

  async doPrepare(_options: MethodPrepareOptions): Promise<Prepared> {
    const { weight, temperature } = this.settings;
    return {
      report: { used: {}, active: ['${camel}'], notes: [] },
      doLoss: ({ g, batch, encode }) => {
        const z = encode('original');
        const u = g.gather(z.users, batch.users);
        const i = g.gather(z.items, batch.pos);
        return { ${camel}: g.mul(g.infoNce(u, i, temperature), weight) };
      },
      release: async () => {},
    };
  }
}

/** Creates the ${Pascal} method; settings are validated (unknown keys are errors). */
export function create${Pascal}(settings: ${Pascal}SettingsInput = {}): ${Pascal}Method {
  return new ${Pascal}Method(parseSettings(${camel}SettingsSchema, settings, { what: '${name} settings' }));
}

/** The plugin definition of ${Pascal}: \`promax methods\` and \`--method ${name}\` find it by the package name. */
export const ${camel}MethodDefinition: RecommenderMethodDefinition<${Pascal}Method, ${Pascal}Settings, ${Pascal}SettingsInput> = {
  kind: 'method',
  specificationVersion: 'v1',
  id: '${name}',
  packageName: '${pkg}',
  description: '${Pascal}: TODO one line for \`promax methods\` (template: in-batch user–item InfoNCE)',
  settingsSchema: ${camel}SettingsSchema,
  defaults: ${camel}SettingsSchema.parse({}),
  // Per canonical dataset name (amazon-book, yelp, steam, dbbook, ml100k), beneath the user's settings.
  presets: {},
  // The inputs it reads: profileEmbeddings, extraProfileEmbeddings, augmentedGraph (required or optional).
  inputs: [],
  zeroWeightSettings: { weight: 0 },
  // What \`promax tune\` searches by default: weight | scale | temperature | ratio, around each value.
  tunable: { weight: 'weight', temperature: 'temperature' },
  unsupportedReason: () => undefined,
  create: create${Pascal},
};
`,
  'src/index.ts': `export { create${Pascal}, ${Pascal}Method, ${camel}MethodDefinition } from './${name}-method.js';
export type { ${Pascal}Settings, ${Pascal}SettingsInput } from './settings.js';
export { ${camel}SettingsSchema } from './settings.js';
`,
  [`src/${name}.test.ts`]: `import { describeRecommenderMethod } from '@promax/testkit';
import { describe, expect, it } from 'vitest';
import { create${Pascal}, ${camel}MethodDefinition } from './index.js';

// The shared conformance suite: the method is done when it passes (on a graph model and on one without a graph).
describeRecommenderMethod('${name}', ${camel}MethodDefinition);

describe('${name}', () => {
  it('has documented defaults', () => {
    expect(create${Pascal}().settings).toEqual(${camel}MethodDefinition.defaults);
  });
  // TODO: compare the loss with a float64 reference written from the paper, on a tiny fixed example.
});
`,
  'README.md': `# ${pkg}

Method '${name}' for ProMax (\`RecommenderMethod\` v1): TODO what it adds to a base model, its
paper, the inputs it reads, and every setting with its default.

| setting       | default | meaning                       |
| ------------- | ------- | ----------------------------- |
| \`weight\`      | 0.1     | weight of the term (0: off)   |
| \`temperature\` | 0.2     | InfoNCE temperature τ         |

## Use

\`\`\`sh
pnpm promax train --dataset amazon-book --model lightgcn --method ${name} --out runs/lightgcn-${name}
pnpm promax reproduce --dataset amazon-book --methods promax,${name} --seeds 2025,2026,2027 --out runs/cmp
\`\`\`

\`\`\`ts
import { loadDataset } from '@promax/data';
import { lightGcnDefinition } from '@promax/model-lightgcn';
import { runExperiment } from '@promax/pipeline';
import { ${camel}MethodDefinition } from '${pkg}';

const { results } = await runExperiment({
  dataset: loadDataset('amazon-book'),
  model: { definition: lightGcnDefinition },
  methods: [{ definition: ${camel}MethodDefinition, settings: { weight: 0.05 } }],
});
\`\`\`
`,
};

writePackage(
  dir,
  files,
  `  pnpm install && pnpm build                  # link and build the new package
  npx vitest run ${relative(root, dir)}        # the method conformance suite
  pnpm promax methods                          # lists ${name}
  pnpm promax train --dataset amazon-book --model lightgcn --method ${name} --max-epochs 1 --out runs/${name}
Then edit src/${name}-method.ts, the settings and the README (see CONTRIBUTING.md).`,
);
