// Checks the dependency direction of shared/docs/style.md from the package.json files:
//   core → data, tensor → eval, retrieval, embed, profiles, loss → models/* → pipeline → apps/cli
// A package may depend only on packages of a strictly lower layer, and only apps (and
// examples) may depend on models: libraries never import a concrete model.
import { listPackages, workspaceDeps } from './workspace.mjs';

const LAYERS = {
  '@promax/core': 0,
  '@promax/data': 1,
  '@promax/tensor': 1,
  '@promax/eval': 2,
  '@promax/embed': 2,
  '@promax/profiles': 2,
  '@promax/loss': 2,
  '@promax/llm-local': 2.2, // implements the profiles package's chat-client interface
  '@promax/retrieval': 2.5, // may use eval's metrics
  '@promax/retrieval-faiss': 2.6,
  '@promax/model-testkit': 3,
  '@promax/pipeline': 5,
};
const layerOf = (p) => {
  if (p.pkg.name in LAYERS) return LAYERS[p.pkg.name];
  if (p.group === 'models') return 4;
  if (p.group === 'apps' || p.group === 'examples') return 6;
  return undefined;
};

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
  for (const dep of workspaceDeps(p.pkg)) {
    const target = byName.get(dep);
    if (!target) {
      errors.push(`${p.pkg.name} depends on ${dep}, which is not a workspace package`);
      continue;
    }
    if (target.group === 'models' && p.group !== 'apps' && p.group !== 'examples') {
      errors.push(`${p.pkg.name} depends on model ${dep}: only apps may import concrete models`);
      continue;
    }
    const theirs = layerOf(target);
    if (!(theirs < mine)) {
      errors.push(
        `${p.pkg.name} (layer ${mine}) must not depend on ${dep} (layer ${theirs}): imports point down`,
      );
    }
  }
}
if (errors.length) {
  console.error(`dependency direction check failed:\n  ${errors.join('\n  ')}`);
  process.exit(1);
}
console.log(`dependency direction ok (${pkgs.length} packages)`);
