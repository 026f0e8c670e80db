import { existsSync, readdirSync, statSync } from 'node:fs';
import { basename, isAbsolute, join, resolve } from 'node:path';
import { type CsrMatrix, type Matrix, PromaxError } from '@promax/core';
import { type ExtraProfiles, loadExtraProfiles } from './extra-profiles.js';
import { type DegreeStats, userDegreeStats } from './graph.js';
import {
  filterByRating,
  type IndexedSplits,
  indexInteractions,
  interactionsToCsr,
  type ReadInteractionsOptions,
  readInteractions,
} from './interactions.js';
import { loadEmbeddings, readSparseMatrix } from './loaders.js';
import { type DatasetManifest, readManifest } from './manifest.js';
import { splitInteractions } from './split.js';
import { loadIdMapper } from './text-tables.js';
import {
  checkEmbeddingRows,
  checkSplitOverlap,
  checkSplitShapes,
  emptyRows,
  missingEntries,
  nnzOf,
  nonEmptyRows,
  type SplitName,
} from './validate.js';

/** How a dataset folder is organised. */
export type DatasetLayout = 'rlmrec' | 'manifest' | 'labelled-tsv' | 'movielens';

/** What loading one split found. */
export interface SplitReport {
  /** Source file; absent for splits derived at load time. */
  file?: string;
  nnz: number;
  /** Users with at least one entry. */
  users: number;
  /** Repeated (user, item) rows/entries merged into one. */
  duplicates: number;
  /** Stored zeros dropped. */
  zerosDropped: number;
  /** Entries whose value was not 1 before binarising. */
  nonBinary: number;
  /** How a derived split was made (e.g. "10% of train positives held out, seed 2025"). */
  derived?: string;
}

export interface DatasetReport {
  layout: DatasetLayout;
  splits: Partial<Record<SplitName, SplitReport>>;
  /** Users with no train items (not an error: they cannot be learned, and are reported). */
  usersWithoutTrain: number;
  /** Up to 10 of them. */
  usersWithoutTrainExamples: number[];
  /** Train edges missing from the augmented matrix (it should contain them all). */
  augMissingTrain?: number;
  /** Augmented edges that are not train edges. */
  augNewEdges?: number;
  /** User train-degree distribution. */
  trainDegree: DegreeStats;
  /** Problems that are not fatal. */
  warnings: string[];
  /** How the dataset was assembled (filters, splits, id maps). */
  notes: string[];
}

/** A loaded recommendation dataset: binary users × items CSR splits plus optional extras. */
export interface Dataset {
  name: string;
  numUsers: number;
  numItems: number;
  train: CsrMatrix;
  val?: CsrMatrix;
  test: CsrMatrix;
  /** Profile-augmented train matrix A' (ProMax). */
  aug?: CsrMatrix;
  userEmb?: Matrix;
  itemEmb?: Matrix;
  /** ProEx's extra profile embeddings (usr_emb_np_{1,2,3} / itm_emb_np_{1,2,3}), when all are present. */
  extraProfiles?: ExtraProfiles;
  /** Original id of each dense user id. */
  userIds?: string[];
  /** Original id of each dense item id. */
  itemIds?: string[];
  /** Folder it was loaded from. */
  sourceDir: string;
  /** Files used, by role (train, val, test, aug, userEmb, itemEmb, userIds, itemIds, itemTexts, userProfiles…). */
  files: Record<string, string>;
  report: DatasetReport;
}

export interface LoadDatasetOptions {
  /** Dataset name (default: the folder name). */
  name?: string;
  /** Load embedding tables when present (default true). */
  embeddings?: boolean;
  /** Load the augmented matrix when present (default true). */
  aug?: boolean;
  /** Load id mappers when present (default true). */
  ids?: boolean;
  /** Refuse overlapping splits (default true). */
  checkOverlap?: boolean;
  /** Seed of splits made at load time (default 2025). */
  seed?: number;
  /**
   * labelled-tsv layout (DBbook) without a val file: share of train positives held out as
   * validation (default 0.1; 0 for none).
   */
  valRatio?: number;
  /** Positive label of labelled-tsv files (default 1: DBbook's `label == 1`). */
  positiveLabel?: number;
  /** movielens layout: ratings ≥ this are positives (default 4). */
  minRating?: number;
  /** movielens layout: train/val/test fractions (default [0.6, 0.2, 0.2]). */
  ratios?: readonly number[];
}

const MATRIX_EXT = ['.npz', '.pkl', '.npy'];
const TABLE_EXT = ['.tsv', '.tsv.gz', '.csv', '.csv.gz', '.txt', '.txt.gz'];

function findFile(dir: string, stems: readonly string[], exts: readonly string[]): string | undefined {
  for (const stem of stems) {
    for (const ext of exts) {
      const p = join(dir, stem + ext);
      if (existsSync(p)) return p;
    }
  }
  return undefined;
}

/** Which layout a folder holds, or undefined when none is recognised. */
export function detectLayout(dir: string): DatasetLayout | undefined {
  if (existsSync(join(dir, 'dataset.json'))) return 'manifest';
  if (findFile(dir, ['trn_mat', 'val_mat', 'tst_mat'], ['.npz', '.pkl'])) return 'rlmrec';
  if (findFile(dir, ['train', 'test'], ['.tsv', '.tsv.gz'])) return 'labelled-tsv';
  if (findFile(dir, ['u.data'], ['', '.gz'])) return 'movielens';
  return undefined;
}

function listing(dir: string): string {
  try {
    return readdirSync(dir).join(', ') || 'nothing';
  } catch {
    return 'nothing (unreadable)';
  }
}

function missingFile(dir: string, name: string, what: string, expected: string, fix: string): PromaxError {
  return new PromaxError({
    code: 'FILE_NOT_FOUND',
    message: `dataset '${name}' has no ${what}: ${expected} is not in ${dir} (found: ${listing(dir)})`,
    file: join(dir, expected.split(' ')[0]),
    fix,
  });
}

/**
 * Loads a dataset folder in any supported layout:
 * - `rlmrec`: trn_mat / val_mat / tst_mat (.npz or .pkl), optional aug_trn_mat (.npz) or
 *   new_trn_rag_mat.pkl, usr_emb_np / itm_emb_np (.pkl/.npy/.npz), user/item_mapper.jsonl(.gz);
 * - `manifest`: a dataset.json (see DatasetManifest);
 * - `labelled-tsv` (DBbook): train.tsv(.gz) / test.tsv(.gz) [/ val.tsv(.gz)] with a label column;
 * - `movielens` (ML-100K): u.data(.gz), split at load time.
 * Validates shapes, split overlap, id ranges and embeddings; reports the rest.
 */
export function loadDatasetDir(dir: string, options: LoadDatasetOptions = {}): Dataset {
  const root = resolve(dir);
  if (!existsSync(root) || !statSync(root).isDirectory()) {
    throw new PromaxError({
      code: 'DATASET_NOT_FOUND',
      message: `no dataset folder at ${root}`,
      file: root,
      fix: 'pass an existing dataset directory or a registered dataset name (amazon-book, yelp, steam, dbbook, ml100k)',
    });
  }
  const name = options.name ?? basename(root);
  const layout = detectLayout(root);
  switch (layout) {
    case 'manifest':
      return loadManifestDir(root, name, options);
    case 'rlmrec':
      return loadRlmrecDir(root, name, options);
    case 'labelled-tsv':
      return loadLabelledDir(root, name, options);
    case 'movielens':
      return loadMovielensDir(root, name, options);
    default:
      throw new PromaxError({
        code: 'DATASET_NOT_FOUND',
        message: `no dataset layout recognised in ${root} (found: ${listing(root)})`,
        file: root,
        fix: 'add a dataset.json manifest, or RLMRec files (trn_mat/val_mat/tst_mat .npz or .pkl), or train.tsv/test.tsv',
      });
  }
}

interface Parts {
  name: string;
  layout: DatasetLayout;
  sourceDir: string;
  files: Record<string, string>;
  train: CsrMatrix;
  val?: CsrMatrix;
  test: CsrMatrix;
  aug?: CsrMatrix;
  userEmb?: Matrix;
  itemEmb?: Matrix;
  extraProfiles?: ExtraProfiles;
  userIds?: string[];
  itemIds?: string[];
  splitReports: Partial<Record<SplitName, SplitReport>>;
  notes: string[];
}

function splitReport(m: CsrMatrix, file: string | undefined, r?: Partial<SplitReport>): SplitReport {
  return { file, nnz: nnzOf(m), users: nonEmptyRows(m), duplicates: 0, zerosDropped: 0, nonBinary: 0, ...r };
}

/** Cross-split validation and the report; throws on shape mismatch, overlap, bad embeddings. */
function finish(parts: Parts, options: LoadDatasetOptions): Dataset {
  const { train, files } = parts;
  checkSplitShapes(parts, files);
  if (options.checkOverlap ?? true) checkSplitOverlap(parts, files);
  const numUsers = train.rows;
  const numItems = train.cols;
  const idCheck = (ids: string[] | undefined, n: number, which: 'user' | 'item'): void => {
    if (!ids || ids.length === n) return;
    throw new PromaxError({
      code: 'SHAPE_MISMATCH',
      message: `the ${which} id map has ${ids.length} ids but the matrices have ${n} ${which}s`,
      file: files[`${which}Ids`],
      fix: `use the id map that belongs to these matrices`,
    });
  };
  idCheck(parts.userIds, numUsers, 'user');
  idCheck(parts.itemIds, numItems, 'item');
  if (parts.userEmb) checkEmbeddingRows(parts.userEmb, numUsers, 'user', files.userEmb);
  if (parts.itemEmb) checkEmbeddingRows(parts.itemEmb, numItems, 'item', files.itemEmb);
  const warnings: string[] = [];
  let augMissingTrain: number | undefined;
  let augNewEdges: number | undefined;
  if (parts.aug) {
    const miss = missingEntries(train, parts.aug);
    augMissingTrain = miss.count;
    augNewEdges = nnzOf(parts.aug) - (nnzOf(train) - miss.count);
    if (nnzOf(parts.aug) === 0) {
      warnings.push('the augmented matrix A′ has no edges: S2DR has nothing to learn from and is skipped');
    } else if (miss.count > 0) {
      warnings.push(
        `the augmented matrix lacks ${miss.count} train edge${miss.count === 1 ? '' : 's'} (e.g. user ${miss.example?.[0]}, item ${miss.example?.[1]}); it is expected to contain all of train`,
      );
    }
  }
  const empty = emptyRows(train);
  if (empty.length > 0) {
    warnings.push(`${empty.length} user${empty.length === 1 ? ' has' : 's have'} no train items`);
  }
  for (const [split, r] of Object.entries(parts.splitReports)) {
    if (r && r.duplicates > 0) warnings.push(`${split}: ${r.duplicates} duplicate entries merged`);
  }
  return {
    name: parts.name,
    numUsers,
    numItems,
    train,
    val: parts.val,
    test: parts.test,
    aug: parts.aug,
    userEmb: parts.userEmb,
    itemEmb: parts.itemEmb,
    ...(parts.extraProfiles ? { extraProfiles: parts.extraProfiles } : {}),
    userIds: parts.userIds,
    itemIds: parts.itemIds,
    sourceDir: parts.sourceDir,
    files,
    report: {
      layout: parts.layout,
      splits: parts.splitReports,
      usersWithoutTrain: empty.length,
      usersWithoutTrainExamples: Array.from(empty.subarray(0, 10)),
      augMissingTrain,
      augNewEdges,
      trainDegree: userDegreeStats(train),
      warnings,
      notes: parts.notes,
    },
  };
}

function loadMatrix(path: string): { matrix: CsrMatrix; report: SplitReport } {
  const { matrix, report } = readSparseMatrix(path);
  return {
    matrix,
    report: splitReport(matrix, path, {
      duplicates: report.duplicates,
      zerosDropped: report.zerosDropped,
      nonBinary: report.nonBinary,
    }),
  };
}

function loadRlmrecDir(dir: string, name: string, options: LoadDatasetOptions): Dataset {
  const files: Record<string, string> = {};
  const reports: Partial<Record<SplitName, SplitReport>> = {};
  const notes: string[] = [];
  const trainFile = findFile(dir, ['trn_mat'], ['.npz', '.pkl']);
  if (!trainFile) {
    throw missingFile(
      dir,
      name,
      'train split',
      'trn_mat.npz or trn_mat.pkl',
      `place the train matrix (RLMRec's trn_mat.pkl, from its data.zip) in ${dir}; without it the dataset can be evaluated against but not trained on`,
    );
  }
  const testFile = findFile(dir, ['tst_mat'], ['.npz', '.pkl']);
  if (!testFile) {
    throw missingFile(
      dir,
      name,
      'test split',
      'tst_mat.npz or tst_mat.pkl',
      `place tst_mat.npz or tst_mat.pkl in ${dir}`,
    );
  }
  const load = (split: SplitName, file: string): CsrMatrix => {
    files[split] = file;
    const { matrix, report } = loadMatrix(file);
    reports[split] = report;
    return matrix;
  };
  const train = load('train', trainFile);
  const test = load('test', testFile);
  const valFile = findFile(dir, ['val_mat'], ['.npz', '.pkl']);
  const val = valFile ? load('val', valFile) : undefined;
  if (!val) notes.push('no val_mat: the dataset has no validation split');
  const augFile =
    (options.aug ?? true) ? findFile(dir, ['aug_trn_mat', 'new_trn_rag_mat'], ['.npz', '.pkl']) : undefined;
  const aug = augFile ? load('aug', augFile) : undefined;
  let userEmb: Matrix | undefined;
  let itemEmb: Matrix | undefined;
  if (options.embeddings ?? true) {
    const ue = findFile(dir, ['usr_emb_np'], ['.npy', '.pkl', '.npz']);
    const ie = findFile(dir, ['itm_emb_np'], ['.npy', '.pkl', '.npz']);
    if (ue) {
      files.userEmb = ue;
      userEmb = loadEmbeddings(ue);
    }
    if (ie) {
      files.itemEmb = ie;
      itemEmb = loadEmbeddings(ie);
    }
  }
  const extraProfiles =
    (options.embeddings ?? true)
      ? loadExtraProfiles(dir, { numUsers: train.rows, numItems: train.cols, width: userEmb?.cols })
      : undefined;
  // One entry per file (records hash each file): extraUserEmb1, extraItemEmb1, … in variant order.
  extraProfiles?.files.forEach((f, k) => {
    files[`extra${k % 2 === 0 ? 'User' : 'Item'}Emb${(k >> 1) + 1}`] = f;
  });
  if (extraProfiles && extraProfiles.missing.length > 0)
    notes.push(`incomplete extra profile set: missing ${extraProfiles.missing.join(', ')}`);
  let userIds: string[] | undefined;
  let itemIds: string[] | undefined;
  if (options.ids ?? true) {
    const um = findFile(dir, ['user_mapper'], ['.jsonl.gz', '.jsonl']);
    const im = findFile(dir, ['item_mapper'], ['.jsonl.gz', '.jsonl']);
    if (um) {
      files.userIds = um;
      userIds = loadIdMapper(um);
    }
    if (im) {
      files.itemIds = im;
      itemIds = loadIdMapper(im);
    }
  }
  notes.push('values binarised: value != 0 → 1');
  return finish(
    {
      name,
      layout: 'rlmrec',
      sourceDir: dir,
      files,
      train,
      val,
      test,
      aug,
      userEmb,
      itemEmb,
      extraProfiles,
      userIds,
      itemIds,
      splitReports: reports,
      notes,
    },
    options,
  );
}

/** Builds CSR splits from interaction tables with one id space. */
function tablesToSplits(
  indexed: IndexedSplits,
  roles: SplitName[],
  reports: Partial<Record<SplitName, SplitReport>>,
): Partial<Record<SplitName, CsrMatrix>> {
  const out: Partial<Record<SplitName, CsrMatrix>> = {};
  roles.forEach((role, k) => {
    const { matrix, report } = interactionsToCsr(
      indexed.splits[k],
      indexed.userIds.length,
      indexed.itemIds.length,
    );
    out[role] = matrix;
    reports[role] = splitReport(matrix, report.file, { duplicates: report.duplicates });
  });
  return out;
}

function loadLabelledDir(dir: string, name: string, options: LoadDatasetOptions): Dataset {
  const files: Record<string, string> = {};
  const reports: Partial<Record<SplitName, SplitReport>> = {};
  const trainFile = findFile(dir, ['train'], ['.tsv', '.tsv.gz']);
  const testFile = findFile(dir, ['test'], ['.tsv', '.tsv.gz']);
  if (!trainFile)
    throw missingFile(dir, name, 'train split', 'train.tsv or train.tsv.gz', `add train.tsv(.gz) to ${dir}`);
  if (!testFile)
    throw missingFile(dir, name, 'test split', 'test.tsv or test.tsv.gz', `add test.tsv(.gz) to ${dir}`);
  const valFile = findFile(dir, ['val', 'valid', 'validation'], ['.tsv', '.tsv.gz']);
  const label = options.positiveLabel ?? 1;
  const roles: SplitName[] = valFile ? ['train', 'val', 'test'] : ['train', 'test'];
  const paths = valFile ? [trainFile, valFile, testFile] : [trainFile, testFile];
  const tables = paths.map((p) => {
    const table = readInteractions(p);
    return table.ratings ? filterByRating(table, { ratingEquals: label }) : table;
  });
  roles.forEach((r, k) => {
    files[r] = paths[k];
  });
  const indexed = indexInteractions(tables);
  const m = tablesToSplits(indexed, roles, reports);
  const notes = [
    tables[0].ratings
      ? `positives: rows whose label/rating equals ${label}; ids of all rows (negatives too) define the id space`
      : 'no label column: every row is a positive',
    'raw ids remapped to dense ids in sorted order (userIds/itemIds keep the originals)',
  ];
  let train = m.train as CsrMatrix;
  let val = m.val;
  const valRatio = options.valRatio ?? 0.1;
  if (!valFile && valRatio > 0) {
    const seed = options.seed ?? 2025;
    [train, val] = splitInteractions(train, {
      ratios: [1 - valRatio, valRatio],
      seed,
      keepOneTrainPerUser: true,
    });
    const how = `${Math.round(valRatio * 1000) / 10}% of train positives held out at random (seed ${seed}; every user keeps ≥1 train item)`;
    reports.train = splitReport(train, trainFile, {
      duplicates: reports.train?.duplicates ?? 0,
      derived: `train minus validation`,
    });
    reports.val = splitReport(val, undefined, { derived: how });
    notes.push(`validation: ${how}`);
  }
  const itemTexts = findFile(dir, ['items'], ['.tsv', '.tsv.gz']);
  const profiles = findFile(dir, ['user_profiles'], ['.jsonl', '.jsonl.gz']);
  if (itemTexts) files.itemTexts = itemTexts;
  if (profiles) files.userProfiles = profiles;
  return finish(
    {
      name,
      layout: 'labelled-tsv',
      sourceDir: dir,
      files,
      train,
      val,
      test: m.test as CsrMatrix,
      userIds: indexed.userIds,
      itemIds: indexed.itemIds,
      splitReports: reports,
      notes,
    },
    options,
  );
}

function loadMovielensDir(dir: string, name: string, options: LoadDatasetOptions): Dataset {
  const file = findFile(dir, ['u.data'], ['', '.gz']) as string;
  const minRating = options.minRating ?? 4;
  const table = readInteractions(file, { delimiter: '\t', header: false, minRating });
  const indexed = indexInteractions([table]);
  const { matrix: all, report } = interactionsToCsr(
    indexed.splits[0],
    indexed.userIds.length,
    indexed.itemIds.length,
  );
  const seed = options.seed ?? 2025;
  const ratios = options.ratios ?? [0.6, 0.2, 0.2];
  const parts = splitInteractions(all, { ratios, seed, keepOneTrainPerUser: true });
  const [train, val, test] = parts.length === 3 ? parts : [parts[0], undefined, parts[1]];
  const how = `random per-interaction split ${ratios.map((r) => Math.round(r * 100)).join('/')} (seed ${seed}; every user with a positive keeps ≥1 train item)`;
  const reports: Partial<Record<SplitName, SplitReport>> = {
    train: splitReport(train, file, { duplicates: report.duplicates, derived: how }),
    test: splitReport(test, undefined, { derived: how }),
  };
  if (val) reports.val = splitReport(val, undefined, { derived: how });
  const files: Record<string, string> = { train: file };
  const itemTexts = findFile(dir, ['u.item'], ['', '.gz']);
  if (itemTexts) files.itemTexts = itemTexts;
  return finish(
    {
      name,
      layout: 'movielens',
      sourceDir: dir,
      files,
      train,
      val,
      test,
      userIds: indexed.userIds,
      itemIds: indexed.itemIds,
      splitReports: reports,
      notes: [
        `positives: rating ≥ ${minRating} (${table.kept} of ${table.users.length} ratings); all rated users/items get ids`,
        how,
      ],
    },
    options,
  );
}

function kindOfPath(p: string): 'table' | 'matrix' | undefined {
  const low = p.toLowerCase();
  if (TABLE_EXT.some((e) => low.endsWith(e))) return 'table';
  if (MATRIX_EXT.some((e) => low.endsWith(e))) return 'matrix';
  return undefined;
}

function loadManifestDir(dir: string, name: string, options: LoadDatasetOptions): Dataset {
  const manifestPath = join(dir, 'dataset.json');
  const mf: DatasetManifest = readManifest(manifestPath);
  const at = (p: string): string => (isAbsolute(p) ? p : join(dir, p));
  const files: Record<string, string> = {};
  const reports: Partial<Record<SplitName, SplitReport>> = {};
  const notes: string[] = [`manifest ${manifestPath}`];
  const splitKeys = (['train', 'val', 'test', 'interactions', 'aug'] as const).filter(
    (k) => mf[k] !== undefined,
  );
  const kinds = new Set(
    splitKeys.map((k) => {
      const kind = kindOfPath(mf[k] as string);
      if (!kind) {
        throw new PromaxError({
          code: 'INVALID_CONFIG',
          message: `dataset manifest: '${k}' = ${mf[k]} has an unknown extension`,
          file: manifestPath,
          field: k,
          fix: `use ${[...TABLE_EXT, ...MATRIX_EXT].join(', ')}`,
        });
      }
      return kind;
    }),
  );
  if (kinds.size > 1) {
    throw new PromaxError({
      code: 'INVALID_CONFIG',
      message: 'dataset manifest mixes interaction tables and matrix files among train/val/test/aug',
      file: manifestPath,
      fix: 'use one kind for all splits so that ids mean the same thing in each',
    });
  }
  const tables = kinds.has('table');
  if (tables && (mf.userIds || mf.itemIds)) {
    throw new PromaxError({
      code: 'INVALID_CONFIG',
      message:
        "dataset manifest: 'userIds'/'itemIds' apply to matrix splits only (tables carry their own ids)",
      file: manifestPath,
      field: mf.userIds ? 'userIds' : 'itemIds',
      fix: 'remove them',
    });
  }
  let train: CsrMatrix;
  let val: CsrMatrix | undefined;
  let test: CsrMatrix;
  let aug: CsrMatrix | undefined;
  let userIds: string[] | undefined;
  let itemIds: string[] | undefined;
  const readOpts: ReadInteractionsOptions = mf.read ?? {};
  if (mf.interactions !== undefined) {
    const file = at(mf.interactions);
    files.interactions = file;
    let all: CsrMatrix;
    if (tables) {
      const list: SplitName[] = mf.aug ? ['train', 'aug'] : ['train'];
      const paths = mf.aug ? [file, at(mf.aug)] : [file];
      const indexed = indexInteractions(paths.map((p) => readInteractions(p, readOpts)));
      const m = tablesToSplits(indexed, list, reports);
      all = m.train as CsrMatrix;
      aug = m.aug;
      userIds = indexed.userIds;
      itemIds = indexed.itemIds;
    } else {
      all = loadMatrix(file).matrix;
      if (mf.aug) aug = loadMatrix(at(mf.aug)).matrix;
    }
    const ratios = mf.split?.ratios ?? [0.6, 0.2, 0.2];
    const seed = mf.split?.seed ?? options.seed ?? 2025;
    const parts = splitInteractions(all, {
      ratios,
      seed,
      keepOneTrainPerUser: mf.split?.keepOneTrainPerUser ?? true,
    });
    [train, val, test] = parts.length === 3 ? parts : [parts[0], undefined, parts[1]];
    const how = `random per-interaction split ${ratios.join('/')} of ${mf.interactions} (seed ${seed})`;
    reports.train = splitReport(train, file, { derived: how, duplicates: reports.train?.duplicates ?? 0 });
    reports.test = splitReport(test, undefined, { derived: how });
    if (val) reports.val = splitReport(val, undefined, { derived: how });
    notes.push(how);
  } else {
    const roles = (['train', 'val', 'test', 'aug'] as const).filter((k) => mf[k] !== undefined);
    const paths = roles.map((r) => at(mf[r] as string));
    roles.forEach((r, k) => {
      files[r] = paths[k];
    });
    let m: Partial<Record<SplitName, CsrMatrix>> = {};
    if (tables) {
      const indexed = indexInteractions(paths.map((p) => readInteractions(p, readOpts)));
      m = tablesToSplits(indexed, [...roles], reports);
      userIds = indexed.userIds;
      itemIds = indexed.itemIds;
      notes.push('raw ids remapped to dense ids (sorted) consistently across all split files');
    } else {
      roles.forEach((r, k) => {
        const loaded = loadMatrix(paths[k]);
        m[r] = loaded.matrix;
        reports[r] = loaded.report;
      });
    }
    train = m.train as CsrMatrix;
    val = m.val;
    test = m.test as CsrMatrix;
    aug = m.aug;
  }
  if (mf.aug) files.aug = at(mf.aug);
  let userEmb: Matrix | undefined;
  let itemEmb: Matrix | undefined;
  for (const k of ['userEmb', 'itemEmb', 'userIds', 'itemIds'] as const) {
    const f = mf[k];
    if (f) files[k] = at(f);
  }
  if (options.embeddings ?? true) {
    if (files.userEmb) userEmb = loadEmbeddings(files.userEmb);
    if (files.itemEmb) itemEmb = loadEmbeddings(files.itemEmb);
  }
  if (options.ids ?? true) {
    if (files.userIds) userIds = loadIdMapper(files.userIds);
    if (files.itemIds) itemIds = loadIdMapper(files.itemIds);
  }
  if (mf.itemTexts) files.itemTexts = at(mf.itemTexts);
  if (mf.userProfiles) files.userProfiles = at(mf.userProfiles);
  if (options.aug === false) aug = undefined;
  return finish(
    {
      name: options.name ?? mf.name ?? name,
      layout: 'manifest',
      sourceDir: dir,
      files,
      train,
      val,
      test,
      aug,
      userEmb,
      itemEmb,
      userIds,
      itemIds,
      splitReports: reports,
      notes,
    },
    options,
  );
}
