import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type ProgressHandler, PromaxError } from '@promax/core';
import type { RetrievalMetric } from '@promax/retrieval';
import type { LanceIndexSettings } from './settings.js';

export const MANIFEST_FILE = 'promax-lancedb.json';
const FORMAT = 'promax-lancedb/v1';

/** One table of the folder: which corpus it holds and how it was indexed. */
export interface TableEntry {
  /** SHA-256 prefix of the corpus shape and bytes. */
  fingerprint: string;
  metric: RetrievalMetric;
  rows: number;
  dim: number;
  index: LanceIndexSettings;
  buildMs?: number;
  builtAt?: string;
}

export interface FolderManifest {
  format: typeof FORMAT;
  tables: Record<string, TableEntry>;
}

export interface ManifestStore {
  /** The local manifest file, or null for object-storage folders without `manifestFile`. */
  readonly file: string | null;
  read(): FolderManifest;
  write(m: FolderManifest): void;
}

const empty = (): FolderManifest => ({ format: FORMAT, tables: {} });

/** Whether `dir` is a URI (s3://, gs://, az://, …) rather than a local path. */
export function isRemoteUri(dir: string): boolean {
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(dir);
}

/**
 * The manifest beside the tables (`DIR/promax-lancedb.json`), or `manifestFile` when given (the
 * way to keep reuse for object-storage folders). An unreadable manifest is corrupt: with
 * `onStale: 'rebuild'` it is reported through `onProgress` and replaced, else a PromaxError.
 */
export function openManifestStore(
  dir: string,
  options: { manifestFile?: string; onStale: 'rebuild' | 'error'; onProgress?: ProgressHandler },
): ManifestStore {
  const file = options.manifestFile ?? (isRemoteUri(dir) ? null : join(dir, MANIFEST_FILE));
  let memory = empty();
  if (file === null) {
    return {
      file,
      read: () => memory,
      write: (m) => {
        memory = m;
      },
    };
  }
  return {
    file,
    read(): FolderManifest {
      if (!existsSync(file)) return empty();
      let parsed: unknown;
      try {
        parsed = JSON.parse(readFileSync(file, 'utf8'));
      } catch (cause) {
        return corrupt(file, `it is not JSON (${(cause as Error).message})`, options);
      }
      const m = parsed as Partial<FolderManifest>;
      if (m?.format !== FORMAT || typeof m.tables !== 'object' || m.tables === null)
        return corrupt(file, `its format is ${JSON.stringify(m?.format)}, expected ${FORMAT}`, options);
      return m as FolderManifest;
    },
    write(m: FolderManifest): void {
      mkdirSync(join(file, '..'), { recursive: true });
      const tmp = `${file}.tmp-${process.pid}`;
      writeFileSync(tmp, `${JSON.stringify(m, null, 2)}\n`);
      renameSync(tmp, file);
    },
  };
}

function corrupt(
  file: string,
  why: string,
  options: { onStale: 'rebuild' | 'error'; onProgress?: ProgressHandler },
): FolderManifest {
  if (options.onStale === 'error') {
    throw new PromaxError({
      code: 'INVALID_FILE',
      file,
      message: `corrupt LanceDB index manifest: ${why}`,
      fix: "delete the index folder, or set onStale: 'rebuild'",
    });
  }
  options.onProgress?.({
    type: 'info',
    message: `LanceDB index manifest ${file} is corrupt (${why}); its tables will be rebuilt`,
    data: { file, reason: why },
  });
  return empty();
}
