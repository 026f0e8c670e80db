import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { type Matrix, PromaxError } from '@promax/core';
import { loadEmbeddings } from './loaders.js';

/** ProEx's extra profile embeddings of one folder: variants k = 1..n with both sides present. */
export interface ExtraProfiles {
  readonly users: Matrix[];
  readonly items: Matrix[];
  /** The files read, in variant order (user then item per variant). */
  readonly files: string[];
  /** Expected files that are absent while others of the set exist (a partial set). */
  readonly missing: string[];
}

const STEMS = { user: ['usr_emb_np', 'usr_emb'], item: ['itm_emb_np', 'itm_emb'] } as const;
const EXTS = ['.npy', '.pkl', '.npz'] as const;

function find(dir: string, side: 'user' | 'item', k: number): string | undefined {
  for (const stem of STEMS[side]) {
    for (const ext of EXTS) {
      const p = join(dir, `${stem}_${k}${ext}`);
      if (existsSync(p)) return p;
    }
  }
  return undefined;
}

/**
 * Reads `usr_emb_np_{1..variants}` / `itm_emb_np_{1..variants}` (.npy/.pkl/.npz; `promax embed`
 * writes `usr_emb_np_k.npy`; `usr_emb_k.*` is read too) from `dir`. Undefined when none exists. A partial set (some files
 * but not all 2·variants) loads nothing and lists the missing files, so the method that needs them
 * can name them; rows must match the dataset and every width must equal `width` when given.
 */
export function loadExtraProfiles(
  dir: string,
  dims: { numUsers: number; numItems: number; width?: number },
  variants = 3,
): ExtraProfiles | undefined {
  const found: { k: number; user?: string; item?: string }[] = [];
  for (let k = 1; k <= variants; k++)
    found.push({ k, user: find(dir, 'user', k), item: find(dir, 'item', k) });
  if (found.every((f) => !f.user && !f.item)) return undefined;
  const missing: string[] = [];
  for (const f of found) {
    if (!f.user) missing.push(join(dir, `usr_emb_np_${f.k}.pkl`));
    if (!f.item) missing.push(join(dir, `itm_emb_np_${f.k}.pkl`));
  }
  if (missing.length > 0) return { users: [], items: [], files: [], missing };
  const users: Matrix[] = [];
  const items: Matrix[] = [];
  const files: string[] = [];
  for (const f of found) {
    for (const [side, file, rows, out] of [
      ['user', f.user as string, dims.numUsers, users],
      ['item', f.item as string, dims.numItems, items],
    ] as const) {
      const m = loadEmbeddings(file);
      if (m.rows !== rows) {
        throw new PromaxError({
          code: 'SHAPE_MISMATCH',
          file,
          message: `${file} has ${m.rows} rows but the dataset has ${rows} ${side}s`,
          fix: 'write the extra profiles for this dataset (three profile variants per entity, embedded with the same encoder)',
        });
      }
      if (dims.width !== undefined && m.cols !== dims.width) {
        throw new PromaxError({
          code: 'SHAPE_MISMATCH',
          file,
          message: `${file} is ${m.cols} wide but the profile embeddings are ${dims.width} wide`,
          fix: 'embed every profile variant with the same encoder',
        });
      }
      out.push(m);
      files.push(file);
    }
  }
  return { users, items, files, missing: [] };
}
