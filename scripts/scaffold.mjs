// What `pnpm new:model` and `pnpm new:method` share: name checks and the package files every
// plugin has (package.json, tsconfig, vitest config, CHANGELOG). Everything is written inside the
// new folder: the build, the tests, `promax models|methods` and `--model|--method` find the package
// by its name, so nothing elsewhere is edited (pnpm-lock.yaml aside, after `pnpm install`).
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { parseArgs } from 'node:util';
import { root } from './workspace.mjs';

/** Parses `NAME [--dir D]`, checks the name, and returns the names a template needs. */
export function scaffoldTarget(kind, defaultDir) {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { dir: { type: 'string', default: defaultDir }, help: { type: 'boolean', short: 'h' } },
  });
  const name = positionals[0];
  if (values.help || !name) {
    console.log(`usage: pnpm new:${kind} NAME [--dir ${defaultDir}]`);
    process.exit(name ? 0 : 1);
  }
  if (!/^[a-z][a-z0-9]*(-[a-z0-9]+)*$/.test(name)) {
    console.error(
      `${kind} name "${name}" must be kebab-case: lowercase letters and digits, dash-separated (e.g. "ngcf", "light-gcl")`,
    );
    process.exit(1);
  }
  const dir = join(root, values.dir, name);
  if (existsSync(dir)) {
    console.error(`${relative(root, dir)} already exists; pick another name or remove it`);
    process.exit(1);
  }
  const Pascal = name
    .split('-')
    .map((w) => w[0].toUpperCase() + w.slice(1))
    .join('');
  return {
    name,
    dir,
    Pascal,
    camel: Pascal[0].toLowerCase() + Pascal.slice(1),
    pkg: `@promax/${kind}-${name}`,
    up: relative(dir, root).split('\\').join('/'),
  };
}

/** The files every plugin package has, for `deps` (workspace package names) at the given layer. */
export function packageFiles({ pkg, up, description, deps, devDeps }) {
  const workspace = (names) => Object.fromEntries(names.map((n) => [n, 'workspace:*']));
  return {
    'package.json': `${JSON.stringify(
      {
        name: pkg,
        version: '0.1.0',
        description,
        license: 'Apache-2.0',
        type: 'module',
        sideEffects: false,
        engines: { node: '>=20.11' },
        exports: {
          '.': { '@promax/source': './src/index.ts', types: './dist/index.d.ts', default: './dist/index.js' },
        },
        main: './dist/index.js',
        types: './dist/index.d.ts',
        files: ['dist', 'src', '!src/**/*.test.ts', 'CHANGELOG.md'],
        scripts: { build: 'tsc -b' },
        dependencies: { ...workspace(deps), zod: '^4.1.0' },
        devDependencies: workspace(devDeps),
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
        references: deps.map((d) => ({ path: `${up}/packages/${d.replace('@promax/', '')}` })),
      },
      null,
      2,
    )}\n`,
    'vitest.config.ts': `import { projectConfig } from '${up}/scripts/vitest.shared.mjs';\n\nexport default projectConfig('${pkg}');\n`,
    // The package's first changelog entry, in the format `changeset version` writes; run
    // `pnpm changeset` for later changes.
    'CHANGELOG.md': `# ${pkg}\n\n## 0.1.0\n\n### Minor Changes\n\n- First version of ${pkg}.\n`,
  };
}

/** Writes the files and prints what to run next. */
export function writePackage(dir, files, next) {
  for (const [file, text] of Object.entries(files)) {
    mkdirSync(join(dir, file, '..'), { recursive: true });
    writeFileSync(join(dir, file), text);
  }
  console.log(`created ${relative(root, dir)}. Next:\n${next}`);
}
