// SYNTHETIC, structured profile embeddings of a dataset's shape (for timing and memory checks of
// the full-scale paths only — they carry no real profile signal): low-rank factors from the train
// matrix's item co-occurrence plus Gaussian noise. The one construction every bench uses.
// Usage: node bench/synthetic-profiles.mjs OUT_DIR [dim=1536]   (Amazon-book, rank 64, seed 7)
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Rng } from '../packages/core/dist/index.js';
import { loadDataset, saveEmbeddings } from '../packages/data/dist/index.js';

/**
 * Item latents ~ N(0, 1) of rank `rank`, user latents = mean of their train items' latents, both
 * projected to `dim` and given N(0, 0.3²) noise; one seeded stream, users drawn before items.
 */
export function syntheticProfiles(ds, { dim, rank, seed }) {
  const rng = new Rng(seed);
  const proj = Float32Array.from({ length: rank * dim }, () => rng.nextNormal() / Math.sqrt(rank));
  const itemLatent = Float32Array.from({ length: ds.numItems * rank }, () => rng.nextNormal());
  const userLatent = new Float32Array(ds.numUsers * rank);
  for (let u = 0; u < ds.numUsers; u++) {
    const s = ds.train.indptr[u];
    const e = ds.train.indptr[u + 1];
    for (let p = s; p < e; p++)
      for (let r = 0; r < rank; r++)
        userLatent[u * rank + r] += itemLatent[ds.train.indices[p] * rank + r] / (e - s);
  }
  const expand = (latent, n) => {
    const m = new Float32Array(n * dim);
    for (let i = 0; i < n; i++) {
      for (let d = 0; d < dim; d++) {
        let v = 0.3 * rng.nextNormal();
        for (let r = 0; r < rank; r++) v += latent[i * rank + r] * proj[r * dim + d];
        m[i * dim + d] = v;
      }
    }
    return { rows: n, cols: dim, data: m };
  };
  const users = expand(userLatent, ds.numUsers);
  const items = expand(itemLatent, ds.numItems);
  return { users, items };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const [out = '/tmp/synthetic-profiles', dimText = '1536'] = process.argv.slice(2);
  const dim = Number(dimText);
  const ds = loadDataset('amazon-book');
  const { users, items } = syntheticProfiles(ds, { dim, rank: 64, seed: 7 });
  mkdirSync(out, { recursive: true });
  saveEmbeddings(join(out, 'usr_emb.npy'), users);
  saveEmbeddings(join(out, 'itm_emb.npy'), items);
  console.log(`wrote synthetic ${ds.numUsers}×${dim} and ${ds.numItems}×${dim} profile embeddings to ${out}`);
}

/**
 * Method inputs from synthetic profiles (timing and memory only): the base profile set (seed 1)
 * and ProEx's three extra sets (seeds 2–4), every set `dim` wide.
 */
export function syntheticMethodInputs(ds, dim) {
  const base = syntheticProfiles(ds, { dim, rank: 16, seed: 1 });
  const extras = [2, 3, 4].map((seed) => syntheticProfiles(ds, { dim, rank: 16, seed }));
  return {
    userProfiles: base.users,
    itemProfiles: base.items,
    extraProfiles: { users: extras.map((e) => e.users), items: extras.map((e) => e.items) },
    sources: { profileEmbeddings: 'synthetic', extraProfileEmbeddings: 'synthetic' },
  };
}
