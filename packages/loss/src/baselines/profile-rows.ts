import { type Matrix, type MethodInputs, missingInputError, PromaxError, type Rng } from '@promax/core';

/**
 * Checks one profile matrix against the dataset before a method uses it: the row count (one
 * vector per entity, in id order), the width (`width` when given: a shared MLP needs one width)
 * and finite values. Each failure is a named PromaxError pointing at the file.
 */
export function checkProfileMatrix(options: {
  readonly method: string;
  readonly what: string;
  readonly matrix: Matrix;
  readonly rows: number;
  readonly width?: number;
  readonly file?: string;
}): void {
  const { method, what, matrix: m, rows, width, file } = options;
  if (m.rows !== rows) {
    throw new PromaxError({
      code: 'SHAPE_MISMATCH',
      field: what,
      file,
      message: `${method}: ${what} have ${m.rows} rows but the dataset has ${rows}`,
      fix: 'provide one profile vector per entity, in the dataset id order (re-run promax embed on this dataset)',
    });
  }
  if (width !== undefined && m.cols !== width) {
    throw new PromaxError({
      code: 'SHAPE_MISMATCH',
      field: what,
      file,
      message: `${method}: ${what} are ${m.cols} wide but the other profiles are ${width} wide (one MLP is shared)`,
      fix: 'embed every profile with the same encoder',
    });
  }
  const d = m.cols;
  for (let r = 0; r < m.rows; r++) {
    for (let c = 0; c < d; c++) {
      if (!Number.isFinite(m.data[r * d + c])) {
        throw new PromaxError({
          code: 'INVALID_DATA',
          field: what,
          file,
          message: `${method}: ${what} row ${r} holds a non-finite value (NaN or ±Inf) at column ${c}`,
          fix: 're-embed that entity (promax embed), or drop the file so the method reports it missing',
        });
      }
    }
  }
}

/** Copies rows `ids` of `m` into `out` (length ≥ ids.length · m.cols), returning the used prefix. */
export function gatherRows(m: Matrix, ids: ArrayLike<number>, out: Float32Array, offset = 0): Float32Array {
  const d = m.cols;
  for (let k = 0; k < ids.length; k++) {
    const r = ids[k];
    out.set(m.data.subarray(r * d, (r + 1) * d), offset + k * d);
  }
  return out.subarray(offset, offset + ids.length * d);
}

/**
 * The distinct ids of the given arrays, ascending, and for each array the position of each of its
 * ids in that list (int64, ready to feed a gather). `mark` has one slot per possible id (Int32, -1).
 */
export function uniqueWithPositions(
  arrays: readonly Int32Array[],
  mark: Int32Array,
): { unique: Int32Array; positions: BigInt64Array[] } {
  const seen: number[] = [];
  for (const a of arrays) {
    for (let k = 0; k < a.length; k++) {
      if (mark[a[k]] === -1) {
        mark[a[k]] = 0;
        seen.push(a[k]);
      }
    }
  }
  const unique = Int32Array.from(seen).sort();
  for (let k = 0; k < unique.length; k++) mark[unique[k]] = k;
  const positions = arrays.map((a) => BigInt64Array.from(a, (v) => BigInt(mark[v])));
  for (let k = 0; k < unique.length; k++) mark[unique[k]] = -1;
  return { unique, positions };
}

/**
 * The distinct values of `ids` (each in [0, n)), ascending, with how often each occurs and log of
 * that count: what folds a batch's repeated rows (see rlmrecInfoNce's weights).
 */
export function distinctCounts(
  ids: ArrayLike<number | bigint>,
  n: number,
): { values: Int32Array; counts: Float32Array; logCounts: Float32Array } {
  const tally = new Int32Array(n);
  let distinct = 0;
  for (let k = 0; k < ids.length; k++) if (tally[Number(ids[k])]++ === 0) distinct++;
  const values = new Int32Array(distinct);
  const counts = new Float32Array(distinct);
  const logCounts = new Float32Array(distinct);
  for (let v = 0, w = 0; v < n && w < distinct; v++) {
    if (tally[v] === 0) continue;
    values[w] = v;
    counts[w] = tally[v];
    logCounts[w] = Math.log(tally[v]);
    w++;
  }
  return { values, counts, logCounts };
}

/** A Gamma(shape, 1) draw (Marsaglia–Tsang; shape < 1 boosted by U^{1/shape}). */
export function sampleGamma(rng: Rng, shape: number): number {
  if (shape < 1) return sampleGamma(rng, shape + 1) * (1 - rng.nextFloat()) ** (1 / shape);
  const d = shape - 1 / 3;
  const c = 1 / Math.sqrt(9 * d);
  for (;;) {
    let x: number;
    let v: number;
    do {
      x = rng.nextNormal();
      v = 1 + c * x;
    } while (v <= 0);
    v = v * v * v;
    const u = 1 - rng.nextFloat();
    if (Math.log(u) < 0.5 * x * x + d - d * v + d * Math.log(v)) return d * v;
  }
}

/** One Dirichlet(α·1_K) draw into `out` (length K). */
export function sampleDirichlet(rng: Rng, alpha: number, out: Float32Array): Float32Array {
  let sum = 0;
  const tmp = new Float64Array(out.length);
  for (let k = 0; k < out.length; k++) {
    tmp[k] = sampleGamma(rng, alpha);
    sum += tmp[k];
  }
  // All K gammas underflowing to 0 (tiny α) is possible in float64: fall back to a uniform pick.
  if (!(sum > 0)) {
    tmp.fill(0);
    tmp[rng.nextInt(out.length)] = 1;
    sum = 1;
  }
  for (let k = 0; k < out.length; k++) out[k] = tmp[k] / sum;
  return out;
}

/**
 * The user and item profile embeddings a method cannot run without: a MISSING_INPUT error naming
 * the files looked for when absent, else both checked (rows, one shared width, finite values).
 */
export function requireProfilePair(
  method: string,
  inputs: MethodInputs,
  dataset: { readonly numUsers: number; readonly numItems: number },
): { users: Matrix; items: Matrix; file?: string } {
  const users = inputs.userProfiles;
  const items = inputs.itemProfiles;
  if (!users || !items) throw missingInputError(method, 'profileEmbeddings', inputs);
  const file = inputs.sources?.profileEmbeddings;
  checkProfileMatrix({
    method,
    what: 'user profile embeddings',
    matrix: users,
    rows: dataset.numUsers,
    file,
  });
  checkProfileMatrix({
    method,
    what: 'item profile embeddings',
    matrix: items,
    rows: dataset.numItems,
    width: users.cols,
    file,
  });
  return { users, items, file };
}
