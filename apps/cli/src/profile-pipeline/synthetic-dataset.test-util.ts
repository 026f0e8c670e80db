// Test helpers for the profile-pipeline commands: a small synthetic book dataset in our own
// layout (dataset.json + TSV splits with string ids + an item title table) and in the RLMRec
// npz layout, plus profile embeddings that follow its topics.
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { csrFromCoo, type Matrix } from '@promax/core';
import { saveEmbeddings, saveSparseMatrix } from '@promax/data';

export const TOPICS = ['dragons', 'detectives', 'starships'] as const;

export interface SyntheticDataset {
  dir: string;
  /** Original ids in dense order (sorted, as the loader assigns them). */
  users: string[];
  items: string[];
  topicOfUser: number[];
  topicOfItem: number[];
  train: [number, number][];
  val: [number, number][];
  test: [number, number][];
}

/** Deterministic small LCG (tests only). */
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/**
 * 24 users (u00…u23) and 30 books (b00…b29) in 3 topics; each user reads 2–8 train books of
 * their topic, plus 1–2 val and 1–2 test books of it. Every book occurs in train.
 */
export function syntheticSplits(seed = 7): Omit<SyntheticDataset, 'dir'> {
  const rand = lcg(seed);
  const users = Array.from({ length: 24 }, (_, u) => `u${String(u).padStart(2, '0')}`);
  const items = Array.from({ length: 30 }, (_, i) => `b${String(i).padStart(2, '0')}`);
  const topicOfUser = users.map((_, u) => u % 3);
  const topicOfItem = items.map((_, i) => i % 3);
  const train: [number, number][] = [];
  const val: [number, number][] = [];
  const test: [number, number][] = [];
  const covered = new Set<number>();
  users.forEach((_, u) => {
    const pool = items.map((_, i) => i).filter((i) => topicOfItem[i] === topicOfUser[u]);
    for (let k = pool.length - 1; k > 0; k--) {
      const j = Math.floor(rand() * (k + 1));
      [pool[k], pool[j]] = [pool[j] as number, pool[k] as number];
    }
    const nTrain = 2 + (u % 7);
    const nVal = 1 + (u % 2);
    const nTest = 1 + ((u + 1) % 2);
    pool.slice(0, nTrain).forEach((i) => {
      train.push([u, i]);
      covered.add(i);
    });
    for (const i of pool.slice(nTrain, nTrain + nVal)) val.push([u, i]);
    for (const i of pool.slice(nTrain + nVal, nTrain + nVal + nTest)) test.push([u, i]);
  });
  // every book in train (so the id space is the full catalogue whatever the shuffle gave)
  items.forEach((_, i) => {
    if (covered.has(i)) return;
    const u = users.findIndex(
      (_, uu) =>
        topicOfUser[uu] === topicOfItem[i] &&
        !val.some(([a, b]) => a === uu && b === i) &&
        !test.some(([a, b]) => a === uu && b === i),
    );
    train.push([u, i]);
  });
  return { users, items, topicOfUser, topicOfItem, train, val, test };
}

const tsv = (rows: [number, number][], s: Omit<SyntheticDataset, 'dir'>): string =>
  `user\titem\n${rows.map(([u, i]) => `${s.users[u]}\t${s.items[i]}`).join('\n')}\n`;

const created: string[] = [];

/** A fresh folder under the OS temp dir, removed by `removeTempDirs`. */
export function tempDir(prefix = 'promax-cli-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  created.push(dir);
  return dir;
}

/** Removes every folder `tempDir` made (call in afterAll). */
export function removeTempDirs(): void {
  for (const d of created.splice(0)) rmSync(d, { recursive: true, force: true });
}

/** Writes the dataset in our layout: dataset.json, train/val/test.tsv (string ids), items.tsv (item, title, topic). */
export function writeSyntheticDataset(dir = tempDir('promax-ds-')): SyntheticDataset {
  const s = syntheticSplits();
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'train.tsv'), tsv(s.train, s));
  writeFileSync(join(dir, 'val.tsv'), tsv(s.val, s));
  writeFileSync(join(dir, 'test.tsv'), tsv(s.test, s));
  writeFileSync(
    join(dir, 'items.tsv'),
    `item\ttitle\ttopic\n${s.items.map((id, i) => `${id}\tThe ${TOPICS[s.topicOfItem[i] as number]} book number ${i}\t${TOPICS[s.topicOfItem[i] as number]}`).join('\n')}\n`,
  );
  writeFileSync(
    join(dir, 'dataset.json'),
    JSON.stringify({
      name: 'tiny-books',
      train: 'train.tsv',
      val: 'val.tsv',
      test: 'test.tsv',
      itemTexts: 'items.tsv',
    }),
  );
  return { dir, ...s };
}

/** Writes the same interactions in the RLMRec layout (trn_mat/val_mat/tst_mat.npz; dense ids, no texts). */
export function writeSyntheticRlmrec(dir = tempDir('promax-rlmrec-')): SyntheticDataset {
  const s = syntheticSplits();
  mkdirSync(dir, { recursive: true });
  const csr = (pairs: [number, number][]) =>
    csrFromCoo(
      {
        rows: s.users.length,
        cols: s.items.length,
        row: pairs.map((p) => p[0]),
        col: pairs.map((p) => p[1]),
      },
      { duplicates: 'binary' },
    ).matrix;
  saveSparseMatrix(join(dir, 'trn_mat.npz'), csr(s.train));
  saveSparseMatrix(join(dir, 'val_mat.npz'), csr(s.val));
  saveSparseMatrix(join(dir, 'tst_mat.npz'), csr(s.test));
  return { dir, ...s };
}

/** Topic-shaped vectors: a one-hot topic plus small deterministic noise (so profiles carry signal). */
export function topicEmbeddings(topics: readonly number[], dim = 6, seed = 3): Matrix {
  const rand = lcg(seed);
  const data = new Float32Array(topics.length * dim);
  topics.forEach((t, r) => {
    for (let c = 0; c < dim; c++) data[r * dim + c] = (c === t ? 1 : 0) + (rand() - 0.5) * 0.2;
  });
  return { rows: topics.length, cols: dim, data };
}

/** Writes usr_emb.npy / itm_emb.npy for the synthetic dataset into `dir`. */
export function writeTopicEmbeddings(s: SyntheticDataset, dir = tempDir('promax-emb-')): string {
  mkdirSync(dir, { recursive: true });
  saveEmbeddings(join(dir, 'usr_emb.npy'), topicEmbeddings(s.topicOfUser));
  saveEmbeddings(join(dir, 'itm_emb.npy'), topicEmbeddings(s.topicOfItem, 6, 5));
  return dir;
}

/** Every file under a folder with its text (to check that a secret was written nowhere). */
export function filesUnder(dir: string): { path: string; text: string }[] {
  const out: { path: string; text: string }[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...filesUnder(p));
    else out.push({ path: p, text: readFileSync(p).toString('latin1') });
  }
  return out;
}

/** Reads a JSON-lines file. */
export function readJsonl(path: string): Record<string, unknown>[] {
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}
