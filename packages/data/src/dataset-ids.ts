import { createHash } from 'node:crypto';
import type { Dataset } from './dataset.js';

/** Original ids by dense id (the dataset's id map, or the dense ids themselves when it has none). */
export function rawIds(ds: Dataset, which: 'user' | 'item'): string[] {
  const ids = which === 'user' ? ds.userIds : ds.itemIds;
  const n = which === 'user' ? ds.numUsers : ds.numItems;
  return ids ?? Array.from({ length: n }, (_, k) => String(k));
}

/** original id → dense id. */
export function indexOf(ids: readonly string[]): Map<string, number> {
  const m = new Map<string, number>();
  ids.forEach((id, k) => {
    m.set(id, k);
  });
  return m;
}

/** sha256 of the ordered id list: identifies the dense-id order embeddings must follow. */
export const idsSha256 = (ids: readonly string[]): string =>
  createHash('sha256').update(ids.join('\n')).digest('hex');
