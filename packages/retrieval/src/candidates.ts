import type { CsrMatrix, Matrix } from '@promax/core';
import { l2NormalizeRows, selectRows } from './normalize.js';
import type { Retriever } from './retriever.js';
import { throwIfAborted } from './validate.js';

export interface CandidateSettings {
  /** Items retrieved per user by user–item profile cosine (train items excluded). */
  itemPool: number;
  /** Most profile-similar other users whose train items join the candidates. */
  userPool: number;
  /** Weight of neighbour support in the candidate score. */
  neighbourWeight: number;
  /** Candidates kept per user, best score first. */
  maxCandidates: number;
}

/** Ragged per-user candidate lists: user `users[j]` owns `items[indptr[j] .. indptr[j+1])`, best first. */
export interface CandidateLists {
  users: Int32Array;
  indptr: Int32Array;
  items: Int32Array;
  /** The ordering score (see `retrieveCandidates`). */
  scores: Float64Array;
  /** How many candidates each user had before the `maxCandidates` cut. */
  poolSizes: Int32Array;
}

/**
 * Candidate items for the given users from profile embeddings.
 *
 * Sources: the top `itemPool` items by cos(profile_u, profile_i) and the train items of the
 * `userPool` users with the highest cos(profile_u, profile_v), v ≠ u; the user's own train items
 * are removed and duplicates merged. Order: score(u, i) = cos(u, i) + neighbourWeight · s(u, i),
 * where s(u, i) is the fraction of the found neighbours that have i in train (0 … 1), highest
 * first, ties → lower item id. cos is computed in float64 from the normalised float32 vectors
 * for every candidate, whichever source found it. With neighbourWeight 0 the neighbour items
 * only matter once the item pool is exhausted.
 */
export async function retrieveCandidates(args: {
  users: Int32Array;
  userEmb: Matrix;
  itemEmb: Matrix;
  train: CsrMatrix;
  settings: CandidateSettings;
  retriever: Retriever;
  signal?: AbortSignal;
}): Promise<CandidateLists> {
  const { users, train, settings, retriever, signal } = args;
  const d = args.userEmb.cols;
  const userUnit = l2NormalizeRows(args.userEmb);
  const itemUnit = l2NormalizeRows(args.itemEmb);
  const queries = selectRows(userUnit, users);
  const numItems = itemUnit.rows;
  const numUsers = userUnit.rows;

  // top items by profile cosine (unit vectors, so 'dot' is the cosine)
  const itemK = Math.min(settings.itemPool, numItems);
  let itemHits: { indices: Int32Array; counts: Int32Array } | undefined;
  if (itemK > 0 && users.length > 0) {
    await retriever.index(itemUnit);
    itemHits = await retriever.doSearch({
      queries,
      k: itemK,
      metric: 'dot',
      exclude: selectCsrRows(train, users),
      signal,
    });
  }
  throwIfAborted(signal, 'candidate retrieval');

  // most similar other users
  const userK = Math.min(settings.userPool, numUsers - 1);
  let neighbours: { indices: Int32Array; counts: Int32Array } | undefined;
  if (userK > 0 && users.length > 0) {
    const self: CsrMatrix = {
      rows: users.length,
      cols: numUsers,
      indptr: Int32Array.from({ length: users.length + 1 }, (_, i) => i),
      indices: Int32Array.from(users),
    };
    await retriever.index(userUnit);
    neighbours = await retriever.doSearch({ queries, k: userK, metric: 'dot', exclude: self, signal });
  }
  throwIfAborted(signal, 'candidate retrieval');

  const support = new Int32Array(numItems);
  const seen = new Uint8Array(numItems);
  const blocked = new Uint8Array(numItems);
  const indptr = new Int32Array(users.length + 1);
  const poolSizes = new Int32Array(users.length);
  const outItems: number[] = [];
  const outScores: number[] = [];
  const list: number[] = [];
  const score = new Float64Array(numItems);
  for (let j = 0; j < users.length; j++) {
    const u = users[j];
    for (let p = train.indptr[u]; p < train.indptr[u + 1]; p++) blocked[train.indices[p]] = 1;
    list.length = 0;
    const push = (item: number): void => {
      if (blocked[item] || seen[item]) return;
      seen[item] = 1;
      list.push(item);
    };
    if (itemHits) for (let r = 0; r < itemHits.counts[j]; r++) push(itemHits.indices[j * itemK + r]);
    let found = 0;
    if (neighbours) {
      found = neighbours.counts[j];
      for (let r = 0; r < found; r++) {
        const v = neighbours.indices[j * userK + r];
        for (let p = train.indptr[v]; p < train.indptr[v + 1]; p++) {
          const item = train.indices[p];
          if (blocked[item]) continue;
          support[item]++;
          push(item);
        }
      }
    }
    const uo = u * d;
    for (const item of list) {
      let s = 0;
      const io = item * d;
      for (let c = 0; c < d; c++) s += userUnit.data[uo + c] * itemUnit.data[io + c];
      score[item] = s + (found > 0 ? (settings.neighbourWeight * support[item]) / found : 0);
    }
    list.sort((a, b) => score[b] - score[a] || a - b);
    poolSizes[j] = list.length;
    const keep = Math.min(list.length, settings.maxCandidates);
    for (let r = 0; r < keep; r++) {
      outItems.push(list[r]);
      outScores.push(score[list[r]]);
    }
    indptr[j + 1] = outItems.length;
    for (const item of list) {
      seen[item] = 0;
      support[item] = 0;
    }
    for (let p = train.indptr[u]; p < train.indptr[u + 1]; p++) blocked[train.indices[p]] = 0;
  }
  return {
    users: Int32Array.from(users),
    indptr,
    items: Int32Array.from(outItems),
    scores: Float64Array.from(outScores),
    poolSizes,
  };
}

/** The listed rows of a CSR matrix, in the given order. */
export function selectCsrRows(m: CsrMatrix, rows: ArrayLike<number>): CsrMatrix {
  const indptr = new Int32Array(rows.length + 1);
  for (let j = 0; j < rows.length; j++)
    indptr[j + 1] = indptr[j] + (m.indptr[rows[j] + 1] - m.indptr[rows[j]]);
  const indices = new Int32Array(indptr[rows.length]);
  for (let j = 0; j < rows.length; j++)
    indices.set(m.indices.subarray(m.indptr[rows[j]], m.indptr[rows[j] + 1]), indptr[j]);
  return { rows: rows.length, cols: m.cols, indptr, indices };
}
