import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { PromaxError } from '@promax/core';
import { decodeNpyFloat32, encodeNpyFloat32 } from './npy-float32.js';
import { assertStateDict, type StateDict } from './trainable.js';

/** External ids of the dataset's users / items, row order (index → original id). */
export interface IdMaps {
  users?: ArrayLike<string | number | bigint>;
  items?: ArrayLike<string | number | bigint>;
}

/** Contents of `checkpoint/meta.json`. */
export interface CheckpointMeta {
  format: 'promax-checkpoint';
  version: 1;
  /** The epoch whose parameters are stored (null if unknown). */
  epoch: number | null;
  /** The resolved run config, verbatim. */
  config?: unknown;
  /** Parameter name → its file (in the checkpoint folder), shape and dtype. */
  tensors: Record<string, { file: string; shape: number[]; dtype: 'float32' }>;
  idMaps?: { users?: (string | number)[]; items?: (string | number)[] };
  extra?: Record<string, unknown>;
  created: string;
}

export interface SaveCheckpointInput {
  state: StateDict;
  epoch?: number | null;
  config?: unknown;
  idMaps?: IdMaps;
  /** Anything else JSON-serialisable to keep (e.g. the sampler's rng state). */
  extra?: Record<string, unknown>;
}

export interface LoadCheckpointOptions {
  /**
   * The state the caller will load into (typically `trainable.getState()`): every name must be
   * present with the same shape, and no extra names may appear.
   */
  expect?: Record<string, { shape: readonly number[] }>;
}

const META = 'meta.json';
let tmpCounter = 0;

/**
 * Writes `dir/<param>.npy` (float32, C order) for every tensor plus `dir/meta.json`. The folder is
 * written beside `dir` first and swapped in, so an interrupted save never leaves a half-written
 * checkpoint in place of a good one. No pickle anywhere.
 */
export async function saveCheckpoint(dir: string, input: SaveCheckpointInput): Promise<CheckpointMeta> {
  assertStateDict(input.state, 'checkpoint');
  const tensors: CheckpointMeta['tensors'] = {};
  const used = new Set<string>();
  const tmp = join(dirname(dir), `.${basename(dir)}.tmp-${process.pid}-${tmpCounter++}`);
  await rm(tmp, { recursive: true, force: true });
  await mkdir(tmp, { recursive: true });
  try {
    for (const [name, t] of Object.entries(input.state)) {
      const file = uniqueFileName(name, used);
      tensors[name] = { file, shape: [...t.shape], dtype: 'float32' };
      await writeFile(join(tmp, file), encodeNpyFloat32(t.shape, t.data));
    }
    const meta: CheckpointMeta = {
      format: 'promax-checkpoint',
      version: 1,
      epoch: input.epoch ?? null,
      config: input.config,
      tensors,
      idMaps: input.idMaps
        ? { users: idList(input.idMaps.users), items: idList(input.idMaps.items) }
        : undefined,
      extra: input.extra,
      created: new Date().toISOString(),
    };
    await writeFile(join(tmp, META), `${JSON.stringify(meta, null, 2)}\n`);
    const old = join(dirname(dir), `.${basename(dir)}.old-${process.pid}-${tmpCounter++}`);
    const hadOld = await rename(dir, old).then(
      () => true,
      (e: NodeJS.ErrnoException) => {
        if (e.code === 'ENOENT') return false;
        throw e;
      },
    );
    await rename(tmp, dir);
    if (hadOld) await rm(old, { recursive: true, force: true });
    return meta;
  } catch (e) {
    await rm(tmp, { recursive: true, force: true });
    throw e;
  }
}

/** Reads a checkpoint written by `saveCheckpoint`, validating every file against meta.json. */
export async function loadCheckpoint(
  dir: string,
  options: LoadCheckpointOptions = {},
): Promise<{ state: StateDict; meta: CheckpointMeta }> {
  const metaPath = join(dir, META);
  const meta = parseMeta(await readOrFail(metaPath), metaPath);
  const state: StateDict = {};
  for (const [name, entry] of Object.entries(meta.tensors)) {
    const path = join(dir, entry.file);
    const t = decodeNpyFloat32(await readOrFail(path), path);
    if (!sameShape(t.shape, entry.shape)) {
      throw new PromaxError({
        code: 'INVALID_FILE',
        file: path,
        field: name,
        message: `holds shape [${t.shape.join(', ')}] but meta.json records [${entry.shape.join(', ')}] for "${name}"`,
        fix: 'the checkpoint is inconsistent: save it again',
      });
    }
    state[name] = t;
  }
  if (options.expect) checkStateMatches(options.expect, state, dir, meta);
  return { state, meta };
}

/**
 * Throws SHAPE_MISMATCH naming the first parameter that is missing, unexpected or of another
 * shape when a loaded state is compared with what a model expects.
 */
export function checkStateMatches(
  expected: Record<string, { shape: readonly number[] }>,
  actual: StateDict,
  source = 'checkpoint',
  meta?: CheckpointMeta,
): void {
  const fileOf = (name: string): string =>
    meta?.tensors[name] ? join(source, meta.tensors[name].file) : source;
  for (const [name, e] of Object.entries(expected)) {
    const a = actual[name];
    if (!a) {
      throw new PromaxError({
        code: 'SHAPE_MISMATCH',
        file: source,
        field: name,
        message: `parameter "${name}" is missing from the checkpoint (it has: ${Object.keys(actual).join(', ') || 'nothing'})`,
        fix: 'load a checkpoint of the same model and config',
      });
    }
    if (!sameShape(a.shape, e.shape)) {
      throw new PromaxError({
        code: 'SHAPE_MISMATCH',
        file: fileOf(name),
        field: name,
        message: `parameter "${name}" has shape [${a.shape.join(', ')}] in the checkpoint but the model expects [${e.shape.join(', ')}]`,
        fix: 'use the same dataset and embedding size as the run that wrote the checkpoint',
        details: { checkpoint: a.shape, expected: [...e.shape] },
      });
    }
  }
  for (const name of Object.keys(actual)) {
    if (!(name in expected)) {
      throw new PromaxError({
        code: 'SHAPE_MISMATCH',
        file: fileOf(name),
        field: name,
        message: `the checkpoint has parameter "${name}", which the model does not (it expects: ${Object.keys(expected).join(', ')})`,
        fix: 'load a checkpoint of the same model and config',
      });
    }
  }
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

function uniqueFileName(name: string, used: Set<string>): string {
  let stem = name.replace(/[^A-Za-z0-9._-]/g, '_').replace(/^\.+/, '_') || '_';
  if (stem.length > 120) stem = stem.slice(0, 120);
  let file = `${stem}.npy`;
  // Compare case-insensitively: macOS and Windows file systems do.
  for (let n = 2; used.has(file.toLowerCase()); n++) file = `${stem}~${n}.npy`;
  used.add(file.toLowerCase());
  return file;
}

function idList(ids: IdMaps['users']): (string | number)[] | undefined {
  if (!ids) return undefined;
  return Array.from(ids, (v) => (typeof v === 'bigint' ? v.toString() : v));
}

async function readOrFail(path: string): Promise<Uint8Array> {
  try {
    return await readFile(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new PromaxError({
      code: code === 'ENOENT' ? 'FILE_NOT_FOUND' : 'INVALID_FILE',
      file: path,
      message:
        code === 'ENOENT'
          ? 'checkpoint file is missing'
          : `cannot read checkpoint file: ${(e as Error).message}`,
      fix: 'point at a folder written by saveCheckpoint (it holds meta.json and one .npy per parameter)',
      cause: e,
    });
  }
}

function parseMeta(bytes: Uint8Array, path: string): CheckpointMeta {
  const fail = (message: string): never => {
    throw new PromaxError({ code: 'INVALID_FILE', file: path, message, fix: 'save the checkpoint again' });
  };
  let meta: unknown;
  try {
    meta = JSON.parse(new TextDecoder().decode(bytes));
  } catch (e) {
    return fail(`is not valid JSON: ${(e as Error).message}`);
  }
  const m = meta as Partial<CheckpointMeta>;
  if (typeof m !== 'object' || m === null || m.format !== 'promax-checkpoint')
    fail('is not a ProMax checkpoint meta.json');
  if (m.version !== 1) fail(`has checkpoint version ${String(m.version)}; this version reads version 1`);
  if (typeof m.tensors !== 'object' || m.tensors === null) fail('has no "tensors" table');
  for (const [name, t] of Object.entries(m.tensors as Record<string, unknown>)) {
    const e = t as Partial<CheckpointMeta['tensors'][string]>;
    if (
      typeof e?.file !== 'string' ||
      basename(e.file) !== e.file ||
      e.file === '..' ||
      !Array.isArray(e.shape)
    ) {
      fail(`has an invalid entry for tensor "${name}" (expected { file: "<name>.npy", shape: [...] })`);
    }
    if (e.dtype !== 'float32')
      fail(`records dtype ${String(e.dtype)} for "${name}"; only float32 is supported`);
  }
  return m as CheckpointMeta;
}
