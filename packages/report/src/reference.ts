// The authors' reference numbers and validation curves (shared/data/reference_logs; see the data
// README): summary.csv has one row per released run, <family>/<run>.csv its per-epoch validation
// metrics and the final test row.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PromaxError } from '@promax/core';
import { canonicalDatasetName, locateData } from '@promax/data';

/** The released model families. */
export const REFERENCE_FAMILIES = ['lightgcn_promax', 'lightgcn_proex'] as const;
export type ReferenceFamily = (typeof REFERENCE_FAMILIES)[number];

/** Dataset names as the authors' logs spell them. */
export type ReferenceDataset = 'amazon' | 'yelp' | 'steam';

const BY_OUR_NAME: Readonly<Record<string, ReferenceDataset>> = {
  'amazon-book': 'amazon',
  yelp: 'yelp',
  steam: 'steam',
};

/** Our dataset name (or alias) → the authors' name; undefined for datasets they did not run. */
export function referenceDataset(ourName: string | null | undefined): ReferenceDataset | undefined {
  if (!ourName) return undefined;
  const canonical = canonicalDatasetName(ourName);
  return canonical ? BY_OUR_NAME[canonical] : undefined;
}

/** Readable family names for tables and legends. */
export const FAMILY_LABEL: Readonly<Record<ReferenceFamily, string>> = {
  lightgcn_promax: 'LightGCN+ProMax',
  lightgcn_proex: 'LightGCN+ProEx',
};

/** One row of summary.csv, with metrics under our key names (`recall@20`, …). */
export interface ReferenceRun {
  family: ReferenceFamily;
  dataset: ReferenceDataset;
  /** The log file name (the per-run CSV has the same stem). */
  log: string;
  ks: number[];
  valEvaluations: number;
  lastEpoch: number;
  bestEpoch: number;
  /** Best-epoch validation metrics (4 decimals as logged). */
  val: Record<string, number>;
  /** Test metrics of the best-validation checkpoint (full precision). */
  test: Record<string, number>;
  hparams: string;
  general: string;
}

/** A run's validation curve and its final test row. */
export interface ReferenceCurve {
  family: ReferenceFamily;
  dataset: ReferenceDataset;
  file: string;
  val: { epoch: number; metrics: Record<string, number> }[];
  test?: { epoch: number; metrics: Record<string, number> };
}

/** Where the reference logs are: `{ path }`, or `{ reason }` why they are absent. */
export function locateReferenceLogs():
  | { path: string; reason?: undefined }
  | { path?: undefined; reason: string } {
  return locateData('reference_logs');
}

/** Minimal RFC 4180 CSV: quoted fields (with "" escapes) may hold commas and newlines. */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      row.push(field);
      field = '';
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
    } else field += c;
  }
  if (field !== '' || row.length) {
    row.push(field);
    rows.push(row);
  }
  return rows.filter((r) => !(r.length === 1 && r[0] === ''));
}

function readCsv(path: string): { header: string[]; rows: Record<string, string>[] } {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (cause) {
    throw new PromaxError({
      code: 'FILE_NOT_FOUND',
      file: path,
      message: 'cannot read the reference CSV',
      fix: 'check the reference_logs folder of the data directory',
      cause,
    });
  }
  const [header = [], ...body] = parseCsv(text);
  return { header, rows: body.map((r) => Object.fromEntries(header.map((h, i) => [h, r[i] ?? '']))) };
}

const num = (s: string | undefined): number => (s === undefined || s.trim() === '' ? Number.NaN : Number(s));

function isFamily(s: string): s is ReferenceFamily {
  return (REFERENCE_FAMILIES as readonly string[]).includes(s);
}

/** Metrics of a summary row with a prefix (`val_`/`test_`), keyed `recall@K` / `ndcg@K`. */
function metricsOf(row: Record<string, string>, prefix: 'val' | 'test'): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [key, value] of Object.entries(row)) {
    // test_recall@10 and (for K=5) test_recall_5
    const m = /^(val|test)_(recall|ndcg|precision|hit|mrr)[@_](\d+)$/.exec(key);
    if (!m || m[1] !== prefix) continue;
    const v = num(value);
    if (Number.isFinite(v)) out[`${m[2]}@${m[3]}`] = v;
  }
  return out;
}

/** Reads summary.csv (one row per released run). */
export function loadReferenceSummary(dir: string): ReferenceRun[] {
  const { rows } = readCsv(join(dir, 'summary.csv'));
  const out: ReferenceRun[] = [];
  for (const row of rows) {
    const family = row.model ?? '';
    const dataset = row.dataset ?? '';
    if (!isFamily(family) || !['amazon', 'yelp', 'steam'].includes(dataset)) continue;
    out.push({
      family,
      dataset: dataset as ReferenceDataset,
      log: row.log ?? '',
      ks: (row.ks ?? '').split(/\s+/).filter(Boolean).map(Number),
      valEvaluations: num(row.n_val_evals),
      lastEpoch: num(row.last_epoch),
      bestEpoch: num(row.best_epoch),
      val: metricsOf(row, 'val'),
      test: metricsOf(row, 'test'),
      hparams: row.logged_hparams ?? '',
      general: row.logged_general ?? '',
    });
  }
  return out;
}

/** The summary row of one family on one dataset, if released. */
export function findReferenceRun(
  runs: readonly ReferenceRun[],
  family: ReferenceFamily,
  dataset: ReferenceDataset,
): ReferenceRun | undefined {
  return runs.find((r) => r.family === family && r.dataset === dataset);
}

/**
 * The validation curve of one family on one dataset: the CSV named after the summary's log, else
 * the first `<dataset>_*.csv` of the family's folder. Undefined when there is none.
 */
export function loadReferenceCurve(
  dir: string,
  family: ReferenceFamily,
  dataset: ReferenceDataset,
): ReferenceCurve | undefined {
  const folder = join(dir, family);
  if (!existsSync(folder)) return undefined;
  let file: string | undefined;
  if (existsSync(join(dir, 'summary.csv'))) {
    const log = findReferenceRun(loadReferenceSummary(dir), family, dataset)?.log;
    const csv = log?.replace(/\.log$/, '.csv');
    if (csv && existsSync(join(folder, csv))) file = join(folder, csv);
  }
  if (!file) {
    const name = readdirSync(folder)
      .filter((f) => f.startsWith(`${dataset}_`) && f.endsWith('.csv'))
      .sort()[0];
    if (!name) return undefined;
    file = join(folder, name);
  }
  const { header, rows } = readCsv(file);
  const keys = header.filter((h) => /^(recall|ndcg|precision|hit|mrr)@\d+$/.test(h));
  const curve: ReferenceCurve = { family, dataset, file, val: [] };
  for (const row of rows) {
    const epoch = num(row.epoch);
    if (!Number.isFinite(epoch)) continue;
    const metrics: Record<string, number> = {};
    for (const k of keys) {
      const v = num(row[k]);
      if (Number.isFinite(v)) metrics[k] = v;
    }
    if (row.split === 'val') curve.val.push({ epoch, metrics });
    else if (row.split === 'test') curve.test = { epoch, metrics };
  }
  curve.val.sort((a, b) => a.epoch - b.epoch);
  return curve;
}
