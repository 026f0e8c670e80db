import { existsSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { PromaxError } from '@promax/core';
import { canonicalDatasetName, type Dataset, readTextTable } from '@promax/data';
import type { Domain } from './prompts.js';

/** The catalogue domain implied by a registered dataset name (prompt wording only). */
export function defaultDomain(ds: Dataset): Domain {
  switch (canonicalDatasetName(ds.name)) {
    case 'dbbook':
    case 'amazon-book':
      return 'books';
    case 'yelp':
      return 'businesses';
    case 'steam':
      return 'games';
    case 'ml100k':
      return 'movies';
    default:
      return 'generic';
  }
}

/** Item texts of a dataset: a title and the other columns as facts, by original item id. */
export interface ItemTexts {
  file: string;
  /** Column the titles came from. */
  titleColumn: string;
  byId: Map<string, { title: string; facts: Record<string, string> }>;
}

const ITEM_TABLES = ['items.tsv', 'items.tsv.gz', 'item_texts.tsv', 'item_texts.tsv.gz'];

/** Finds the dataset's item text table (`files.itemTexts`, else items.tsv(.gz) beside the splits). */
export function itemTextFile(ds: Dataset): string | undefined {
  if (ds.files.itemTexts) return ds.files.itemTexts;
  return ITEM_TABLES.map((f) => join(ds.sourceDir, f)).find((p) => existsSync(p));
}

// MovieLens-100K's genre flags in u.item order, for when u.genre is missing.
const ML100K_GENRES = [
  'unknown',
  'Action',
  'Adventure',
  'Animation',
  "Children's",
  'Comedy',
  'Crime',
  'Documentary',
  'Drama',
  'Fantasy',
  'Film-Noir',
  'Horror',
  'Musical',
  'Mystery',
  'Romance',
  'Sci-Fi',
  'Thriller',
  'War',
  'Western',
];

/** Genre names of a MovieLens u.item file: its sibling u.genre(.gz), else the published list. */
function movieLensGenres(itemFile: string): string[] {
  const dir = itemFile.slice(0, itemFile.length - basename(itemFile).length);
  const file = ['u.genre', 'u.genre.gz'].map((f) => join(dir, f)).find((p) => existsSync(p));
  if (!file) return ML100K_GENRES;
  let bytes = readFileSync(file);
  if (bytes[0] === 0x1f && bytes[1] === 0x8b) bytes = gunzipSync(bytes);
  const names: string[] = [];
  for (const line of bytes.toString('latin1').split('\n')) {
    const [name, index] = line.trim().split('|');
    if (name && index !== undefined && /^\d+$/.test(index)) names[Number(index)] = name;
  }
  return names.length ? Array.from(names, (n, k) => n ?? `genre ${k}`) : ML100K_GENRES;
}

/**
 * Reads item titles (and other columns as facts): a table with a header whose id column is
 * `item`/`item_id`/`id` (else the first) and title column `title`/`name` (else the second), or
 * MovieLens' headerless pipe-separated Latin-1 `u.item`. Undefined when the dataset has none.
 */
export function loadItemTexts(ds: Dataset): ItemTexts | undefined {
  const file = itemTextFile(ds);
  if (!file) return undefined;
  const byId = new Map<string, { title: string; facts: Record<string, string> }>();
  if (basename(file).startsWith('u.item')) {
    let bytes = readFileSync(file);
    if (bytes[0] === 0x1f && bytes[1] === 0x8b) bytes = gunzipSync(bytes);
    const genres = movieLensGenres(file);
    for (const line of bytes.toString('latin1').split('\n')) {
      const f = line.split('|');
      if (f.length < 2 || !f[0]?.trim()) continue;
      const title = (f[1] ?? '').trim();
      const facts: Record<string, string> = { title, release_date: (f[2] ?? '').trim() };
      const year = /(\d{4})\s*$/.exec(facts.release_date as string)?.[1];
      if (year) facts.year = year;
      // Fields 6.. are one 0/1 flag per genre, in u.genre's order.
      const flagged = genres.filter((_, g) => f[5 + g]?.trim() === '1');
      if (flagged.length) facts.genres = flagged.join(', ');
      byId.set(f[0].trim(), { title, facts });
    }
    return { file, titleColumn: 'title (field 2 of u.item)', byId };
  }
  const delimiter = /\.csv(\.gz)?$/i.test(file) ? ',' : '\t';
  const table = readTextTable(file, { delimiter });
  const pick = (names: string[], fallback: number): number => {
    const i = table.header.findIndex((h) => names.includes(h.toLowerCase()));
    return i >= 0 ? i : fallback;
  };
  const idCol = pick(['item', 'item_id', 'itemid', 'iid', 'id'], 0);
  const titleCol = pick(['title', 'name', 'item_name'], idCol === 0 ? 1 : 0);
  if (titleCol >= table.header.length) {
    throw new PromaxError({
      code: 'INVALID_FILE',
      file,
      message: `the item table has no title column (header: ${table.header.join(', ')})`,
      fix: 'give the table a header with an id column (item) and a title column (title)',
    });
  }
  for (const row of table.rows) {
    const facts: Record<string, string> = {};
    table.header.forEach((h, c) => {
      if (c !== idCol && row[c] !== undefined && row[c] !== '') facts[h] = row[c] as string;
    });
    byId.set((row[idCol] as string).trim(), { title: (row[titleCol] as string).trim(), facts });
  }
  return { file, titleColumn: table.header[titleCol] as string, byId };
}
