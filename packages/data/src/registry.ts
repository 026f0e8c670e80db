import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { PromaxError } from '@promax/core';
import { bundledDataDir, resolveDataDir } from './data-dir.js';
import {
  type Dataset,
  type DatasetLayout,
  detectLayout,
  type LoadDatasetOptions,
  loadDatasetDir,
} from './dataset.js';

/** Datasets the registry knows by name. */
export const DATASET_NAMES = ['amazon-book', 'yelp', 'steam', 'dbbook', 'ml100k'] as const;
export type DatasetName = (typeof DATASET_NAMES)[number];

/** Folder names tried for each dataset, in order. */
const FOLDERS: Readonly<Record<DatasetName, readonly string[]>> = {
  'amazon-book': ['amazon_book', 'amazon-book'],
  yelp: ['yelp'],
  steam: ['steam'],
  dbbook: ['dbbook'],
  ml100k: ['ml100k', 'ml-100k'],
};

const ALIASES: Readonly<Record<string, DatasetName>> = {
  'amazon-book': 'amazon-book',
  amazon_book: 'amazon-book',
  amazonbook: 'amazon-book',
  amazon: 'amazon-book',
  yelp: 'yelp',
  steam: 'steam',
  dbbook: 'dbbook',
  'db-book': 'dbbook',
  ml100k: 'ml100k',
  'ml-100k': 'ml100k',
  movielens100k: 'ml100k',
};

/** The registry name for a name or alias (`amazon_book` → `amazon-book`), if it is one. */
export function canonicalDatasetName(name: string): DatasetName | undefined {
  return ALIASES[name.toLowerCase()];
}

export interface RegistryOptions {
  /** External data directory (default `resolveDataDir()`: PROMAX_DATA_DIR or ../shared/data); null: do not look. */
  dataDir?: string | null;
  /** Bundled datasets (default `bundledDataDir()`: <repo>/datasets); null: do not look. */
  bundledDir?: string | null;
}

export type DatasetOrigin = 'path' | 'data-dir' | 'bundled';

export interface DatasetLocation {
  name: string;
  dir: string;
  origin: DatasetOrigin;
  layout: DatasetLayout;
}

function roots(options: RegistryOptions): { origin: 'data-dir' | 'bundled'; dir: string }[] {
  const out: { origin: 'data-dir' | 'bundled'; dir: string }[] = [];
  const data = options.dataDir === undefined ? resolveDataDir() : options.dataDir;
  const bundled = options.bundledDir === undefined ? bundledDataDir() : options.bundledDir;
  if (data) out.push({ origin: 'data-dir', dir: resolve(data) });
  if (bundled) out.push({ origin: 'bundled', dir: resolve(bundled) });
  return out;
}

const isDir = (p: string): boolean => existsSync(p) && statSync(p).isDirectory();

/**
 * Finds a dataset: a registered name (looked up in the data directory, then in the bundled
 * copy) or a folder path. Throws 'DATASET_NOT_FOUND' listing where it looked and what exists.
 */
export function locateDataset(nameOrDir: string, options: RegistryOptions = {}): DatasetLocation {
  const name = canonicalDatasetName(nameOrDir);
  const tried: string[] = [];
  if (name) {
    for (const root of roots(options)) {
      for (const folder of FOLDERS[name]) {
        const dir = join(root.dir, folder);
        tried.push(dir);
        const layout = isDir(dir) ? detectLayout(dir) : undefined;
        if (layout) return { name, dir, origin: root.origin, layout };
      }
    }
  } else if (isDir(nameOrDir)) {
    const dir = resolve(nameOrDir);
    const layout = detectLayout(dir);
    if (layout) return { name: dir.split(/[\\/]/).pop() ?? dir, dir, origin: 'path', layout };
    tried.push(dir);
  } else tried.push(resolve(nameOrDir));
  const available = listDatasets(options).map((d) => `${d.name} (${d.origin}: ${d.dir})`);
  const rootsList = roots(options);
  throw new PromaxError({
    code: 'DATASET_NOT_FOUND',
    message: `dataset '${nameOrDir}' not found; looked in ${tried.join(', ') || '(no data directory and no bundled datasets)'}. Available: ${available.join('; ') || 'none'}`,
    fix: name
      ? `put the ${name} files in ${join(rootsList[0]?.dir ?? '<data dir>', FOLDERS[name][0])} (set PROMAX_DATA_DIR to choose the data directory)`
      : `pass a dataset folder or one of: ${DATASET_NAMES.join(', ')}`,
    details: { tried, available },
  });
}

/**
 * Loads a dataset by registered name (`amazon-book`, `yelp`, `steam`, `dbbook`, `ml100k`) or
 * by folder path. See `loadDatasetDir` for layouts and options.
 */
export function resolveDataset(
  nameOrDir: string,
  options: RegistryOptions & LoadDatasetOptions = {},
): Dataset {
  const loc = locateDataset(nameOrDir, options);
  return loadDatasetDir(loc.dir, {
    ...options,
    name: options.name ?? (loc.origin === 'path' ? undefined : loc.name),
  });
}

/** Alias of `resolveDataset`: load a dataset by registered name or folder path. */
export const loadDataset: (nameOrDir: string, options?: RegistryOptions & LoadDatasetOptions) => Dataset =
  resolveDataset;

export interface DatasetListing {
  name: DatasetName;
  origin: 'data-dir' | 'bundled';
  dir: string;
  layout?: DatasetLayout;
  files: { name: string; bytes: number }[];
  bytes: number;
  /** Whether it has a train split (can be trained on). */
  trainable: boolean;
  note?: string;
}

const TRAIN_FILES: Readonly<Record<DatasetLayout, readonly string[]>> = {
  rlmrec: ['trn_mat.npz', 'trn_mat.pkl'],
  'labelled-tsv': ['train.tsv', 'train.tsv.gz'],
  movielens: ['u.data', 'u.data.gz'],
  manifest: ['dataset.json'],
};

/** What registered datasets exist where, with file sizes. */
export function listDatasets(options: RegistryOptions = {}): DatasetListing[] {
  const out: DatasetListing[] = [];
  for (const root of roots(options)) {
    for (const name of DATASET_NAMES) {
      for (const folder of FOLDERS[name]) {
        const dir = join(root.dir, folder);
        if (!isDir(dir)) continue;
        const files = readdirSync(dir)
          .filter((f) => statSync(join(dir, f)).isFile())
          .sort()
          .map((f) => ({ name: f, bytes: statSync(join(dir, f)).size }));
        const layout = detectLayout(dir);
        const trainable =
          layout !== undefined && TRAIN_FILES[layout].some((f) => files.some((x) => x.name === f));
        let note: string | undefined;
        if (!layout) note = 'no recognised dataset files';
        else if (!trainable) note = 'no train split: usable for evaluation only';
        if (name === 'ml100k')
          note = `${note ? `${note}; ` : ''}MovieLens licence: research use, no redistribution`;
        out.push({
          name,
          origin: root.origin,
          dir,
          layout,
          files,
          bytes: files.reduce((s, f) => s + f.bytes, 0),
          trainable,
          note,
        });
      }
    }
  }
  return out;
}
