import { type CsrMatrix, type Matrix, PromaxError, type Rng } from '@promax/core';

/**
 * Control arms for asking which part of an A′ (and of the SDR teacher) does the work: A′s that add
 * exactly the per-user counts of a reference A′ but choose the items without any profile (uniform
 * or by popularity), and profiles handed to the wrong users.
 */

/** Per user, how many items `reference` adds over `train` (|A′_u \ A_u|). */
export function addedCounts(train: CsrMatrix, reference: CsrMatrix): Int32Array {
  checkShapes(train, reference);
  const out = new Int32Array(train.rows);
  const mark = new Int32Array(train.cols).fill(-1);
  for (let u = 0; u < train.rows; u++) {
    for (let p = train.indptr[u]; p < train.indptr[u + 1]; p++) mark[train.indices[p]] = u;
    for (let p = reference.indptr[u]; p < reference.indptr[u + 1]; p++) {
      const item = reference.indices[p];
      if (mark[item] === u) continue;
      mark[item] = u; // a duplicate entry counts once
      out[u]++;
    }
  }
  return out;
}

/** A′ = A plus, per user, as many uniformly drawn non-train items as `reference` adds for that user. */
export function randomAugmentation(train: CsrMatrix, reference: CsrMatrix, rng: Rng): CsrMatrix {
  return augmentLike(train, addedCounts(train, reference), rng, null);
}

/**
 * A′ = A plus, per user, as many non-train items as `reference` adds for that user, drawn without
 * replacement with probability proportional to the item's train degree (items nobody trained on
 * are drawn only when a user has too few popular candidates left).
 */
export function popularityAugmentation(train: CsrMatrix, reference: CsrMatrix, rng: Rng): CsrMatrix {
  const degree = new Float64Array(train.cols);
  const nnz = train.indptr[train.rows];
  for (let k = 0; k < nnz; k++) degree[train.indices[k]]++;
  return augmentLike(train, addedCounts(train, reference), rng, degree);
}

/**
 * The rows of `m` permuted by a seeded cyclic permutation (Sattolo's algorithm: no row stays in
 * place): the same distribution of profiles, every one on the wrong user. `permutation[u]` is the
 * row user u now holds.
 */
export function shuffleRows(m: Matrix, rng: Rng): { matrix: Matrix; permutation: Int32Array } {
  const n = m.rows;
  const permutation = new Int32Array(n);
  for (let i = 0; i < n; i++) permutation[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = rng.nextInt(i);
    const t = permutation[i];
    permutation[i] = permutation[j];
    permutation[j] = t;
  }
  const data = new Float32Array(m.data.length);
  for (let u = 0; u < n; u++)
    data.set(m.data.subarray(permutation[u] * m.cols, (permutation[u] + 1) * m.cols), u * m.cols);
  return { matrix: { rows: n, cols: m.cols, data }, permutation };
}

function augmentLike(
  train: CsrMatrix,
  counts: Int32Array,
  rng: Rng,
  weights: Float64Array | null,
): CsrMatrix {
  const items = train.cols;
  const cumulative = weights ? cumulativeOf(weights) : null;
  const indptr = new Int32Array(train.rows + 1);
  const rows: Int32Array[] = [];
  const taken = new Uint8Array(items);
  for (let u = 0; u < train.rows; u++) {
    const own = train.indices.subarray(train.indptr[u], train.indptr[u + 1]);
    const want = counts[u];
    if (want > items - own.length) {
      throw new PromaxError({
        code: 'INVALID_DATA',
        field: 'reference',
        message: `user ${u} needs ${want} added items but has only ${items - own.length} non-train items`,
        fix: 'pass the reference A′ built for this train matrix',
        details: { user: u, added: want, train: own.length, items },
      });
    }
    for (const i of own) taken[i] = 1;
    const added: number[] = [];
    // Rejection sampling is fast while few items are excluded; the exact fallback handles the rest.
    let attempts = 0;
    const maxAttempts = 20 * want + 100;
    while (added.length < want && attempts++ < maxAttempts) {
      const i = cumulative ? drawWeighted(cumulative, rng) : rng.nextInt(items);
      if (taken[i]) continue;
      taken[i] = 1;
      added.push(i);
    }
    if (added.length < want) fillExactly(added, want, taken, weights, rng);
    for (const i of own) taken[i] = 0;
    for (const i of added) taken[i] = 0;
    const row = Int32Array.from([...own, ...added]).sort();
    rows.push(row);
    indptr[u + 1] = indptr[u] + row.length;
  }
  const indices = new Int32Array(indptr[train.rows]);
  for (let u = 0; u < train.rows; u++) indices.set(rows[u], indptr[u]);
  return { rows: train.rows, cols: items, indptr, indices };
}

/** Completes `added` to `want` items from the untaken ones: weighted (Efraimidis–Spirakis keys) or uniform. */
function fillExactly(
  added: number[],
  want: number,
  taken: Uint8Array,
  weights: Float64Array | null,
  rng: Rng,
): void {
  const keyed: { item: number; key: number }[] = [];
  const zeroWeight: number[] = [];
  for (let i = 0; i < taken.length; i++) {
    if (taken[i]) continue;
    const w = weights ? weights[i] : 1;
    // log(u)/w sorts like u^(1/w): the top keys are a weighted sample without replacement.
    if (w > 0) keyed.push({ item: i, key: Math.log(rng.nextFloat() || Number.MIN_VALUE) / w });
    else zeroWeight.push(i);
  }
  keyed.sort((a, b) => b.key - a.key);
  rng.shuffle(zeroWeight);
  for (const item of [...keyed.map((k) => k.item), ...zeroWeight]) {
    if (added.length >= want) break;
    taken[item] = 1;
    added.push(item);
  }
}

function cumulativeOf(weights: Float64Array): Float64Array {
  const c = new Float64Array(weights.length);
  let s = 0;
  for (let i = 0; i < weights.length; i++) {
    s += weights[i];
    c[i] = s;
  }
  return c;
}

/** An index drawn with probability weights[i] / Σ weights (binary search in the cumulative sums). */
function drawWeighted(cumulative: Float64Array, rng: Rng): number {
  const total = cumulative[cumulative.length - 1];
  if (!(total > 0)) return rng.nextInt(cumulative.length);
  const x = rng.nextFloat() * total;
  let lo = 0;
  let hi = cumulative.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (cumulative[mid] > x) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

function checkShapes(train: CsrMatrix, reference: CsrMatrix): void {
  if (train.rows !== reference.rows || train.cols !== reference.cols) {
    throw new PromaxError({
      code: 'SHAPE_MISMATCH',
      field: 'reference',
      message: `the reference A′ is ${reference.rows}×${reference.cols} but train is ${train.rows}×${train.cols}`,
      fix: 'pass the A′ built for this dataset',
    });
  }
}
