import { type CsrMatrix, csrFromCoo, Rng } from '@promax/core';

/** A small synthetic implicit-feedback dataset with a clear group structure. */
export interface TinyDataset {
  numUsers: number;
  numItems: number;
  /** users × items, canonical CSR. */
  train: CsrMatrix;
  /** A different graph over the same users and items (for graph-sensitivity checks). */
  other: CsrMatrix;
}

export interface TinyDatasetOptions {
  numUsers?: number;
  numItems?: number;
  /** Taste groups: user u and item i belong to group u % groups and i % groups. */
  groups?: number;
  /** Train items per user, drawn from the user's group. */
  itemsPerUser?: number;
  seed?: number;
}

function fromPairs(rows: number, cols: number, us: number[], is: number[]): CsrMatrix {
  return csrFromCoo({ rows, cols, row: Int32Array.from(us), col: Int32Array.from(is) }).matrix;
}

/**
 * `numUsers` users and `numItems` items in `groups` taste groups; every user has
 * `itemsPerUser` distinct train items of its own group, so a model that fits the train matrix
 * ranks the group's items first. `other` is an unrelated random graph of the same density.
 */
export function tinyDataset(options: TinyDatasetOptions = {}): TinyDataset {
  const numUsers = options.numUsers ?? 24;
  const numItems = options.numItems ?? 20;
  const groups = options.groups ?? 4;
  const per = options.itemsPerUser ?? 3;
  const rng = new Rng(options.seed ?? 7);
  const us: number[] = [];
  const is: number[] = [];
  for (let u = 0; u < numUsers; u++) {
    const mine: number[] = [];
    for (let i = u % groups; i < numItems; i += groups) mine.push(i);
    rng.shuffle(mine);
    for (const i of mine.slice(0, Math.min(per, mine.length))) {
      us.push(u);
      is.push(i);
    }
  }
  const ou: number[] = [];
  const oi: number[] = [];
  for (let u = 0; u < numUsers; u++) {
    const seen = new Set<number>();
    while (seen.size < per) seen.add(rng.nextInt(numItems));
    for (const i of seen) {
      ou.push(u);
      oi.push(i);
    }
  }
  return {
    numUsers,
    numItems,
    train: fromPairs(numUsers, numItems, us, is),
    other: fromPairs(numUsers, numItems, ou, oi),
  };
}
