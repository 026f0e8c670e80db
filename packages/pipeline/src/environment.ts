import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { arch, cpus, platform, release, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Contents of `RUN_DIR/environment.json`: what ran, where. */
export interface EnvironmentInfo {
  node: string;
  platform: string;
  release: string;
  arch: string;
  cpus: number;
  cpu_model: string | null;
  memory_gb: number;
  /** `@promax/pipeline` and its dependencies, name → version (those that could be found). */
  packages: Record<string, string>;
  /** `git rev-parse HEAD` of the code, or null when git or the repository is unavailable. */
  git_commit: string | null;
  time: string;
}

export interface CollectEnvironmentOptions {
  /** Folder whose git commit is recorded (default: this package's folder, i.e. the code that ran). */
  cwd?: string;
  /** Extra name → version entries (e.g. the CLI's own version). */
  packages?: Record<string, string>;
}

const PACKAGE_DIR = dirname(dirname(fileURLToPath(import.meta.url)));

/** Gathers node/os/cpu facts, package versions and the git commit; never throws. */
export function collectEnvironment(options: CollectEnvironmentOptions = {}): EnvironmentInfo {
  const cpuList = cpus();
  return {
    node: process.version,
    platform: platform(),
    release: release(),
    arch: arch(),
    cpus: cpuList.length,
    cpu_model: cpuList[0]?.model ?? null,
    memory_gb: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    packages: { ...packageVersions(), ...options.packages },
    git_commit: gitCommit(options.cwd ?? PACKAGE_DIR),
    time: new Date().toISOString(),
  };
}

function readJson(path: string): Record<string, unknown> | undefined {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

function packageVersions(): Record<string, string> {
  const own = readJson(join(PACKAGE_DIR, 'package.json'));
  if (!own) return {};
  const out: Record<string, string> = {};
  if (typeof own.name === 'string' && typeof own.version === 'string') out[own.name] = own.version;
  const deps = Object.keys((own.dependencies as Record<string, string> | undefined) ?? {});
  for (const name of deps) {
    // Node resolution without `exports` restrictions: the nearest node_modules/<name>/package.json.
    for (let dir = PACKAGE_DIR; ; dir = dirname(dir)) {
      const candidate = join(dir, 'node_modules', name, 'package.json');
      if (existsSync(candidate)) {
        const v = readJson(candidate)?.version;
        if (typeof v === 'string') out[name] = v;
        break;
      }
      if (dirname(dir) === dir) break;
    }
  }
  return out;
}

function gitCommit(cwd: string): string | null {
  try {
    const out = execFileSync('git', ['rev-parse', 'HEAD'], {
      cwd,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
      timeout: 5000,
      windowsHide: true,
    }).trim();
    return /^[0-9a-f]{40,64}$/.test(out) ? out : null;
  } catch {
    return null;
  }
}
