import { assertCsr, type CsrMatrix, PromaxError, type Rng } from '@promax/core';
import type { TripleBatch } from './trainable.js';

export interface TripleSamplerOptions {
  /** Triples per batch (the last batch of an epoch may be smaller; it is kept). */
  batchSize: number;
}

/**
 * Per-epoch BPR triples (method.md §4): every train interaction (u, i⁺) once, in a fresh
 * random order, each with ONE negative drawn uniformly from the items NOT in u's train row
 * (rejection sampling against a per-user marker).
 *
 * All buffers are allocated once; `batch(b)` returns subarray views into them, valid until the
 * next `sampleEpoch`. The epoch is a pure function of the rng state, so a seeded rng gives the
 * same triples on every platform.
 */
export class TripleSampler {
  /** Number of triples per epoch (= train interactions). */
  readonly size: number;
  readonly batchSize: number;
  readonly numBatches: number;
  private readonly train: CsrMatrix;
  private readonly rowOf: Int32Array;
  private readonly order: Int32Array;
  private readonly users: Int32Array;
  private readonly pos: Int32Array;
  private readonly neg: Int32Array;
  private readonly negCsr: Int32Array;
  private readonly marker: Int32Array;

  constructor(train: CsrMatrix, options: TripleSamplerOptions) {
    const { batchSize } = options;
    if (!Number.isInteger(batchSize) || batchSize < 1) {
      throw new PromaxError({
        code: 'INVALID_ARGUMENT',
        field: 'batchSize',
        message: `batchSize must be a positive integer, got ${batchSize}`,
      });
    }
    assertCsr(train, 'train');
    const n = train.indptr[train.rows];
    if (n === 0) {
      throw new PromaxError({
        code: 'INVALID_DATA',
        field: 'train',
        message: 'the train matrix has no interactions',
      });
    }
    this.train = train;
    this.size = n;
    this.batchSize = batchSize;
    this.numBatches = Math.ceil(n / batchSize);
    this.rowOf = new Int32Array(n);
    for (let u = 0; u < train.rows; u++) {
      const s = train.indptr[u];
      const e = train.indptr[u + 1];
      if (e - s >= train.cols) throw fullRow(u, train.cols);
      this.rowOf.fill(u, s, e);
    }
    this.order = new Int32Array(n);
    this.users = new Int32Array(n);
    this.pos = new Int32Array(n);
    this.neg = new Int32Array(n);
    this.negCsr = new Int32Array(n);
    this.marker = new Int32Array(train.cols).fill(-1);
  }

  /** Draws a fresh shuffled epoch of triples, consuming `rng`. */
  sampleEpoch(rng: Rng): void {
    const { order, users, pos, neg, rowOf, negCsr, marker, train } = this;
    // Negatives in CSR order first: each user's row is marked once, so rejection is one array
    // read, and memory access stays sequential. Then one shuffle permutes all three columns.
    fillNegatives(train, rng, negCsr, marker);
    for (let k = 0; k < order.length; k++) order[k] = k;
    for (let i = order.length - 1; i > 0; i--) {
      const j = rng.nextInt(i + 1);
      const t = order[i];
      order[i] = order[j];
      order[j] = t;
    }
    const indices = train.indices;
    for (let k = 0; k < order.length; k++) {
      const e = order[k];
      users[k] = rowOf[e];
      pos[k] = indices[e];
      neg[k] = negCsr[e];
    }
  }

  /** Batch `b` of the current epoch (0-based), as views. */
  batch(b: number): TripleBatch {
    if (!Number.isInteger(b) || b < 0 || b >= this.numBatches) {
      throw new PromaxError({
        code: 'INVALID_ARGUMENT',
        message: `batch index ${b} is outside [0, ${this.numBatches})`,
      });
    }
    const s = b * this.batchSize;
    const e = Math.min(s + this.batchSize, this.size);
    return { users: this.users.subarray(s, e), pos: this.pos.subarray(s, e), neg: this.neg.subarray(s, e) };
  }

  /** The batches of the current epoch in order; the last one may be partial. */
  *batches(): IterableIterator<TripleBatch> {
    for (let b = 0; b < this.numBatches; b++) yield this.batch(b);
  }
}

/**
 * One uniform negative per train interaction, in CSR order (no shuffling): `out[k]` is the
 * negative for the k-th stored entry of `train`. A convenience for tests and one-off use.
 */
export function sampleNegatives(
  train: CsrMatrix,
  rng: Rng,
  out = new Int32Array(train.indptr[train.rows]),
): Int32Array {
  for (let u = 0; u < train.rows; u++) {
    if (train.indptr[u + 1] - train.indptr[u] >= train.cols) throw fullRow(u, train.cols);
  }
  fillNegatives(train, rng, out, new Int32Array(train.cols).fill(-1));
  return out;
}

/**
 * K negatives for each triple of a batch (models with `sampledNegatives`, e.g. AlphaRec's 256):
 * `out[b·K + k]` is drawn uniformly, with replacement, from the items NOT in `users[b]`'s train row
 * (rejection sampling). `marker` has one slot per item, initialised to −1 once and never cleared:
 * each row re-marks its user's items before drawing, so `marker[j] === u` exactly when j is in u's
 * row. Consumes `rng` row by row, so a seeded rng gives the same negatives on every platform.
 */
export function sampleBatchNegatives(
  train: CsrMatrix,
  users: Int32Array,
  k: number,
  rng: Rng,
  marker: Int32Array,
  out: Int32Array = new Int32Array(users.length * k),
): Int32Array {
  const { indptr, indices, cols } = train;
  if (marker.length !== cols || out.length < users.length * k) {
    throw new PromaxError({
      code: 'INVALID_ARGUMENT',
      message: `sampleBatchNegatives: marker must have ${cols} slots (has ${marker.length}) and out ≥ ${users.length * k} (has ${out.length})`,
    });
  }
  for (let b = 0; b < users.length; b++) {
    const u = users[b];
    const s = indptr[u];
    const e = indptr[u + 1];
    if (e - s >= cols) throw fullRow(u, cols);
    for (let q = s; q < e; q++) marker[indices[q]] = u;
    const base = b * k;
    for (let r = 0; r < k; r++) {
      let j = rng.nextInt(cols);
      while (marker[j] === u) j = rng.nextInt(cols);
      out[base + r] = j;
    }
  }
  return out;
}

/**
 * Rejection sampling against a per-user marker: `marker[j] === u` exactly when j is in u's row
 * (rows are visited in order and each marks all its items before drawing), so the marker never
 * needs clearing, not even between epochs. Every row must leave at least one item free.
 */
function fillNegatives(train: CsrMatrix, rng: Rng, out: Int32Array, marker: Int32Array): void {
  const { indptr, indices, cols } = train;
  for (let u = 0; u < train.rows; u++) {
    const s = indptr[u];
    const e = indptr[u + 1];
    if (s === e) continue;
    for (let k = s; k < e; k++) marker[indices[k]] = u;
    for (let k = s; k < e; k++) {
      let j = rng.nextInt(cols);
      while (marker[j] === u) j = rng.nextInt(cols);
      out[k] = j;
    }
  }
}

function fullRow(user: number, items: number): PromaxError {
  return new PromaxError({
    code: 'INVALID_DATA',
    field: 'train',
    message: `user ${user} has interacted with all ${items} items, so no negative item exists`,
    fix: 'drop users who interacted with every item',
    details: { user },
  });
}
