import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Root of this repository checkout (the folder holding pnpm-workspace.yaml), if found. */
export function findRepoRoot(start: string = dirname(fileURLToPath(import.meta.url))): string | undefined {
  let dir = resolve(start);
  for (;;) {
    if (existsSync(join(dir, 'pnpm-workspace.yaml'))) return dir;
    const up = dirname(dir);
    if (up === dir) return undefined;
    dir = up;
  }
}

/**
 * The external data directory: `PROMAX_DATA_DIR` when set, else `../shared/data` beside the
 * repository checkout when it exists. `undefined` when neither is available.
 */
export function resolveDataDir(env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (env.PROMAX_DATA_DIR) return resolve(env.PROMAX_DATA_DIR);
  const root = findRepoRoot();
  if (!root) return undefined;
  const shared = resolve(root, '..', 'shared', 'data');
  return existsSync(shared) ? shared : undefined;
}

/** The datasets bundled inside the repository (`<repo>/datasets`). */
export function bundledDataDir(): string | undefined {
  const root = findRepoRoot();
  if (!root) return undefined;
  const dir = join(root, 'datasets');
  return existsSync(dir) ? dir : undefined;
}

/**
 * Locates a file or folder of the external data directory for tests and tools.
 * Returns `{ path }` when present, else `{ reason }` saying why it is absent — callers skip
 * with that reason printed, never silently.
 */
export function locateData(
  ...parts: string[]
): { path: string; reason?: undefined } | { path?: undefined; reason: string } {
  const base = resolveDataDir();
  if (!base) {
    return { reason: 'no data directory: set PROMAX_DATA_DIR or place the shared data at ../shared/data' };
  }
  const path = join(base, ...parts);
  if (!existsSync(path)) return { reason: `${join(...parts)} is absent from the data directory ${base}` };
  return { path };
}
