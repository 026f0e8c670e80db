import { existsSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { PromaxError } from '@promax/core';
import { writeFileAtomic } from '@promax/data';
import { loadProfilesJsonl, loadRlmrecProfiles, type ProfileEntry } from './loaders.js';

export type ProfileKind = 'user' | 'item';

/**
 * How profile ids are read: `raw` — the dataset's original ids (our JSONL, DBbook's JSONL);
 * `dense` — dense row indices (RLMRec's `{id: {profile, reasoning}}` JSON, keyed by uid/iid).
 */
export type IdSpace = 'raw' | 'dense';

export interface ProfileFile {
  kind: ProfileKind;
  path: string;
  format: 'jsonl' | 'rlmrec-json';
  idSpace: IdSpace;
}

/** The file written by `promax profiles` and the manifest beside it. */
export const PROFILE_OUTPUT = { user: 'user_profiles.jsonl', item: 'item_profiles.jsonl' } as const;
export const PROFILES_MANIFEST = 'profiles_manifest.json';

/**
 * The profile file of a kind and variant written by `promax profiles`: `user_profiles.jsonl` for
 * the main profiles (variant 0), `user_profiles_k.jsonl` for extra profile variant k.
 */
export function profileOutputFile(kind: ProfileKind, variant = 0): string {
  return variant === 0 ? PROFILE_OUTPUT[kind] : PROFILE_OUTPUT[kind].replace(/\.jsonl$/, `_${variant}.jsonl`);
}

const VARIANT_FILE = /^(user|item)_profiles_([1-9][0-9]*)\.jsonl(\.gz)?$/;

/** The extra profile variants of one folder, in variant order, with the files of each side found. */
export interface ProfileVariantFiles {
  variant: number;
  user?: ProfileFile;
  item?: ProfileFile;
}

/**
 * Extra profile variant files in a folder (`user_profiles_k.jsonl(.gz)` /
 * `item_profiles_k.jsonl(.gz)`, as `promax profiles --variants N` writes them), sorted by k;
 * empty when there are none or `dir` is not a folder.
 */
export function findProfileVariants(dir: string): ProfileVariantFiles[] {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) return [];
  const byVariant = new Map<number, ProfileVariantFiles>();
  for (const name of readdirSync(dir).sort()) {
    const m = VARIANT_FILE.exec(name);
    if (!m) continue;
    const kind = m[1] as ProfileKind;
    const variant = Number(m[2]);
    const entry = byVariant.get(variant) ?? { variant };
    // the plain .jsonl (sorted first) wins over a .jsonl.gz of the same variant
    entry[kind] ??= describe(kind, join(dir, name));
    byVariant.set(variant, entry);
  }
  return [...byVariant.values()].sort((a, b) => a.variant - b.variant);
}

const CANDIDATES: Record<ProfileKind, string[]> = {
  user: ['user_profiles.jsonl', 'user_profiles.jsonl.gz', 'usr_prf.json', 'user_profiles.json'],
  item: ['item_profiles.jsonl', 'item_profiles.jsonl.gz', 'itm_prf.json', 'item_profiles.json'],
};

const formatOf = (path: string): ProfileFile['format'] =>
  /\.json(\.gz)?$/i.test(path) ? 'rlmrec-json' : 'jsonl';

function describe(kind: ProfileKind, path: string): ProfileFile {
  const format = formatOf(path);
  return { kind, path, format, idSpace: format === 'rlmrec-json' ? 'dense' : 'raw' };
}

/** The profile file of one kind inside a folder, if any. */
export function findProfileFile(dir: string, kind: ProfileKind): ProfileFile | undefined {
  const hit = CANDIDATES[kind].map((f) => join(dir, f)).find((p) => existsSync(p));
  return hit ? describe(kind, hit) : undefined;
}

function readMaybeGzip(path: string): string {
  const bytes = readFileSync(path);
  return (bytes[0] === 0x1f && bytes[1] === 0x8b ? gunzipSync(bytes) : bytes).toString('utf8');
}

/** Which kind a single profile file holds: from its name (user/usr, item/itm), else from its first line's id field. */
export function kindOfFile(path: string): ProfileKind {
  const name = basename(path).toLowerCase();
  const byName = /(^|[^a-z])(user|usr)/.test(name)
    ? 'user'
    : /(^|[^a-z])(item|itm)/.test(name)
      ? 'item'
      : undefined;
  if (byName) return byName;
  if (formatOf(path) === 'jsonl') {
    const first = readMaybeGzip(path)
      .split('\n')
      .find((l) => l.trim());
    try {
      const rec = JSON.parse(first ?? '') as Record<string, unknown>;
      if ('user' in rec) return 'user';
      if ('item' in rec) return 'item';
    } catch {
      // reported below
    }
  }
  throw new PromaxError({
    code: 'INVALID_ARGUMENT',
    field: '--profiles',
    file: path,
    message: 'cannot tell whether this file holds user or item profiles',
    fix: 'name it user_profiles.jsonl / item_profiles.jsonl (or usr_prf.json / itm_prf.json), or pass the folder holding both',
  });
}

/**
 * Profile files named by `--profiles`: a folder (user and/or item files by their usual names) or
 * one file. Throws FILE_NOT_FOUND naming the flag when nothing usable is there.
 */
export function locateProfiles(path: string): Partial<Record<ProfileKind, ProfileFile>> {
  if (!existsSync(path)) {
    throw new PromaxError({
      code: 'FILE_NOT_FOUND',
      field: '--profiles',
      file: path,
      message: `--profiles ${path} does not exist`,
      fix: 'pass the --out folder of `promax profiles`, a dataset folder with user_profiles.jsonl(.gz), or one profile file',
    });
  }
  if (statSync(path).isDirectory()) {
    const out: Partial<Record<ProfileKind, ProfileFile>> = {};
    for (const kind of ['user', 'item'] as const) {
      const f = findProfileFile(path, kind);
      if (f) out[kind] = f;
    }
    if (!out.user && !out.item) {
      throw new PromaxError({
        code: 'FILE_NOT_FOUND',
        field: '--profiles',
        file: path,
        message: `no profile files in ${path} (looked for ${[...CANDIDATES.user, ...CANDIDATES.item].join(', ')})`,
        fix: 'run `promax profiles ... --out DIR` first, or pass a folder or file holding profiles',
      });
    }
    return out;
  }
  const kind = kindOfFile(path);
  return { [kind]: describe(kind, path) };
}

export interface LoadedProfiles {
  file: ProfileFile;
  entries: ProfileEntry[];
  /** Entries the authors flagged as broken (DBbook's broken.txt); left out of `entries`. */
  flaggedBroken: string[];
}

/** Reads a profile file (JSONL or RLMRec JSON, gzip detected); flagged-broken profiles are set aside. */
export async function readProfileFile(file: ProfileFile): Promise<LoadedProfiles> {
  const all =
    file.format === 'rlmrec-json' ? await loadRlmrecProfiles(file.path) : await loadProfilesJsonl(file.path);
  const entries: ProfileEntry[] = [];
  const flaggedBroken: string[] = [];
  for (const e of all) {
    if (e.flaggedBroken) flaggedBroken.push(e.id);
    else entries.push(e);
  }
  return { file, entries, flaggedBroken };
}

/** Writes `{"user"|"item": id, "profile": text[, "reasoning": text]}` lines (ids as strings). */
export function writeProfilesJsonl(path: string, kind: ProfileKind, entries: readonly ProfileEntry[]): void {
  const lines = entries.map((e) => {
    const rec: Record<string, string> = { [kind]: e.id, profile: e.profile };
    if (e.reasoning !== undefined) rec.reasoning = e.reasoning;
    return JSON.stringify(rec);
  });
  writeTextAtomic(path, lines.length ? `${lines.join('\n')}\n` : '');
}

/**
 * A profile file as original id → text for a dataset (dense-id files are mapped through the
 * dataset's id map; ids outside it and "None" answers are left out).
 */
export async function loadProfileMap(
  file: ProfileFile,
  ids: readonly string[],
): Promise<{ map: Map<string, string>; notInDataset: number }> {
  const loaded = await readProfileFile(file);
  const known = new Set(ids);
  const map = new Map<string, string>();
  let notInDataset = 0;
  for (const e of loaded.entries) {
    const id = file.idSpace === 'dense' ? ids[Number(e.id)] : e.id;
    if (id === undefined || !known.has(id)) {
      notInDataset++;
      continue;
    }
    if (e.profile.trim() && !/^\s*none\.?\s*$/i.test(e.profile)) map.set(id, e.profile);
  }
  return { map, notInDataset };
}

function writeTextAtomic(path: string, text: string): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileAtomic(path, text);
}
