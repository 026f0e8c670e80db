import { createHash } from 'node:crypto';
import { mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { type Matrix, type ProgressHandler, PromaxError } from '@promax/core';
import { type Embedder, type EmbeddingUsage, throwIfAborted } from './embedder.js';
import { decodeNpyFloat32, encodeNpyFloat32 } from './npy.js';

/** The manifest written next to each cached `.npy` (one JSON object). */
export interface EmbeddingCacheManifest {
  format: 'promax-embedding-cache';
  version: 1;
  provider: string;
  modelId: string;
  dimensions: number;
  count: number;
  /** sha256 of the ordered text list (hash of the per-text hashes joined by '\n'). */
  textsSha256: string;
  /** sha256 of each text, in row order. */
  textSha256: string[];
  /** File name of the matrix beside the manifest. */
  npy: string;
  /** sha256 of the `.npy` bytes, so a half-written pair is never trusted. */
  npySha256: string;
}

export interface EmbedWithCacheOptions {
  embedder: Embedder;
  texts: readonly string[];
  /** Folder for `<name>.npy` and `<name>.manifest.json`; created when missing. */
  cacheDir: string;
  /** File stem, e.g. `item-profiles` (letters, digits, `.`, `_`, `-`). */
  name: string;
  abortSignal?: AbortSignal;
  onProgress?: ProgressHandler;
  /** Write the cache after every this many `doEmbed` calls so a crash loses little (default 20). */
  checkpointEvery?: number;
}

export interface EmbedWithCacheResult {
  /** Row i is the vector of texts[i]. */
  matrix: Matrix;
  /** Rows taken from the cache. */
  reused: number;
  /** Distinct texts sent to the embedder. */
  embedded: number;
  usage: EmbeddingUsage;
  manifest: EmbeddingCacheManifest;
}

const sha256 = (data: string | Uint8Array): string => createHash('sha256').update(data).digest('hex');

/** sha256 of an ordered text list (what the manifest's `textsSha256` holds). */
export function hashTextList(texts: readonly string[]): { each: string[]; list: string } {
  const each = texts.map((t) => sha256(t));
  return { each, list: sha256(each.join('\n')) };
}

async function writeFileDurably(path: string, data: Uint8Array | string): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}`;
  const fh = await open(tmp, 'w');
  try {
    await fh.writeFile(data);
    await fh.sync();
  } finally {
    await fh.close();
  }
  await rename(tmp, path);
}

async function readCache(
  dir: string,
  name: string,
  onProgress?: ProgressHandler,
): Promise<{ manifest: EmbeddingCacheManifest; data: Float32Array } | undefined> {
  const manifestPath = join(dir, `${name}.manifest.json`);
  let manifest: EmbeddingCacheManifest;
  try {
    manifest = JSON.parse(await readFile(manifestPath, 'utf8')) as EmbeddingCacheManifest;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') {
      onProgress?.({
        type: 'warning',
        code: 'CACHE_UNREADABLE',
        message: `ignoring unreadable cache manifest ${manifestPath}`,
      });
    }
    return undefined;
  }
  if (
    manifest.format !== 'promax-embedding-cache' ||
    manifest.version !== 1 ||
    !Array.isArray(manifest.textSha256)
  ) {
    onProgress?.({
      type: 'warning',
      code: 'CACHE_UNREADABLE',
      message: `ignoring cache manifest of another format: ${manifestPath}`,
    });
    return undefined;
  }
  try {
    const bytes = await readFile(join(dir, manifest.npy));
    if (sha256(bytes) !== manifest.npySha256) throw new Error('the .npy does not match its manifest');
    const npy = decodeNpyFloat32(bytes, join(dir, manifest.npy));
    if (npy.shape.length !== 2 || npy.shape[0] !== manifest.count || npy.shape[1] !== manifest.dimensions) {
      throw new Error(`shape [${npy.shape.join(', ')}] disagrees with the manifest`);
    }
    return { manifest, data: npy.data };
  } catch (e) {
    onProgress?.({
      type: 'warning',
      code: 'CACHE_UNREADABLE',
      message: `ignoring cache ${name}: ${(e as Error).message}`,
    });
    return undefined;
  }
}

async function writeCache(
  dir: string,
  name: string,
  embedder: Embedder,
  dims: number,
  hashes: string[],
  rows: Float32Array[],
): Promise<EmbeddingCacheManifest> {
  const data = new Float32Array(rows.length * dims);
  for (const [i, r] of rows.entries()) data.set(r, i * dims);
  const npyName = `${name}.npy`;
  const bytes = encodeNpyFloat32(data, [rows.length, dims]);
  const manifest: EmbeddingCacheManifest = {
    format: 'promax-embedding-cache',
    version: 1,
    provider: embedder.provider,
    modelId: embedder.modelId,
    dimensions: dims,
    count: rows.length,
    textsSha256: sha256(hashes.join('\n')),
    textSha256: hashes,
    npy: npyName,
    npySha256: sha256(bytes),
  };
  await writeFileDurably(join(dir, npyName), bytes);
  await writeFileDurably(join(dir, `${name}.manifest.json`), `${JSON.stringify(manifest)}\n`);
  return manifest;
}

/**
 * Embeds texts through an on-disk cache: a `.npy` matrix plus a manifest of model, width and
 * per-text sha256. Identical inputs cost nothing; changed or new texts (by content hash) are
 * the only ones sent to the embedder; duplicates within the list are embedded once.
 */
export async function embedWithCache(options: EmbedWithCacheOptions): Promise<EmbedWithCacheResult> {
  const { embedder, texts, cacheDir, name, onProgress, abortSignal } = options;
  if (!/^[A-Za-z0-9._-]+$/.test(name)) {
    throw new PromaxError({
      code: 'INVALID_ARGUMENT',
      message: `cache name '${name}' must use only letters, digits, '.', '_' and '-'`,
      field: 'name',
    });
  }
  const checkpointEvery = options.checkpointEvery ?? 20;
  await mkdir(cacheDir, { recursive: true });
  const { each: hashes, list: listHash } = hashTextList(texts);
  const known = new Map<string, Float32Array>();
  let dims = embedder.dimensions;
  const cached = await readCache(cacheDir, name, onProgress);
  if (cached) {
    const m = cached.manifest;
    const sameModel = m.modelId === embedder.modelId && m.provider === embedder.provider;
    if (sameModel && (dims === undefined || dims === m.dimensions)) {
      dims = m.dimensions;
      for (const [i, h] of m.textSha256.entries()) {
        known.set(h, cached.data.subarray(i * m.dimensions, (i + 1) * m.dimensions));
      }
    } else {
      onProgress?.({
        type: 'info',
        message: `cache ${name} was made by ${m.provider}/${m.modelId} (${m.dimensions}-d); re-embedding with ${embedder.provider}/${embedder.modelId}`,
      });
    }
  }
  const missing: number[] = [];
  const seen = new Set<string>();
  hashes.forEach((h, i) => {
    if (!known.has(h) && !seen.has(h)) {
      seen.add(h);
      missing.push(i);
    }
  });
  const reused = texts.length - hashes.filter((h) => !known.has(h)).length;
  const task = `embed:${name}`;
  const started = Date.now();
  onProgress?.({ type: 'task-start', task, total: missing.length, unit: 'texts' });
  let tokens = 0;
  const step = Math.max(1, embedder.maxBatchSize);
  let calls = 0;
  const snapshot = async (): Promise<void> => {
    if (dims === undefined) return;
    const hs = [...known.keys()];
    await writeCache(
      cacheDir,
      name,
      embedder,
      dims,
      hs,
      hs.map((h) => known.get(h) as Float32Array),
    );
  };
  let sinceSnapshot = 0;
  try {
    for (let start = 0; start < missing.length; start += step) {
      throwIfAborted(abortSignal, 'embedding');
      const idx = missing.slice(start, start + step);
      const out = await embedder.doEmbed({ texts: idx.map((i) => texts[i] as string), abortSignal });
      if (out.embeddings.length !== idx.length) {
        throw new PromaxError({
          code: 'INVALID_RESPONSE',
          message: `embedder ${embedder.modelId} returned ${out.embeddings.length} vectors for ${idx.length} texts`,
        });
      }
      idx.forEach((i, k) => {
        const v = out.embeddings[k] as Float32Array;
        if (dims === undefined) dims = v.length;
        if (v.length !== dims) {
          throw new PromaxError({
            code: 'INVALID_RESPONSE',
            message: `embedder returned a ${v.length}-d vector, expected ${dims}`,
          });
        }
        known.set(hashes[i] as string, v);
      });
      tokens += out.usage.tokens;
      calls++;
      sinceSnapshot++;
      onProgress?.({
        type: 'task-progress',
        task,
        done: start + idx.length,
        total: missing.length,
        unit: 'texts',
      });
      if (checkpointEvery > 0 && calls % checkpointEvery === 0 && start + step < missing.length) {
        await snapshot();
        sinceSnapshot = 0;
      }
    }
  } catch (e) {
    // An endpoint that gave up, or Ctrl-C: keep what was paid for, so the rerun sends only the rest.
    if (sinceSnapshot > 0) await snapshot().catch(() => undefined);
    throw e;
  }
  onProgress?.({ type: 'task-end', task, done: missing.length, elapsedMs: Date.now() - started });
  const width = dims ?? 0;
  const rows = hashes.map((h) => known.get(h) as Float32Array);
  const data = new Float32Array(texts.length * width);
  for (const [i, r] of rows.entries()) data.set(r, i * width);
  let manifest: EmbeddingCacheManifest;
  if (
    cached &&
    missing.length === 0 &&
    cached.manifest.textsSha256 === listHash &&
    cached.manifest.modelId === embedder.modelId
  ) {
    manifest = cached.manifest;
  } else {
    manifest = await writeCache(cacheDir, name, embedder, width, hashes, rows);
  }
  return {
    matrix: { rows: texts.length, cols: width, data },
    reused,
    embedded: missing.length,
    usage: { tokens },
    manifest,
  };
}

/** Removes a cache pair (for tests and `--refresh`). */
export async function clearEmbeddingCache(cacheDir: string, name: string): Promise<void> {
  await rm(join(cacheDir, `${name}.npy`), { force: true });
  await rm(join(cacheDir, `${name}.manifest.json`), { force: true });
}
