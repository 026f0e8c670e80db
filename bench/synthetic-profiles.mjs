// Writes SYNTHETIC, structured 1536-d profile embeddings of Amazon-book's shape (for timing and
// memory checks of the full-scale ProMax path only — they carry no real profile signal):
// low-rank factors from the train matrix's item co-occurrence plus Gaussian noise.
// Usage: node bench/synthetic-profiles.mjs OUT_DIR [dim=1536]
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Rng } from '../packages/core/dist/index.js';
import { loadDataset, saveEmbeddings } from '../packages/data/dist/index.js';

const [out = '/tmp/synthetic-profiles', dimText = '1536'] = process.argv.slice(2);
const D = Number(dimText);
const R = 64; // latent rank
const ds = loadDataset('amazon-book');
const rng = new Rng(7);
const proj = Float32Array.from({ length: R * D }, () => rng.nextNormal() / Math.sqrt(R));
const itemLatent = Float32Array.from({ length: ds.numItems * R }, () => rng.nextNormal());
const userLatent = new Float32Array(ds.numUsers * R);
for (let u = 0; u < ds.numUsers; u++) {
  const s = ds.train.indptr[u];
  const e = ds.train.indptr[u + 1];
  for (let p = s; p < e; p++)
    for (let r = 0; r < R; r++) userLatent[u * R + r] += itemLatent[ds.train.indices[p] * R + r] / (e - s);
}
const expand = (latent, n) => {
  const m = new Float32Array(n * D);
  for (let i = 0; i < n; i++) {
    for (let d = 0; d < D; d++) {
      let v = 0.3 * rng.nextNormal();
      for (let r = 0; r < R; r++) v += latent[i * R + r] * proj[r * D + d];
      m[i * D + d] = v;
    }
  }
  return { rows: n, cols: D, data: m };
};
mkdirSync(out, { recursive: true });
saveEmbeddings(join(out, 'usr_emb.npy'), expand(userLatent, ds.numUsers));
saveEmbeddings(join(out, 'itm_emb.npy'), expand(itemLatent, ds.numItems));
console.log(`wrote synthetic ${ds.numUsers}×${D} and ${ds.numItems}×${D} profile embeddings to ${out}`);
