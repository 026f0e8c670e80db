// Reads the workspace's package.json files (shared by the dependency checks and tsconfig sync).
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = join(dirname(fileURLToPath(import.meta.url)), '..');

export function listPackages() {
  const out = [];
  for (const group of ['packages', 'models', 'methods', 'apps', 'examples']) {
    const base = join(root, group);
    if (!existsSync(base)) continue;
    for (const name of readdirSync(base).sort()) {
      const file = join(base, name, 'package.json');
      if (!existsSync(file)) continue;
      const pkg = JSON.parse(readFileSync(file, 'utf8'));
      out.push({ group, dir: join(group, name), pkg });
    }
  }
  return out;
}

export function workspaceDeps(pkg, { dev = true } = {}) {
  const all = { ...pkg.dependencies, ...pkg.peerDependencies, ...(dev ? pkg.devDependencies : {}) };
  return Object.keys(all).filter((d) => d.startsWith('@promax/'));
}
