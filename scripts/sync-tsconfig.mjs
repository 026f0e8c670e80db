// Regenerates tsconfig project references from package.json workspace dependencies.
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
writeFileSync(
  join(root, 'tsconfig.json'),
  `${JSON.stringify({ files: [], references: pkgs.map((p) => ({ path: p.dir })) }, null, 2)}\n`,
);
console.log(`synced ${pkgs.length} tsconfig files`);
