import { type CsrMatrix, PromaxError } from '@promax/core';
import { type Delimiter, delimiterName, sniffDelimiter, splitFields, splitLines } from './delimited.js';
import { readTextFile } from './files.js';
import { cooToCsr } from './sparse-build.js';

/** A column by header name (case-insensitive) or 0-based position. */
export type ColumnRef = string | number;

export interface InteractionColumns {
  user?: ColumnRef;
  item?: ColumnRef;
  rating?: ColumnRef;
  timestamp?: ColumnRef;
}

export interface ReadInteractionsOptions {
  /** Field delimiter; 'auto' (default) sniffs tab, comma, semicolon, pipe, then whitespace. */
  delimiter?: Delimiter | 'auto';
  /** Whether line 1 is a header; 'auto' (default) looks for known column names. */
  header?: boolean | 'auto';
  /** Where the columns are. Defaults: known header names, else user, item, rating, timestamp in order. */
  columns?: InteractionColumns;
  /** Keep rows whose rating is ≥ this (e.g. 4 for MovieLens' 1–5 stars). */
  minRating?: number;
  /** Keep rows whose rating equals this (e.g. 1 for DBbook's `label`). */
  ratingEquals?: number;
}

/** Rows of an interaction file with their raw string ids (every data row, kept or not). */
export interface InteractionTable {
  readonly file: string;
  readonly users: string[];
  readonly items: string[];
  readonly ratings?: Float64Array;
  readonly timestamps?: Float64Array;
  /** 1 where the row passes the rating filter. */
  readonly keep: Uint8Array;
  /** 1-based line number of each row. */
  readonly lines: Int32Array;
  readonly header?: string[];
  readonly delimiter: Delimiter;
  readonly kept: number;
}

const NAMES = {
  user: ['user', 'user_id', 'userid', 'uid', 'reviewerid', 'username', 'customer_id'],
  item: [
    'item',
    'item_id',
    'itemid',
    'iid',
    'movie',
    'movie_id',
    'movieid',
    'asin',
    'business_id',
    'product_id',
    'book_id',
  ],
  rating: ['rating', 'label', 'score', 'stars', 'value', 'weight'],
  timestamp: ['timestamp', 'time', 'ts', 'date', 'unix_time'],
} as const;
const ALL_NAMES = new Set<string>(Object.values(NAMES).flat());

const isNumber = (s: string | undefined): boolean =>
  s !== undefined && s.trim() !== '' && Number.isFinite(Number(s));

/** A text field above a numeric one (in any column) marks line 1 as a header. */
function looksLikeHeader(first: string[], second: string[]): boolean {
  return first.some((f, i) => !isNumber(f) && isNumber(second[i]));
}

/** Reads a TSV/CSV interaction file (`user,item[,rating][,timestamp]`, optionally gzipped). */
export function readInteractions(path: string, options: ReadInteractionsOptions = {}): InteractionTable {
  const lines = splitLines(readTextFile(path));
  const delimiter =
    !options.delimiter || options.delimiter === 'auto' ? sniffDelimiter(lines, path) : options.delimiter;
  let first = 0;
  while (first < lines.length && lines[first].trim() === '') first++;
  const firstFields = first < lines.length ? splitFields(lines[first], delimiter).map((f) => f.trim()) : [];
  let header: string[] | undefined;
  const named = Object.values(options.columns ?? {}).some((c) => typeof c === 'string');
  const wantHeader =
    options.header === true ||
    ((options.header ?? 'auto') === 'auto' &&
      (named ||
        firstFields.some((f) => ALL_NAMES.has(f.toLowerCase())) ||
        looksLikeHeader(firstFields, splitFields(lines[first + 1] ?? '', delimiter))));
  if (wantHeader) header = firstFields;

  const fail = (line: number, message: string, fix: string): PromaxError =>
    new PromaxError({
      code: 'INVALID_FILE',
      message: `line ${line}: ${message}`,
      file: path,
      fix,
      details: { line },
    });
  const sep = delimiter === '\t' ? '<TAB>' : delimiter === 'whitespace' ? ' ' : delimiter;
  const layout = `user${sep}item[${sep}rating[${sep}timestamp]]`;

  const col = (which: keyof InteractionColumns, fallback: number | undefined): number | undefined => {
    const ref = options.columns?.[which];
    if (typeof ref === 'number') return ref;
    if (typeof ref === 'string') {
      const i = header?.findIndex((h) => h.toLowerCase() === ref.toLowerCase()) ?? -1;
      if (i < 0) {
        throw new PromaxError({
          code: 'INVALID_ARGUMENT',
          message: `column '${ref}' (${which}) is not in the header [${(header ?? []).join(', ')}]`,
          file: path,
          field: `columns.${which}`,
          fix: 'name a column of the header, or give a 0-based index',
        });
      }
      return i;
    }
    if (header) {
      const i = header.findIndex((h) => (NAMES[which] as readonly string[]).includes(h.toLowerCase()));
      if (i >= 0) return i;
      if (which === 'rating' || which === 'timestamp') return undefined;
    }
    return fallback !== undefined && fallback < firstFields.length ? fallback : undefined;
  };
  const ui = col('user', 0) ?? 0;
  const ii = col('item', 1) ?? 1;
  const ri = col('rating', header ? undefined : 2);
  const ti = col('timestamp', header ? undefined : 3);
  const filtering = options.minRating !== undefined || options.ratingEquals !== undefined;
  if (filtering && ri === undefined) {
    throw new PromaxError({
      code: 'INVALID_ARGUMENT',
      message: 'a rating filter was given but the file has no rating column',
      file: path,
      field: 'minRating',
      fix: 'name the rating column with { columns: { rating } } or drop the filter',
    });
  }
  const width = Math.max(ui, ii, ri ?? 0, ti ?? 0) + 1;

  const users: string[] = [];
  const items: string[] = [];
  const ratings: number[] | undefined = ri === undefined ? undefined : [];
  const stamps: number[] | undefined = ti === undefined ? undefined : [];
  const lineNos: number[] = [];
  const keep: number[] = [];
  let kept = 0;
  for (let i = header ? first + 1 : first; i < lines.length; i++) {
    const text = lines[i];
    if (text.trim() === '') continue;
    const f = splitFields(text, delimiter);
    const lineNo = i + 1;
    if (f.length < width) {
      throw fail(
        lineNo,
        `has ${f.length} field${f.length === 1 ? '' : 's'} separated by ${delimiterName(delimiter)}, expected at least ${width}`,
        `each line must be ${layout}; fix or remove line ${lineNo}`,
      );
    }
    const u = f[ui].trim();
    const it = f[ii].trim();
    if (u === '' || it === '')
      throw fail(lineNo, 'empty user or item id', `fill in the ids or remove line ${lineNo}`);
    let ok = true;
    if (ratings && ri !== undefined) {
      const r = Number(f[ri]);
      if (f[ri].trim() === '' || !Number.isFinite(r)) {
        throw fail(
          lineNo,
          `rating ${JSON.stringify(f[ri])} is not a number`,
          `write a numeric rating or remove line ${lineNo}`,
        );
      }
      ratings.push(r);
      if (options.minRating !== undefined && !(r >= options.minRating)) ok = false;
      if (options.ratingEquals !== undefined && r !== options.ratingEquals) ok = false;
    }
    if (stamps && ti !== undefined) {
      const raw = f[ti].trim();
      const t = isNumber(raw) ? Number(raw) : Date.parse(raw);
      if (!Number.isFinite(t)) {
        throw fail(
          lineNo,
          `timestamp ${JSON.stringify(raw)} is neither a number nor a date`,
          `fix the timestamp on line ${lineNo}`,
        );
      }
      stamps.push(t);
    }
    users.push(u);
    items.push(it);
    lineNos.push(lineNo);
    keep.push(ok ? 1 : 0);
    if (ok) kept++;
  }
  return {
    file: path,
    users,
    items,
    ratings: ratings ? Float64Array.from(ratings) : undefined,
    timestamps: stamps ? Float64Array.from(stamps) : undefined,
    keep: Uint8Array.from(keep),
    lines: Int32Array.from(lineNos),
    header,
    delimiter,
    kept,
  };
}

/** The table with its rating filter replaced (rows stay; only `keep` changes). */
export function filterByRating(
  table: InteractionTable,
  filter: { minRating?: number; ratingEquals?: number },
): InteractionTable {
  const r = table.ratings;
  if (!r) {
    throw new PromaxError({
      code: 'INVALID_ARGUMENT',
      message: 'a rating filter was given but the file has no rating column',
      file: table.file,
      fix: 'name the rating column with { columns: { rating } } or drop the filter',
    });
  }
  const keep = new Uint8Array(r.length);
  let kept = 0;
  for (let k = 0; k < r.length; k++) {
    const ok =
      (filter.minRating === undefined || r[k] >= filter.minRating) &&
      (filter.ratingEquals === undefined || r[k] === filter.ratingEquals);
    if (ok) {
      keep[k] = 1;
      kept++;
    }
  }
  return { ...table, keep, kept };
}

/** Interactions of one file with dense ids, kept rows only. */
export interface IndexedInteractions {
  readonly file: string;
  readonly users: Int32Array;
  readonly items: Int32Array;
  readonly ratings?: Float32Array;
  readonly timestamps?: Float64Array;
  readonly lines: Int32Array;
}

export interface IndexOptions {
  /**
   * Dense id order: 'sorted' (default; numeric when every id is an integer, else by code unit)
   * or 'appearance' (first seen, file by file).
   */
  order?: 'sorted' | 'appearance';
  /**
   * Which rows define the id space: 'all-rows' (default; ids of rows dropped by the rating
   * filter still get an id, so every user/item of the files is known) or 'kept-rows'.
   */
  idSpace?: 'all-rows' | 'kept-rows';
  /** Fixed user ids (dense id = position); ids outside it are an error. */
  userIds?: readonly string[];
  /** Fixed item ids (dense id = position); ids outside it are an error. */
  itemIds?: readonly string[];
}

export interface IndexedSplits {
  userIds: string[];
  itemIds: string[];
  splits: IndexedInteractions[];
}

function orderIds(ids: string[], order: 'sorted' | 'appearance'): string[] {
  if (order === 'appearance') return ids;
  if (ids.every((s) => /^-?\d+$/.test(s))) {
    return ids.sort((a, b) => Number(a) - Number(b) || (a < b ? -1 : a > b ? 1 : 0));
  }
  return ids.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/**
 * Maps raw string ids to dense ids consistently across several files (e.g. train/val/test) and
 * keeps the maps (`userIds[dense] = raw`).
 */
export function indexInteractions(
  tables: readonly InteractionTable[],
  options: IndexOptions = {},
): IndexedSplits {
  const allRows = (options.idSpace ?? 'all-rows') === 'all-rows';
  const build = (
    fixed: readonly string[] | undefined,
    pick: (t: InteractionTable) => string[],
  ): Map<string, number> => {
    const map = new Map<string, number>();
    if (fixed) {
      fixed.forEach((id, i) => {
        map.set(id, i);
      });
      return map;
    }
    const seen = new Set<string>();
    for (const t of tables) {
      const ids = pick(t);
      for (let k = 0; k < ids.length; k++) if (allRows || t.keep[k]) seen.add(ids[k]);
    }
    orderIds([...seen], options.order ?? 'sorted').forEach((id, i) => {
      map.set(id, i);
    });
    return map;
  };
  const userMap = build(options.userIds, (t) => t.users);
  const itemMap = build(options.itemIds, (t) => t.items);
  const splits = tables.map((t): IndexedInteractions => {
    const n = t.kept;
    const users = new Int32Array(n);
    const items = new Int32Array(n);
    const ratings = t.ratings ? new Float32Array(n) : undefined;
    const timestamps = t.timestamps ? new Float64Array(n) : undefined;
    const lines = new Int32Array(n);
    let w = 0;
    for (let k = 0; k < t.users.length; k++) {
      if (!t.keep[k]) continue;
      const u = userMap.get(t.users[k]);
      const i = itemMap.get(t.items[k]);
      if (u === undefined || i === undefined) {
        const which = u === undefined ? `user '${t.users[k]}'` : `item '${t.items[k]}'`;
        throw new PromaxError({
          code: 'ID_OUT_OF_RANGE',
          message: `line ${t.lines[k]}: ${which} is not in the given id list`,
          file: t.file,
          fix: 'add the id to the id list or drop the row',
          details: { line: t.lines[k] },
        });
      }
      users[w] = u;
      items[w] = i;
      if (ratings && t.ratings) ratings[w] = t.ratings[k];
      if (timestamps && t.timestamps) timestamps[w] = t.timestamps[k];
      lines[w] = t.lines[k];
      w++;
    }
    return { file: t.file, users, items, ratings, timestamps, lines };
  });
  const invert = (m: Map<string, number>): string[] => {
    const out = new Array<string>(m.size);
    for (const [id, i] of m) out[i] = id;
    return out;
  };
  return { userIds: invert(userMap), itemIds: invert(itemMap), splits };
}

export interface InteractionMatrixReport {
  file: string;
  /** Rows turned into entries. */
  rows: number;
  /** Rows repeating an earlier (user, item) pair, merged into it. */
  duplicates: number;
}

/** Binary CSR of indexed interactions; duplicate rows are merged and counted. */
export function interactionsToCsr(
  ix: IndexedInteractions,
  numUsers: number,
  numItems: number,
): { matrix: CsrMatrix; report: InteractionMatrixReport } {
  const { matrix, report } = cooToCsr(numUsers, numItems, ix.users, ix.items, undefined, {
    binarize: true,
    file: ix.file,
  });
  return { matrix, report: { file: ix.file, rows: ix.users.length, duplicates: report.duplicates } };
}

export interface LoadedInteractions {
  userIds: string[];
  itemIds: string[];
  matrix: CsrMatrix;
  report: InteractionMatrixReport & {
    kept: number;
    filtered: number;
    delimiter: Delimiter;
    header?: string[];
  };
}

/** Reads one interaction file into a binary CSR with its id maps. */
export function loadInteractions(
  path: string,
  options: ReadInteractionsOptions & IndexOptions = {},
): LoadedInteractions {
  const table = readInteractions(path, options);
  const { userIds, itemIds, splits } = indexInteractions([table], options);
  const { matrix, report } = interactionsToCsr(splits[0], userIds.length, itemIds.length);
  return {
    userIds,
    itemIds,
    matrix,
    report: {
      ...report,
      kept: table.kept,
      filtered: table.users.length - table.kept,
      delimiter: table.delimiter,
      header: table.header,
    },
  };
}
