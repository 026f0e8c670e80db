// Checks the dependency direction of shared/docs/style.md from the package.json files:
//   core → data, tensor → eval, retrieval, embed, profiles, llm, loss → models/*, methods/* → pipeline → apps/cli
// A package may depend only on packages of a strictly lower layer, and only apps (and examples)
// may depend on plugins (models/*, methods/*): libraries never import a concrete plugin. A
// plugin's tests may use the test kit and the pipeline (devDependencies, never shipped).
// Also: every declared dependency is imported somewhere in the package (src/, or bench/ for
// devDependencies), so package.json never lists what the code does not use.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { listPackages, root, workspaceDeps } from './workspace.mjs';

const LAYERS = {
  '@promax/core': 0,
  '@promax/data': 1,
  '@promax/tensor': 1,
  '@promax/eval': 2,
  '@promax/embed': 2,
  '@promax/profiles': 2,
  '@promax/loss': 2,
  '@promax/retrieval': 2.5, // may use eval's metrics
  '@promax/retrieval-faiss': 2.6,
  '@promax/pipeline': 5,
  '@promax/report': 5.2, // reads run directories; uses the pipeline's statistics
  '@promax/testkit': 5.5, // drives the real trainer; plugins use it in tests only
};
const PLUGIN_GROUPS = new Set(['models', 'methods']);
const TEST_ONLY = new Set(['@promax/testkit', '@promax/pipeline']);
const layerOf = (p) => {
  if (p.pkg.name in LAYERS) return LAYERS[p.pkg.name];
  if (PLUGIN_GROUPS.has(p.group)) return 4;
  if (p.group === 'apps' || p.group === 'examples') return 6;
  return undefined;
};

/** Every bare import specifier in the package's TypeScript/JavaScript sources (tests included). */
function importedPackages(dir) {
  const found = new Set();
  const walk = (d) => {
    for (const name of readdirSync(d)) {
      if (name === 'node_modules' || name === 'dist') continue;
      const path = join(d, name);
      if (statSync(path).isDirectory()) walk(path);
      else if (/\.(m?ts|m?js|tsx)$/.test(name)) {
        const text = readFileSync(path, 'utf8');
        for (const m of text.matchAll(/(?:from\s+|import\s*\(\s*|import\s+)['"]([^'"./][^'"]*)['"]/g)) {
          const spec = m[1];
          found.add(spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]);
        }
      }
    }
  };
  for (const sub of ['src', 'bench', 'test']) if (existsSync(join(dir, sub))) walk(join(dir, sub));
  for (const file of ['vitest.config.ts']) if (existsSync(join(dir, file))) found.add('vitest');
  return found;
}

const pkgs = listPackages();
const byName = new Map(pkgs.map((p) => [p.pkg.name, p]));
const errors = [];
for (const p of pkgs) {
  const mine = layerOf(p);
  if (mine === undefined) {
    errors.push(`${p.pkg.name} (${p.dir}) has no layer: add it to LAYERS in scripts/check-deps.mjs`);
    continue;
  }
  if (p.pkg.sideEffects !== false) errors.push(`${p.pkg.name}: set "sideEffects": false in package.json`);
  const dev = new Set(Object.keys(p.pkg.devDependencies ?? {}));
  for (const dep of workspaceDeps(p.pkg)) {
    const target = byName.get(dep);
    if (!target) {
      errors.push(`${p.pkg.name} depends on ${dep}, which is not a workspace package`);
      continue;
    }
    if (PLUGIN_GROUPS.has(target.group) && p.group !== 'apps' && p.group !== 'examples') {
      errors.push(`${p.pkg.name} depends on plugin ${dep}: only apps may import concrete models and methods`);
      continue;
    }
    if (dev.has(dep) && TEST_ONLY.has(dep) && !(dep in (p.pkg.dependencies ?? {}))) continue;
    const theirs = layerOf(target);
    if (!(theirs < mine)) {
      errors.push(
        `${p.pkg.name} (layer ${mine}) must not depend on ${dep} (layer ${theirs}): imports point down`,
      );
    }
  }
  // Declared but unused.
  const used = importedPackages(join(root, p.dir));
  for (const [field, deps] of [
    ['dependencies', p.pkg.dependencies],
    ['devDependencies', p.pkg.devDependencies],
    ['peerDependencies', p.pkg.peerDependencies],
  ]) {
    for (const dep of Object.keys(deps ?? {})) {
      if (dep.startsWith('@types/') || dep === 'typescript') continue;
      // An app's built-in plugins are found by naming convention at run time, not imported.
      if (p.group === 'apps' && PLUGIN_GROUPS.has(byName.get(dep)?.group)) continue;
      if (!used.has(dep))
        errors.push(`${p.pkg.name} declares ${dep} in ${field} but never imports it: remove it`);
    }
  }
}
if (errors.length) {
  console.error(`dependency check failed:\n  ${errors.join('\n  ')}`);
  process.exit(1);
}
console.log(`dependency direction ok, no unused dependencies (${pkgs.length} packages)`);
