import { resolve } from 'node:path';
import { canonicalDatasetName, type Dataset, loadDatasetDir, resolveDataset } from '@promax/data';
import type { Io } from '../io.js';

/**
 * Loads `--dataset`: a registered name (amazon-book, yelp, steam, dbbook, ml100k; looked up in
 * PROMAX_DATA_DIR or ../shared/data, then the bundled copy) or a folder, relative to the Io's cwd.
 */
export function loadDatasetArg(io: Io, nameOrDir: string): Dataset {
  // loadDatasetDir for folders: resolveDataset would name the dataset after the folder even
  // when its dataset.json gives a name.
  return canonicalDatasetName(nameOrDir)
    ? resolveDataset(nameOrDir)
    : loadDatasetDir(resolve(io.cwd, nameOrDir));
}

/** What manifests record about the dataset a file was made for. */
export function datasetRecord(ds: Dataset): {
  name: string;
  dir: string;
  layout: string;
  users: number;
  items: number;
  notes: string[];
} {
  return {
    name: ds.name,
    dir: ds.sourceDir,
    layout: ds.report.layout,
    users: ds.numUsers,
    items: ds.numItems,
    notes: ds.report.notes,
  };
}
