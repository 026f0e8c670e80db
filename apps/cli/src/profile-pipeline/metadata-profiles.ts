import type { Dataset } from '@promax/data';
import { rawIds } from '@promax/data';
import type { ItemTexts, ProfileEntry } from '@promax/profiles';

/** Item-table columns that are identifiers or links, not descriptions (left out of the text). */
const NON_TEXT_COLUMN = /(^|_)(uri|url|link|id|iid|asin|imdb)$/i;

/** Settings of the text profiles written without an LLM. */
export interface MetadataProfileOptions {
  /** Train items shown per user (an even spread over the row when it has more). */
  maxHistoryItems: number;
  /** At most this many users and items (the first ids). */
  limit: number;
}

/**
 * An item's metadata as one line of text: the title, then every other descriptive column of the
 * dataset's item table (`genres: …; year: …`). Identifier and link columns are left out.
 */
export function itemMetadataText(title: string, facts: Readonly<Record<string, string>>): string {
  const rest = Object.entries(facts)
    .filter(([k, v]) => k !== 'title' && v.trim() !== '' && !NON_TEXT_COLUMN.test(k))
    .map(([k, v]) => `${k.replace(/_/g, ' ')}: ${v.trim()}`);
  return rest.length ? `${title}. ${rest.join('; ')}` : title;
}

/** `count` positions spread evenly over `length` (all of them when length ≤ count). */
function spread(length: number, count: number): number[] {
  if (length <= count) return Array.from({ length }, (_, k) => k);
  return Array.from({ length: count }, (_, k) => Math.floor((k * length) / count));
}

/**
 * Text profiles with no LLM, from what the dataset itself says: an item's profile is its metadata
 * (`itemMetadataText`); a user's is the list of their TRAIN items (titles with their genres when
 * the table has them) — validation and test items never enter it, so these profiles leak nothing.
 * They are the "no LLM" arm of an ablation: the same chain (embed, retrieve, A′, SDR) on the
 * dataset's raw text instead of an LLM's summary of it.
 */
export function metadataProfiles(
  ds: Dataset,
  texts: ItemTexts,
  options: MetadataProfileOptions,
): { item: ProfileEntry[]; user: ProfileEntry[]; itemsWithoutText: number; usersWithoutText: number } {
  const iids = rawIds(ds, 'item');
  const uids = rawIds(ds, 'user');
  const item: ProfileEntry[] = [];
  const itemText: (string | undefined)[] = [];
  let itemsWithoutText = 0;
  for (let j = 0; j < ds.numItems; j++) {
    const t = texts.byId.get(iids[j] as string);
    const text = t?.title ? itemMetadataText(t.title, t.facts) : undefined;
    itemText[j] = t?.title ? (t.facts.genres ? `${t.title} (${t.facts.genres})` : t.title) : undefined;
    if (j >= options.limit) continue;
    if (text) item.push({ id: iids[j] as string, profile: text });
    else itemsWithoutText++;
  }
  const user: ProfileEntry[] = [];
  let usersWithoutText = 0;
  const { indptr, indices } = ds.train;
  for (let u = 0; u < Math.min(ds.numUsers, options.limit); u++) {
    const row = Array.from(indices.subarray(indptr[u], indptr[u + 1]))
      .filter((j) => itemText[j] !== undefined)
      .sort((a, b) => a - b);
    if (row.length === 0) {
      usersWithoutText++;
      continue;
    }
    const shown = spread(row.length, options.maxHistoryItems).map((k) => itemText[row[k] as number]);
    user.push({
      id: uids[u] as string,
      profile: `${row.length} items in the history, including: ${shown.join('; ')}`,
    });
  }
  return { item, user, itemsWithoutText, usersWithoutText };
}

/** The facets of the extra metadata profiles (ProEx reads three extra profiles per entity). */
export const METADATA_VARIANT_FACETS = ['genres', 'titles', 'era'] as const;

const YEAR = /\b(1[89]\d\d|20\d\d)\b/;

/**
 * Extra text profiles with no LLM, one facet each (ProEx's "multiple profiles" without an LLM):
 * 1 `genres` — an item's genre/category columns, a user's genre counts over their train items;
 * 2 `titles` — titles only; 3 `era` — an item's year and genres, a user's decades of their train
 * items. Columns a dataset lacks fall back to the title, so every entity gets each variant.
 */
export function metadataVariantProfiles(
  ds: Dataset,
  texts: ItemTexts,
  variant: 1 | 2 | 3,
  options: MetadataProfileOptions,
): { item: ProfileEntry[]; user: ProfileEntry[] } {
  const facet = METADATA_VARIANT_FACETS[variant - 1];
  const iids = rawIds(ds, 'item');
  const uids = rawIds(ds, 'user');
  const genreKey = (facts: Readonly<Record<string, string>>) =>
    Object.keys(facts).find((k) => /genre|categor|topic|tag/i.test(k));
  const info: ({ title: string; genres: string[]; year?: string } | undefined)[] = [];
  for (let j = 0; j < ds.numItems; j++) {
    const t = texts.byId.get(iids[j] as string);
    if (!t?.title) continue;
    const g = genreKey(t.facts);
    const genres = g ? (t.facts[g] as string).split(/\s*[,|;]\s*/).filter(Boolean) : [];
    const year = t.facts.year ?? YEAR.exec(`${t.facts.release_date ?? ''} ${t.title}`)?.[1];
    info[j] = year ? { title: t.title, genres, year } : { title: t.title, genres };
  }
  const itemText = (j: number): string | undefined => {
    const x = info[j];
    if (!x) return undefined;
    if (facet === 'titles' || (facet === 'genres' && x.genres.length === 0)) return x.title;
    if (facet === 'genres') return `genres: ${x.genres.join(', ')}`;
    return [x.year ? `from ${x.year}` : x.title, x.genres.length ? `genres: ${x.genres.join(', ')}` : '']
      .filter(Boolean)
      .join('; ');
  };
  const item: ProfileEntry[] = [];
  for (let j = 0; j < Math.min(ds.numItems, options.limit); j++) {
    const text = itemText(j);
    if (text) item.push({ id: iids[j] as string, profile: text });
  }
  const user: ProfileEntry[] = [];
  const { indptr, indices } = ds.train;
  const counted = (keys: string[]) => {
    const counts = new Map<string, number>();
    for (const k of keys) counts.set(k, (counts.get(k) ?? 0) + 1);
    return [...counts.entries()]
      .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
      .map(([k, n]) => `${k} ${n}`)
      .join(', ');
  };
  for (let u = 0; u < Math.min(ds.numUsers, options.limit); u++) {
    const row = Array.from(indices.subarray(indptr[u], indptr[u + 1]))
      .filter((j) => info[j] !== undefined)
      .sort((a, b) => a - b);
    if (row.length === 0) continue;
    const items = row.map((j) => info[j] as { title: string; genres: string[]; year?: string });
    const genres = items.flatMap((x) => x.genres);
    const decades = items.flatMap((x) => (x.year ? [`${x.year.slice(0, 3)}0s`] : []));
    let text: string;
    if (facet === 'genres' && genres.length) text = `genres of the history: ${counted(genres)}`;
    else if (facet === 'era' && decades.length) text = `decades of the history: ${counted(decades)}`;
    else
      text = `titles: ${spread(items.length, options.maxHistoryItems)
        .map((k) => items[k]?.title)
        .join('; ')}`;
    user.push({ id: uids[u] as string, profile: text });
  }
  return { item, user };
}
