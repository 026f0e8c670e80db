import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type Matrix, PromaxError } from '@promax/core';
import { type Dataset, idsSha256, loadEmbeddings, rawIds } from '@promax/data';

/** Files written by `promax embed`. */
export const EMBEDDING_FILES = {
  user: 'usr_emb.npy',
  item: 'itm_emb.npy',
  manifest: 'embed_manifest.json',
} as const;

/**
 * The file of extra profile variant k written by `promax embed` beside EMBEDDING_FILES:
 * `usr_emb_np_k.npy` / `itm_emb_np_k.npy`, RLMRec's names for ProEx's extra profiles, which the
 * dataset loader reads from a dataset folder and `promax train --embeddings DIR` from DIR.
 */
export function variantEmbeddingFile(side: 'user' | 'item', variant: number): string {
  return `${side === 'user' ? 'usr' : 'itm'}_emb_np_${variant}.npy`;
}

/** The part of embed_manifest.json that later commands read. */
export interface EmbedManifestView {
  dataset?: { name?: string; dir?: string; userIdsSha256?: string; itemIdsSha256?: string };
  encoder?: { spec?: string; modelId?: string; dimensions?: number };
  user?: { textSource?: { kind?: string; file?: string } };
  item?: { textSource?: { kind?: string; file?: string } };
}

export interface EmbeddingPair {
  dir: string;
  userEmb: Matrix;
  itemEmb: Matrix;
  userFile: string;
  itemFile: string;
  manifest?: EmbedManifestView;
  /** All-zero rows (entities without a text). */
  zeroRows: { users: number; items: number };
}

const firstExisting = (dir: string, names: string[]): string | undefined =>
  names.map((n) => join(dir, n)).find((p) => existsSync(p));

export function countZeroRows(m: Matrix): number {
  let zeros = 0;
  for (let r = 0; r < m.rows; r++) {
    let nz = false;
    for (let c = r * m.cols; c < (r + 1) * m.cols; c++) {
      if (m.data[c] !== 0) {
        nz = true;
        break;
      }
    }
    if (!nz) zeros++;
  }
  return zeros;
}

/**
 * Loads `--embeddings DIR` for a dataset: usr_emb.npy / itm_emb.npy (or RLMRec's usr_emb_np /
 * itm_emb_np), checked to have one row per user / item of the dataset and — when the folder
 * has an embed_manifest.json — to follow this dataset's id order.
 */
export function loadEmbeddingPair(dir: string, ds: Dataset, datasetFlag = '--dataset'): EmbeddingPair {
  const missing = (which: string): PromaxError =>
    new PromaxError({
      code: 'FILE_NOT_FOUND',
      field: '--embeddings',
      file: join(dir, which === 'user' ? EMBEDDING_FILES.user : EMBEDDING_FILES.item),
      message: `no ${which} embeddings in ${dir}`,
      fix: `make them with: promax embed --profiles PROFILES --encoder onnx:MODEL_DIR --dataset ${ds.name} --out ${dir}`,
    });
  const userFile = firstExisting(dir, [EMBEDDING_FILES.user, 'usr_emb_np.npy', 'usr_emb_np.pkl']);
  const itemFile = firstExisting(dir, [EMBEDDING_FILES.item, 'itm_emb_np.npy', 'itm_emb_np.pkl']);
  if (!userFile) throw missing('user');
  if (!itemFile) throw missing('item');
  const userEmb = loadEmbeddings(userFile);
  const itemEmb = loadEmbeddings(itemFile);
  const rowCheck = (m: Matrix, expected: number, which: 'user' | 'item', file: string): void => {
    if (m.rows === expected) return;
    throw new PromaxError({
      code: 'SHAPE_MISMATCH',
      field: '--embeddings',
      file,
      message: `${file} has ${m.rows} rows but dataset '${ds.name}' has ${expected} ${which}s`,
      fix: `embed again for this dataset (promax embed ... --dataset ${ds.name} --out DIR), or pass the ${datasetFlag} these embeddings were made for`,
      details: { rows: m.rows, expected, which },
    });
  };
  rowCheck(userEmb, ds.numUsers, 'user', userFile);
  rowCheck(itemEmb, ds.numItems, 'item', itemFile);
  if (userEmb.cols !== itemEmb.cols) {
    throw new PromaxError({
      code: 'SHAPE_MISMATCH',
      field: '--embeddings',
      file: itemFile,
      message: `user embeddings are ${userEmb.cols}-d but item embeddings ${itemEmb.cols}-d`,
      fix: 'embed users and items with the same encoder (one promax embed run writes both)',
    });
  }
  let manifest: EmbedManifestView | undefined;
  const manifestPath = join(dir, EMBEDDING_FILES.manifest);
  if (existsSync(manifestPath)) {
    try {
      manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as EmbedManifestView;
    } catch {
      manifest = undefined;
    }
    for (const which of ['user', 'item'] as const) {
      const recorded = manifest?.dataset?.[which === 'user' ? 'userIdsSha256' : 'itemIdsSha256'];
      if (recorded && recorded !== idsSha256(rawIds(ds, which))) {
        throw new PromaxError({
          code: 'INVALID_DATA',
          field: '--embeddings',
          file: manifestPath,
          message: `the ${which} rows in ${dir} follow the id order of dataset '${manifest?.dataset?.name}' (${manifest?.dataset?.dir}), not of '${ds.name}' (${ds.sourceDir})`,
          fix: `embed again with --dataset ${ds.name}, or pass the ${datasetFlag} these embeddings were made for`,
        });
      }
    }
  }
  return {
    dir,
    userEmb,
    itemEmb,
    userFile,
    itemFile,
    manifest,
    zeroRows: { users: countZeroRows(userEmb), items: countZeroRows(itemEmb) },
  };
}
