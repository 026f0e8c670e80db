// Users grouped by train degree (the dataset's quartiles, as method.md §5 groups them for A'), and a
// run's test metrics restricted to each group's users.
import { type CsrMatrix, csrRowDegrees, type Matrix } from '@promax/core';
import type { RankingEvaluator } from '@promax/eval';

export interface SparsityGroup {
  /** `Q1` (sparsest) … `Q4` (densest). */
  name: string;
  /** Train-degree range of its users, inclusive. */
  minDegree: number;
  maxDegree: number;
  /** Member users (dense ids), whatever their held-out items. */
  users: Int32Array;
}

/** Percentile with linear interpolation between order statistics (NumPy's default). */
export function percentile(sorted: ArrayLike<number>, q: number): number {
  const n = sorted.length;
  if (!n) return Number.NaN;
  const pos = (q / 100) * (n - 1);
  const lo = Math.floor(pos);
  const hi = Math.min(n - 1, lo + 1);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

/**
 * Four groups by train degree d with the quartiles q1 ≤ q2 ≤ q3 of all users' degrees:
 * d < q1, q1 ≤ d < q2, q2 ≤ d < q3, d ≥ q3 (Amazon-book: 1–4, 5–6, 7–10, ≥ 11). Groups left empty
 * by ties are dropped.
 */
export function degreeQuartileGroups(train: CsrMatrix): {
  quartiles: [number, number, number];
  groups: SparsityGroup[];
} {
  const deg = csrRowDegrees(train);
  const sorted = Int32Array.from(deg).sort();
  const quartiles: [number, number, number] = [
    percentile(sorted, 25),
    percentile(sorted, 50),
    percentile(sorted, 75),
  ];
  const groupOf = (d: number): number =>
    d < quartiles[0] ? 0 : d < quartiles[1] ? 1 : d < quartiles[2] ? 2 : 3;
  const members: number[][] = [[], [], [], []];
  for (let u = 0; u < deg.length; u++) members[groupOf(deg[u])].push(u);
  const groups: SparsityGroup[] = [];
  members.forEach((users, g) => {
    if (!users.length) return;
    let lo = Number.POSITIVE_INFINITY;
    let hi = Number.NEGATIVE_INFINITY;
    for (const u of users) {
      lo = Math.min(lo, deg[u]);
      hi = Math.max(hi, deg[u]);
    }
    groups.push({ name: `Q${g + 1}`, minDegree: lo, maxDegree: hi, users: Int32Array.from(users) });
  });
  return { quartiles, groups };
}

/** The same matrix with every row outside `users` emptied (the evaluator skips empty rows). */
export function keepRows(m: CsrMatrix, users: ArrayLike<number>): CsrMatrix {
  const keep = new Uint8Array(m.rows);
  for (let k = 0; k < users.length; k++) keep[users[k]] = 1;
  const indptr = new Int32Array(m.rows + 1);
  let nnz = 0;
  for (let r = 0; r < m.rows; r++) {
    if (keep[r]) nnz += m.indptr[r + 1] - m.indptr[r];
    indptr[r + 1] = nnz;
  }
  const indices = new Int32Array(nnz);
  for (let r = 0; r < m.rows; r++) {
    if (keep[r]) indices.set(m.indices.subarray(m.indptr[r], m.indptr[r + 1]), indptr[r]);
  }
  return { rows: m.rows, cols: m.cols, indptr, indices };
}

/** Users of `group` with at least one held-out item (those the evaluator counts). */
export function evaluatedUsers(heldOut: CsrMatrix, group: SparsityGroup): number {
  let n = 0;
  for (const u of group.users) if (heldOut.indptr[u + 1] > heldOut.indptr[u]) n++;
  return n;
}

/** Test metrics of one run per group (full ranking, train items masked, method.md §7). */
export async function metricsByGroup(
  evaluator: RankingEvaluator,
  input: { userEmb: Matrix; itemEmb: Matrix; train: CsrMatrix; heldOut: CsrMatrix },
  groups: readonly SparsityGroup[],
): Promise<{ users: number; metrics: Record<string, number> }[]> {
  const out: { users: number; metrics: Record<string, number> }[] = [];
  for (const g of groups) {
    // The evaluator refuses an empty evaluation rather than report zeros for nobody.
    if (evaluatedUsers(input.heldOut, g) === 0) {
      out.push({ users: 0, metrics: {} });
      continue;
    }
    const r = await evaluator.evaluate({ ...input, heldOut: keepRows(input.heldOut, g.users) });
    out.push({ users: r.users, metrics: r.metrics });
  }
  return out;
}
