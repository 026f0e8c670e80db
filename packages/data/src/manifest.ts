import { PromaxError } from '@promax/core';
import type { Delimiter } from './delimited.js';
import { readTextFile } from './files.js';
import type { InteractionColumns } from './interactions.js';

/**
 * `dataset.json`: our own dataset layout. Paths are relative to the manifest's folder.
 * Give either `train` + `test` (+ optional `val`), or one unsplit `interactions` file with a
 * `split`. Split files are all interaction tables (.tsv/.csv/.txt, optionally .gz; ids are
 * remapped to dense ids consistently across them) or all matrices (.npz/.npy/.pkl).
 */
export interface DatasetManifest {
  /** Dataset name (default: the folder name). */
  name?: string;
  train?: string;
  val?: string;
  test?: string;
  /** One unsplit interaction file, split at load time by `split`. */
  interactions?: string;
  /** How to split `interactions` (default 60/20/20, seed 2025, one train item kept per user). */
  split?: { ratios?: number[]; seed?: number; keepOneTrainPerUser?: boolean };
  /** Augmented train matrix (must contain train; a warning is reported otherwise). */
  aug?: string;
  /** User / item embedding tables (.npy, .pkl or single-array .npz), rows in dense-id order. */
  userEmb?: string;
  itemEmb?: string;
  /** For matrix splits: RLMRec-style id mappers (JSON lines `{"uid": 0, "<orig>": "…"}`). */
  userIds?: string;
  itemIds?: string;
  /** Text files recorded in `dataset.files` for the profile tools (not loaded here). */
  itemTexts?: string;
  userProfiles?: string;
  /** How to read interaction tables. */
  read?: {
    delimiter?: Delimiter | 'auto';
    header?: boolean | 'auto';
    columns?: InteractionColumns;
    minRating?: number;
    ratingEquals?: number;
  };
}

const FILE_KEYS = [
  'train',
  'val',
  'test',
  'interactions',
  'aug',
  'userEmb',
  'itemEmb',
  'userIds',
  'itemIds',
  'itemTexts',
  'userProfiles',
] as const;
const KEYS = new Set<string>(['name', 'split', 'read', ...FILE_KEYS]);
const SPLIT_KEYS = new Set(['ratios', 'seed', 'keepOneTrainPerUser']);
const READ_KEYS = new Set(['delimiter', 'header', 'columns', 'minRating', 'ratingEquals']);
const COLUMN_KEYS = new Set(['user', 'item', 'rating', 'timestamp']);

/** Reads and validates a dataset.json; unknown keys and wrong types are 'INVALID_CONFIG' errors. */
export function readManifest(path: string): DatasetManifest {
  let raw: unknown;
  try {
    raw = JSON.parse(readTextFile(path));
  } catch (e) {
    if (PromaxError.isInstance(e)) throw e;
    throw new PromaxError({
      code: 'INVALID_CONFIG',
      message: `not valid JSON: ${(e as Error).message}`,
      file: path,
      fix: 'fix the JSON syntax',
    });
  }
  return validateManifest(raw, path);
}

export function validateManifest(raw: unknown, file?: string): DatasetManifest {
  const fail = (field: string, message: string, fix: string): never => {
    throw new PromaxError({
      code: 'INVALID_CONFIG',
      message: `dataset manifest: ${message}`,
      file,
      field,
      fix,
    });
  };
  const isObj = (v: unknown): v is Record<string, unknown> =>
    typeof v === 'object' && v !== null && !Array.isArray(v);
  if (!isObj(raw))
    return fail('', 'must be a JSON object', 'write {"train": "train.tsv", "test": "test.tsv"}');
  const unknown = (obj: Record<string, unknown>, allowed: Set<string>, prefix: string): void => {
    for (const k of Object.keys(obj)) {
      if (!allowed.has(k))
        fail(`${prefix}${k}`, `unknown key '${prefix}${k}'`, `use only: ${[...allowed].join(', ')}`);
    }
  };
  unknown(raw, KEYS, '');
  if (raw.name !== undefined && typeof raw.name !== 'string')
    fail('name', "'name' must be a string", 'write "name": "my-data"');
  for (const k of FILE_KEYS) {
    const v = raw[k];
    if (v !== undefined && (typeof v !== 'string' || v === ''))
      fail(k, `'${k}' must be a file path string`, `write "${k}": "file.tsv"`);
  }
  if (raw.interactions !== undefined) {
    if (raw.train !== undefined || raw.val !== undefined || raw.test !== undefined) {
      fail(
        'interactions',
        "give either 'interactions' (one file, split at load) or 'train'/'val'/'test', not both",
        'drop one of them',
      );
    }
  } else {
    if (raw.train === undefined)
      fail('train', "'train' is required (or 'interactions' with 'split')", 'add "train": "train.tsv"');
    if (raw.test === undefined) fail('test', "'test' is required", 'add "test": "test.tsv"');
    if (raw.split !== undefined)
      fail('split', "'split' applies only to 'interactions'", "remove 'split' or use 'interactions'");
  }
  if (raw.split !== undefined) {
    if (!isObj(raw.split))
      return fail(
        'split',
        "'split' must be an object",
        'write "split": {"ratios": [0.6, 0.2, 0.2], "seed": 2025}',
      );
    unknown(raw.split, SPLIT_KEYS, 'split.');
    const { ratios, seed, keepOneTrainPerUser } = raw.split;
    if (
      ratios !== undefined &&
      (!Array.isArray(ratios) ||
        (ratios.length !== 2 && ratios.length !== 3) ||
        !ratios.every((r) => typeof r === 'number' && r >= 0))
    ) {
      fail(
        'split.ratios',
        "'split.ratios' must be 2 or 3 non-negative numbers (train, [val,] test)",
        'write "ratios": [0.6, 0.2, 0.2]',
      );
    }
    if (seed !== undefined && !Number.isInteger(seed))
      fail('split.seed', "'split.seed' must be an integer", 'write "seed": 2025');
    if (keepOneTrainPerUser !== undefined && typeof keepOneTrainPerUser !== 'boolean') {
      fail(
        'split.keepOneTrainPerUser',
        "'split.keepOneTrainPerUser' must be true or false",
        'write true or false',
      );
    }
  }
  if (raw.read !== undefined) {
    if (!isObj(raw.read)) return fail('read', "'read' must be an object", 'write "read": {"minRating": 4}');
    unknown(raw.read, READ_KEYS, 'read.');
    const r = raw.read;
    if (r.delimiter !== undefined && typeof r.delimiter !== 'string')
      fail('read.delimiter', "'read.delimiter' must be a string", 'write "\\t", ",", "whitespace" or "auto"');
    if (r.header !== undefined && typeof r.header !== 'boolean' && r.header !== 'auto')
      fail('read.header', '\'read.header\' must be true, false or "auto"', 'write true, false or "auto"');
    for (const k of ['minRating', 'ratingEquals'] as const) {
      if (r[k] !== undefined && typeof r[k] !== 'number')
        fail(`read.${k}`, `'read.${k}' must be a number`, `write "${k}": 4`);
    }
    if (r.columns !== undefined) {
      if (!isObj(r.columns))
        return fail(
          'read.columns',
          "'read.columns' must be an object",
          'write "columns": {"user": "user_id", "item": "item_id"}',
        );
      unknown(r.columns, COLUMN_KEYS, 'read.columns.');
      for (const [k, v] of Object.entries(r.columns)) {
        if (typeof v !== 'string' && !(Number.isInteger(v) && (v as number) >= 0)) {
          fail(
            `read.columns.${k}`,
            `'read.columns.${k}' must be a header name or a 0-based index`,
            `write "${k}": "${k}_id" or 0`,
          );
        }
      }
    }
  }
  return raw as DatasetManifest;
}
