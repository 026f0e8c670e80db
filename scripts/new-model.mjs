#!/usr/bin/env node
// Scaffolds a base-model plugin package: node scripts/new-model.mjs NAME [--dir models]
// Writes models/NAME (package.json, tsconfig, vitest config, README, src/) with a working
// graph model (E + Â·E per layer, averaged) that passes the conformance suite, then tells you
// what to run. NAME: lowercase letters, digits and dashes (the package is @promax/model-NAME).
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { parseArgs } from 'node:util';
import { root } from './workspace.mjs';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { dir: { type: 'string', default: 'models' }, help: { type: 'boolean', short: 'h' } },
});
const name = positionals[0];
if (values.help || !name) {
  console.log('usage: node scripts/new-model.mjs NAME [--dir models]');
  process.exit(name ? 0 : 1);
}
if (!/^[a-z][a-z0-9]*(-[a-z0-9]+)*$/.test(name)) {
  console.error(
    `model name "${name}" must be kebab-case: lowercase letters and digits, dash-separated (e.g. "ngcf", "light-gcl")`,
  );
  process.exit(1);
}
const dir = join(root, values.dir, name);
if (existsSync(dir)) {
  console.error(`${relative(root, dir)} already exists; pick another name or remove it`);
  process.exit(1);
}

const words = name.split('-');
const Pascal = words.map((w) => w[0].toUpperCase() + w.slice(1)).join('');
const camel = Pascal[0].toLowerCase() + Pascal.slice(1);
const pkg = `@promax/model-${name}`;
const up = relative(dir, root).split('\\').join('/');

const files = {
  'package.json': `${JSON.stringify(
    {
      name: pkg,
      version: '0.1.0',
      description: `Base model '${name}' for ProMax.`,
      license: 'Apache-2.0',
      type: 'module',
      sideEffects: false,
      engines: { node: '>=20.11' },
      exports: {
        '.': { '@promax/source': './src/index.ts', types: './dist/index.d.ts', default: './dist/index.js' },
      },
      main: './dist/index.js',
      types: './dist/index.d.ts',
      files: ['dist', 'src', '!src/**/*.test.ts'],
      scripts: { build: 'tsc -b' },
      dependencies: { '@promax/core': 'workspace:*', '@promax/tensor': 'workspace:*', zod: '^4.1.0' },
      devDependencies: { '@promax/model-testkit': 'workspace:*' },
    },
    null,
    2,
  )}\n`,
  'tsconfig.json': `${JSON.stringify(
    {
      extends: `${up}/tsconfig.base.json`,
      compilerOptions: { rootDir: 'src', outDir: 'dist' },
      include: ['src'],
      exclude: ['src/**/*.test.ts', 'src/**/*.bench.ts'],
      references: [{ path: `${up}/packages/core` }, { path: `${up}/packages/tensor` }],
    },
    null,
    2,
  )}\n`,
  'vitest.config.ts': `import { projectConfig } from '${up}/scripts/vitest.shared.mjs';\n\nexport default projectConfig('${pkg}');\n`,
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

  constructor(readonly settings: ${Pascal}Settings) {}

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

/** Registry entry of the ${Pascal} plugin. */
export const ${camel}Definition: RecommenderModelDefinition<${Pascal}Model, ${Pascal}Settings, ${Pascal}SettingsInput> = {
  id: '${name}',
  packageName: '${pkg}',
  description: 'TODO: one line for \`promax models\`',
  settingsSchema: ${camel}SettingsSchema,
  defaults: ${camel}SettingsSchema.parse({}),
  create: create${Pascal},
};
`,
  'src/index.ts': `export { create${Pascal}, ${Pascal}Model, ${camel}Definition } from './${name}-model.js';
export type { ${Pascal}Settings, ${Pascal}SettingsInput } from './settings.js';
export { ${camel}SettingsSchema } from './settings.js';
`,
  [`src/${name}.test.ts`]: `import { describeRecommenderModel } from '@promax/model-testkit';
import { describe, expect, it } from 'vitest';
import { create${Pascal}, ${camel}Definition } from './index.js';

// The shared conformance suite: the model is done when it passes.
describeRecommenderModel('${name}', () => create${Pascal}({ embeddingSize: 8 }));

describe('${name}', () => {
  it('has documented defaults', () => {
    expect(create${Pascal}().settings).toEqual(${camel}Definition.defaults);
  });
  // TODO: compare doEncode with a float64 reference (see propagateReference in @promax/model-testkit).
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
import { create${Pascal} } from '${pkg}';
import { createModelTrainable, train } from '@promax/pipeline';

const trainable = await createModelTrainable({ model: create${Pascal}(), data, seed: 2025 });
const result = await train({ trainable, data, model: '${name}' });
\`\`\`
`,
};

mkdirSync(join(dir, 'src'), { recursive: true });
for (const [file, text] of Object.entries(files)) writeFileSync(join(dir, file), text);
console.log(`created ${relative(root, dir)} (${pkg}). Next:
  node scripts/sync-tsconfig.mjs && pnpm install --offline   # link the workspace package
  npx vitest run ${relative(root, dir)}                      # the conformance suite
  npx tsc -b ${relative(root, dir)}
Then edit src/${name}-model.ts, the settings, the README, and register it where models are listed (see CONTRIBUTING.md).`);
