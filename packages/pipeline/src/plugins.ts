import { existsSync, readdirSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  closestMatch,
  PromaxError,
  type RecommenderMethodDefinition,
  type RecommenderModelDefinition,
} from '@promax/core';
import type { RecommenderMethod, RecommenderModel } from './model-trainable.js';

// biome-ignore lint/suspicious/noExplicitAny: each definition has its own settings type
export type AnyModelDefinition = RecommenderModelDefinition<RecommenderModel, any, any>;
// biome-ignore lint/suspicious/noExplicitAny: each definition has its own settings type
export type AnyMethodDefinition = RecommenderMethodDefinition<RecommenderMethod, any, any>;

export type PluginKind = 'model' | 'method';

/** A plugin package found on disk (not yet imported). */
export interface PluginPackage {
  readonly kind: PluginKind;
  /** The id the package name implies (`@promax/model-lightgcn` → `lightgcn`). */
  readonly id: string;
  readonly packageName: string;
  /** The package folder (real path). */
  readonly dir: string;
  /** How it was found: a node_modules folder, a workspace folder, or a `plugins:` entry. */
  readonly foundVia: string;
}

/** A loaded plugin: its package and its validated definition. */
export type LoadedPlugin =
  | (PluginPackage & { readonly kind: 'model'; readonly definition: AnyModelDefinition })
  | (PluginPackage & { readonly kind: 'method'; readonly definition: AnyMethodDefinition });

export interface FindPluginsOptions {
  /** Where resolution starts (node_modules above it, the pnpm workspace around it); default `process.cwd()`. */
  readonly cwd?: string;
  /** Further folders whose node_modules are searched (e.g. the CLI's own package, for the built-ins). */
  readonly searchFrom?: readonly string[];
  /** Package names or folders listed in a config's `plugins:` (resolved from `cwd`). */
  readonly plugins?: readonly string[];
}

const PATTERNS: readonly { kind: PluginKind; scope: string | null; prefix: string }[] = [
  { kind: 'model', scope: '@promax', prefix: 'model-' },
  { kind: 'method', scope: '@promax', prefix: 'method-' },
  { kind: 'model', scope: null, prefix: 'promax-model-' },
  { kind: 'method', scope: null, prefix: 'promax-method-' },
];

/** The plugin kind and id a package name implies under the naming convention, if any. */
export function pluginNameInfo(packageName: string): { kind: PluginKind; id: string } | undefined {
  for (const p of PATTERNS) {
    const bare = p.scope
      ? packageName.startsWith(`${p.scope}/`)
        ? packageName.slice(p.scope.length + 1)
        : null
      : packageName;
    if (bare?.startsWith(p.prefix) && bare.length > p.prefix.length && !bare.includes('/')) {
      if (!p.scope && packageName.startsWith('@')) continue;
      return { kind: p.kind, id: bare.slice(p.prefix.length) };
    }
  }
  return undefined;
}

/** The package names a plugin id may have, in resolution order (ESLint's and Babel's convention). */
export function pluginPackageNames(kind: PluginKind, id: string): string[] {
  return [`@promax/${kind}-${id}`, `promax-${kind}-${id}`];
}

/**
 * Finds plugin packages without importing them: `@promax/model-*`, `promax-model-*`,
 * `@promax/method-*`, `promax-method-*` in every node_modules above `cwd` and `searchFrom`, every
 * member of the pnpm workspace around `cwd` (so a package scaffolded with `pnpm new:model` is
 * found with no edit elsewhere), and the config's `plugins:` entries. A package found twice (e.g.
 * a workspace link) counts once.
 */
export function findPluginPackages(options: FindPluginsOptions = {}): PluginPackage[] {
  const cwd = resolve(options.cwd ?? process.cwd());
  const found = new Map<string, PluginPackage>();
  const add = (dir: string, foundVia: string, explicit = false) => {
    const pkg = readPackageJson(dir);
    if (!pkg) return;
    const info = pluginNameInfo(pkg.name);
    if (!info) {
      if (explicit) {
        throw new PromaxError({
          code: 'INVALID_PLUGIN',
          file: join(dir, 'package.json'),
          message: `plugin package '${pkg.name}' is not named like a plugin`,
          fix: 'name it @promax/model-<id>, promax-model-<id>, @promax/method-<id> or promax-method-<id>',
        });
      }
      return;
    }
    const real = realpathSync(dir);
    if ([...found.values()].some((p) => p.dir === real)) return;
    const existing = found.get(pkg.name);
    if (existing) return; // the first folder wins (nearest node_modules, as Node resolves)
    found.set(pkg.name, { ...info, packageName: pkg.name, dir: real, foundVia });
  };
  for (const entry of options.plugins ?? []) {
    const dir =
      isAbsolute(entry) || entry.startsWith('.') ? resolve(cwd, entry) : findInNodeModules(entry, [cwd]);
    if (!dir || !readPackageJson(dir)) {
      throw new PromaxError({
        code: 'PLUGIN_NOT_FOUND',
        field: 'plugins',
        message: `plugin '${entry}' listed in plugins: was not found from ${cwd}`,
        fix: `install it (pnpm add ${entry}) or give the path of its folder`,
      });
    }
    add(dir, 'plugins:', true);
  }
  for (const base of [cwd, ...(options.searchFrom ?? [])]) {
    for (const nm of nodeModulesAbove(resolve(base))) {
      for (const name of listDir(nm)) {
        if (name === '@promax') {
          for (const sub of listDir(join(nm, name))) add(join(nm, name, sub), nm);
        } else if (name.startsWith('promax-')) add(join(nm, name), nm);
      }
    }
  }
  for (const dir of workspaceMembers(cwd)) add(dir, 'workspace');
  return [...found.values()].sort((a, b) => a.kind.localeCompare(b.kind) || a.id.localeCompare(b.id));
}

/** Imports a plugin package and validates the one definition of its kind it exports. */
export async function importPlugin(pkg: PluginPackage): Promise<LoadedPlugin> {
  const entry = entryFile(pkg.dir);
  if (!entry) {
    throw invalid(pkg, 'it has no importable entry (exports "." or main) — is it built?', 'run pnpm build');
  }
  let mod: Record<string, unknown>;
  try {
    mod = (await import(pathToFileURL(entry).href)) as Record<string, unknown>;
  } catch (cause) {
    throw invalid(
      pkg,
      `importing ${entry} failed: ${(cause as Error).message}`,
      'fix the error above or rebuild the package (pnpm build)',
      cause,
    );
  }
  const defs = [...new Set(Object.values(mod))].filter(
    (v): v is AnyModelDefinition | AnyMethodDefinition =>
      typeof v === 'object' &&
      v !== null &&
      ((v as { kind?: unknown }).kind === 'model' || (v as { kind?: unknown }).kind === 'method'),
  );
  const mine = defs.filter((d) => d.kind === pkg.kind);
  if (mine.length === 0) {
    throw invalid(
      pkg,
      `it exports no ${pkg.kind} definition`,
      `export a RecommenderModelDefinition/RecommenderMethodDefinition with kind: '${pkg.kind}' from its entry`,
    );
  }
  if (mine.length > 1) {
    throw invalid(
      pkg,
      `it exports ${mine.length} ${pkg.kind} definitions (${mine.map((d) => d.id).join(', ')})`,
      'export exactly one per package',
    );
  }
  const def = mine[0];
  const problems = definitionProblems(def, pkg);
  if (problems.length)
    throw invalid(
      pkg,
      `its definition is not valid: ${problems.join('; ')}`,
      'see CONTRIBUTING.md for the fields a definition needs',
    );
  return { ...pkg, definition: def } as LoadedPlugin;
}

/** Every installed plugin, imported and validated; two plugins with one id are an error. */
export async function loadPlugins(options: FindPluginsOptions = {}): Promise<LoadedPlugin[]> {
  const loaded = await Promise.all(findPluginPackages(options).map(importPlugin));
  const byKey = new Map<string, LoadedPlugin>();
  for (const p of loaded) {
    const key = `${p.kind}:${p.definition.id}`;
    const other = byKey.get(key);
    if (other) {
      throw new PromaxError({
        code: 'INVALID_PLUGIN',
        field: p.kind,
        message: `two ${p.kind} plugins are named '${p.definition.id}': ${other.packageName} (${other.dir}) and ${p.packageName} (${p.dir})`,
        fix: 'uninstall one of them, or rename one (its package name and definition id)',
      });
    }
    byKey.set(key, p);
  }
  return loaded;
}

/** Loads the model or method plugin named `id` (by package-name convention), or a named error. */
export async function loadPlugin(
  kind: 'model',
  id: string,
  options?: FindPluginsOptions,
): Promise<AnyModelDefinition>;
export async function loadPlugin(
  kind: 'method',
  id: string,
  options?: FindPluginsOptions,
): Promise<AnyMethodDefinition>;
export async function loadPlugin(
  kind: PluginKind,
  id: string,
  options: FindPluginsOptions = {},
): Promise<AnyModelDefinition | AnyMethodDefinition> {
  const all = findPluginPackages(options).filter((p) => p.kind === kind);
  const names = pluginPackageNames(kind, id);
  const matches = all.filter((p) => names.includes(p.packageName));
  if (matches.length === 0) {
    const ids = [...new Set(all.map((p) => p.id))];
    const near = closestMatch(id, ids);
    throw new PromaxError({
      code: 'PLUGIN_NOT_FOUND',
      field: kind,
      message: `unknown ${kind} '${id}'${near ? ` — did you mean '${near}'?` : ''}; looked for ${names.join(' and ')}`,
      fix: `use one of: ${ids.join(', ') || '(none installed)'}, or install ${names[0]}`,
    });
  }
  if (matches.length > 1) {
    throw new PromaxError({
      code: 'INVALID_PLUGIN',
      field: kind,
      message: `two ${kind} plugins are named '${id}': ${matches.map((m) => `${m.packageName} (${m.dir})`).join(' and ')}`,
      fix: 'uninstall one of them',
    });
  }
  const loaded = await importPlugin(matches[0]);
  if (loaded.definition.id !== id) {
    throw invalid(
      matches[0],
      `its definition's id is '${loaded.definition.id}', not '${id}'`,
      `set id: '${id}' in the definition`,
    );
  }
  return loaded.definition;
}

function definitionProblems(def: AnyModelDefinition | AnyMethodDefinition, pkg: PluginPackage): string[] {
  const out: string[] = [];
  if (def.specificationVersion !== 'v1')
    out.push(`specificationVersion is ${String(def.specificationVersion)}, not 'v1'`);
  if (typeof def.id !== 'string' || !/^[a-z][a-z0-9-]*$/.test(def.id))
    out.push('id must be lower-case letters, digits and -');
  else if (def.id !== pkg.id) out.push(`id '${def.id}' does not match the package name ${pkg.packageName}`);
  if (typeof def.description !== 'string' || !def.description) out.push('description is missing');
  if (typeof (def.settingsSchema as { safeParse?: unknown })?.safeParse !== 'function')
    out.push('settingsSchema is not a zod schema');
  if (typeof def.create !== 'function') out.push('create is not a function');
  if (def.kind === 'method' && !Array.isArray(def.inputs)) out.push('inputs must be an array');
  return out;
}

function invalid(pkg: PluginPackage, why: string, fix: string, cause?: unknown): PromaxError {
  return new PromaxError({
    code: 'INVALID_PLUGIN',
    file: pkg.dir,
    field: pkg.kind,
    message: `${pkg.kind} plugin package ${pkg.packageName} cannot be used: ${why}`,
    fix,
    cause,
  });
}

function readPackageJson(dir: string): { name: string; exports?: unknown; main?: string } | undefined {
  try {
    const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
    return typeof pkg?.name === 'string' ? pkg : undefined;
  } catch {
    return undefined;
  }
}

/**
 * When this module itself runs from its TypeScript source (tests, which transform TS), workspace
 * plugins load from theirs too (the `@promax/source` condition); built code loads built plugins.
 */
const CONDITIONS = import.meta.url.endsWith('.ts')
  ? ['@promax/source', 'import', 'node', 'default']
  : ['import', 'node', 'default'];

function entryFile(dir: string): string | undefined {
  const pkg = readPackageJson(dir);
  if (!pkg) return undefined;
  let target: unknown = pkg.exports;
  if (target && typeof target === 'object' && '.' in (target as object))
    target = (target as Record<string, unknown>)['.'];
  for (let guard = 0; guard < 8 && target && typeof target === 'object'; guard++) {
    const t = target as Record<string, unknown>;
    const key = CONDITIONS.find((c) => c in t);
    target = key ? t[key] : undefined;
  }
  const rel = typeof target === 'string' ? target : (pkg.main ?? 'index.js');
  const file = join(dir, rel);
  return existsSync(file) ? file : undefined;
}

function nodeModulesAbove(start: string): string[] {
  const out: string[] = [];
  let dir = start;
  for (;;) {
    const nm = join(dir, 'node_modules');
    if (isDir(nm)) out.push(nm);
    const up = dirname(dir);
    if (up === dir) return out;
    dir = up;
  }
}

function findInNodeModules(name: string, bases: readonly string[]): string | undefined {
  for (const base of bases) {
    for (const nm of nodeModulesAbove(resolve(base))) if (isDir(join(nm, name))) return join(nm, name);
  }
  return undefined;
}

/** Members of the pnpm workspace around `start` (its `packages:` globs of the form `dir/*` or `dir`). */
function workspaceMembers(start: string): string[] {
  let dir = resolve(start);
  for (;;) {
    const file = join(dir, 'pnpm-workspace.yaml');
    if (existsSync(file)) {
      const block = /^packages:\s*\n((?:[ \t]+.*\n?|\s*\n)*)/m.exec(readFileSync(file, 'utf8'))?.[1] ?? '';
      const globs = [...block.matchAll(/^\s*-\s*['"]?([^'"\s#]+)['"]?\s*$/gm)].map((m) => m[1]);
      const out: string[] = [];
      for (const g of globs) {
        if (g.endsWith('/*')) {
          const base = join(dir, g.slice(0, -2));
          for (const name of listDir(base)) out.push(join(base, name));
        } else if (!g.includes('*')) out.push(join(dir, g));
      }
      return out.filter((d) => existsSync(join(d, 'package.json')));
    }
    const up = dirname(dir);
    if (up === dir) return [];
    dir = up;
  }
}

function listDir(dir: string): string[] {
  try {
    return readdirSync(dir).sort();
  } catch {
    return [];
  }
}

function isDir(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}
