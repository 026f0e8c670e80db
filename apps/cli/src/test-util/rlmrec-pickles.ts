import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { csrFromCoo, Rng } from '@promax/core';
import { saveSparseMatrix } from '@promax/data';

/** Users and items of the tiny RLMRec folder (three taste groups of ten items). */
export const RLMREC_TINY = { users: 40, items: 30 } as const;

/** Whether python3 with numpy is here (it writes the pickles, as RLMRec's own files are). */
export const hasNumpy = spawnSync('python3', ['-c', 'import numpy'], { encoding: 'utf8' }).status === 0;

/** A pickle to write: `usr_emb_np{suffix}.pkl` or `itm_emb_np{suffix}.pkl`. */
export type RlmrecPickle = `${'usr' | 'itm'}${'' | '_1' | '_2' | '_3'}`;

/**
 * Writes a tiny RLMRec-layout folder in `dir`: trn/val/tst_mat.npz (6/2/2 items per user from the
 * user's group) and the listed 1536-d float32 profile pickles (seeded normal rows).
 */
export function writeRlmrecPickleFolder(dir: string, pickles: readonly RlmrecPickle[]): string {
  const { users: U, items: I } = RLMREC_TINY;
  mkdirSync(dir, { recursive: true });
  const rng = new Rng(4);
  const parts: [number, number][][] = [[], [], []];
  for (let u = 0; u < U; u++) {
    const items = Array.from({ length: 10 }, (_, k) => ((u % 3) * 10 + k) % I);
    rng.shuffle(items);
    for (const i of items.slice(0, 6)) parts[0]?.push([u, i]);
    for (const i of items.slice(6, 8)) parts[1]?.push([u, i]);
    for (const i of items.slice(8, 10)) parts[2]?.push([u, i]);
  }
  const csr = (pairs: [number, number][] = []) =>
    csrFromCoo({ rows: U, cols: I, row: pairs.map((p) => p[0]), col: pairs.map((p) => p[1]) }).matrix;
  saveSparseMatrix(join(dir, 'trn_mat.npz'), csr(parts[0]));
  saveSparseMatrix(join(dir, 'val_mat.npz'), csr(parts[1]));
  saveSparseMatrix(join(dir, 'tst_mat.npz'), csr(parts[2]));
  const py = `
import pickle, sys, numpy as np
rng = np.random.default_rng(0)
d = sys.argv[1]
for name in sys.argv[2:]:
    n = ${U} if name.startswith('usr') else ${I}
    with open(f'{d}/{name[:3]}_emb_np{name[3:]}.pkl', 'wb') as f:
        pickle.dump(rng.standard_normal((n, 1536)).astype(np.float32), f)
`;
  const r = spawnSync('python3', ['-c', py, dir, ...pickles], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(r.stderr);
  return dir;
}
