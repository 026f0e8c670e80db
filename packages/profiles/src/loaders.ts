import { readFile } from 'node:fs/promises';
import { gunzipSync } from 'node:zlib';
import { PromaxError } from '@promax/core';
import type { ProfileOutput } from './output.js';
import type { ResultStore } from './result-store.js';

/** A profile text of one user or item, however it was obtained. */
export interface ProfileEntry {
  id: string;
  profile: string;
  reasoning?: string;
  /** Marked unusable by its authors (e.g. DBbook's broken.txt). */
  flaggedBroken?: boolean;
}

async function readText(path: string): Promise<string> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (cause) {
    throw new PromaxError({
      code: 'FILE_NOT_FOUND',
      message: `cannot read ${path}: ${(cause as Error).message}`,
      file: path,
      cause,
    });
  }
  const isGzip = bytes[0] === 0x1f && bytes[1] === 0x8b;
  try {
    return (isGzip ? gunzipSync(bytes) : bytes).toString('utf8');
  } catch (cause) {
    throw new PromaxError({
      code: 'INVALID_FILE',
      message: `corrupt gzip data: ${(cause as Error).message}`,
      file: path,
      cause,
    });
  }
}

const byId = (a: ProfileEntry, b: ProfileEntry): number => {
  const na = Number(a.id);
  const nb = Number(b.id);
  return Number.isFinite(na) && Number.isFinite(nb) ? na - nb : a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
};

/**
 * Reads RLMRec-style profiles: a JSON object `{ "<id>": { "profile": str, "reasoning": str } }`
 * (also accepts `summarization` in place of `profile`, as in the raw LLM output). Sorted by id.
 */
export async function loadRlmrecProfiles(path: string): Promise<ProfileEntry[]> {
  let data: unknown;
  try {
    data = JSON.parse(await readText(path));
  } catch (cause) {
    if (PromaxError.isInstance(cause)) throw cause;
    throw new PromaxError({
      code: 'INVALID_FILE',
      message: `not valid JSON: ${(cause as Error).message}`,
      file: path,
      cause,
    });
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    throw new PromaxError({
      code: 'INVALID_FILE',
      message: 'expected a JSON object of id → {profile, reasoning}',
      file: path,
    });
  }
  const out: ProfileEntry[] = [];
  for (const [id, v] of Object.entries(data as Record<string, unknown>)) {
    const rec = v as { profile?: unknown; summarization?: unknown; reasoning?: unknown } | null;
    const profile = rec?.profile ?? rec?.summarization;
    if (typeof profile !== 'string') {
      throw new PromaxError({
        code: 'INVALID_FILE',
        message: `entry ${id} has no string "profile"`,
        file: path,
        field: id,
      });
    }
    const entry: ProfileEntry = { id, profile };
    if (typeof rec?.reasoning === 'string') entry.reasoning = rec.reasoning;
    out.push(entry);
  }
  return out.sort(byId);
}

/**
 * Reads JSON-lines profiles (plain or gzipped), e.g. DBbook's
 * `{"user": int, "profile": str, "flagged_broken": bool}`. The id field is `idField` or the
 * first of `user`, `item`, `id` present. Errors name the file and line.
 */
export async function loadProfilesJsonl(
  path: string,
  options: { idField?: string } = {},
): Promise<ProfileEntry[]> {
  const lines = (await readText(path)).split('\n');
  const out: ProfileEntry[] = [];
  lines.forEach((line, i) => {
    if (!line.trim()) return;
    let rec: Record<string, unknown>;
    try {
      rec = JSON.parse(line) as Record<string, unknown>;
    } catch (cause) {
      throw new PromaxError({
        code: 'INVALID_FILE',
        message: `line ${i + 1} is not valid JSON`,
        file: path,
        details: { line: i + 1 },
        cause,
      });
    }
    const field = options.idField ?? ['user', 'item', 'id'].find((f) => f in rec);
    const id = field === undefined ? undefined : rec[field];
    const profile = rec.profile ?? rec.summarization;
    if ((typeof id !== 'number' && typeof id !== 'string') || typeof profile !== 'string') {
      throw new PromaxError({
        code: 'INVALID_FILE',
        message: `line ${i + 1} needs an id (${options.idField ?? 'user, item or id'}) and a string "profile"`,
        file: path,
        details: { line: i + 1 },
      });
    }
    const entry: ProfileEntry = { id: String(id), profile };
    if (typeof rec.reasoning === 'string') entry.reasoning = rec.reasoning;
    if (typeof rec.flagged_broken === 'boolean') entry.flaggedBroken = rec.flagged_broken;
    out.push(entry);
  });
  return out;
}

/**
 * The profiles of one kind held by a result store (latest success per entity for the given
 * model, or for any model when omitted; with several prompt hashes per entity the last
 * written wins). `variant` picks an extra profile variant (default 0: the main profiles).
 * Sorted by id.
 */
export function profilesFromStore(
  store: ResultStore,
  options: { kind: 'item' | 'user'; model?: string; variant?: number },
): ProfileEntry[] {
  const latest = new Map<string, ProfileEntry>();
  for (const r of store.records()) {
    if (r.type !== 'success' || r.kind !== `${options.kind}-profile`) continue;
    if ((r.key.variant ?? 0) !== (options.variant ?? 0)) continue;
    if (options.model !== undefined && r.key.model !== options.model) continue;
    const out = r.output as ProfileOutput;
    latest.set(r.key.id, { id: r.key.id, profile: out.summarization, reasoning: out.reasoning });
  }
  return [...latest.values()].sort(byId);
}
