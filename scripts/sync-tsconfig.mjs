// Regenerates each package's tsconfig project references from its package.json workspace
// dependencies (the build derives the package list itself: scripts/build.mjs).
import { readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { listPackages, root, workspaceDeps } from './workspace.mjs';

const pkgs = listPackages();
const byName = new Map(pkgs.map((p) => [p.pkg.name, p]));
for (const p of pkgs) {
  const file = join(root, p.dir, 'tsconfig.json');
  const ts = JSON.parse(readFileSync(file, 'utf8'));
  const refs = workspaceDeps(p.pkg, { dev: false })
    .filter((d) => byName.has(d))
    .map((d) => ({ path: relative(join(root, p.dir), join(root, byName.get(d).dir)) }));
  ts.references = refs;
  writeFileSync(file, `${JSON.stringify(ts, null, 2)}\n`);
}
console.log(`synced ${pkgs.length} tsconfig files`);
