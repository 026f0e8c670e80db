import type { ProgressHandler } from '@promax/core';
import type { Dataset, LoadedSparse } from '@promax/data';

const reported = new Set<string>();

/**
 * Emits the dataset loader's warnings (duplicates merged, users without train items, an empty or
 * incomplete A′) as `warning` events, numbered "k of n", once per dataset per process: reproduce
 * and demo train many runs on one cached dataset.
 */
export function emitDatasetWarnings(ds: Dataset, onProgress: ProgressHandler | undefined): void {
  const key = `${ds.name}\0${ds.sourceDir}`;
  if (!onProgress || reported.has(key)) return;
  reported.add(key);
  const list = ds.report.warnings;
  for (const [i, message] of list.entries()) {
    onProgress({
      type: 'warning',
      code: 'DATASET',
      message: `dataset ${ds.name} (loader warning ${i + 1} of ${list.length}): ${message}`,
    });
  }
}

/** Warnings for one matrix file read on its own (`promax eval --train/--test`). */
export function emitMatrixWarnings(
  what: string,
  loaded: LoadedSparse,
  onProgress: ProgressHandler | undefined,
): void {
  const r = loaded.report;
  const list: string[] = [];
  if (r.duplicates > 0) list.push(`${r.duplicates} duplicate entries merged`);
  if (r.zerosDropped > 0) list.push(`${r.zerosDropped} stored zeros dropped`);
  if (loaded.matrix.indptr[loaded.matrix.rows] === 0) list.push('the matrix has no entries');
  for (const [i, message] of list.entries()) {
    onProgress?.({
      type: 'warning',
      code: 'DATASET',
      message: `${what} (loader warning ${i + 1} of ${list.length}): ${message}`,
    });
  }
}
