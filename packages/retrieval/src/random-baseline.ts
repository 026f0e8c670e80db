import type { CsrMatrix } from '@promax/core';
import { METRICS, normaliseKs } from '@promax/eval';

/**
 * Expected metrics of a uniformly random ranking of each user's non-train items, under the
 * protocol of method.md §7 (train items masked, users with ≥ 1 held-out item, Recall over |T_u|,
 * NDCG with IDCG over min(K, |T_u|)). Exact expectations, no sampling:
 * with M candidate items of which r are held-out (held-out items that are also train items can
 * never be hit) and K' = min(K, M), every rank holds a held-out item with probability r/M, so
 * E[hits@K] = K'·r/M, E[DCG@K] = (r/M)·Σ_{p≤K'} 1/log2(p+1), P(no hit in the first p) =
 * Π_{t<p} (M−r−t)/(M−t), and E[MRR@K] = Σ_p P(first hit at p)/p.
 */
export function expectedRandomMetrics(
  input: { train: CsrMatrix; heldOut: CsrMatrix },
  ks: readonly number[] = [5, 10, 20],
): { users: number; metrics: Record<string, number> } {
  const { train, heldOut } = input;
  const sortedKs = normaliseKs(ks);
  const maxK = sortedKs[sortedKs.length - 1];
  const n = train.cols;
  const nk = sortedKs.length;
  const sums = new Float64Array(METRICS.length * nk);
  const inTrain = new Uint8Array(n);
  const disc = new Float64Array(maxK + 1);
  const idcg = new Float64Array(maxK + 1);
  for (let p = 1; p <= maxK; p++) {
    disc[p] = 1 / Math.log2(p + 1);
    idcg[p] = idcg[p - 1] + disc[p];
  }
  let users = 0;
  for (let u = 0; u < heldOut.rows; u++) {
    const hs = heldOut.indptr[u];
    const he = heldOut.indptr[u + 1];
    const numRelevant = he - hs;
    if (numRelevant === 0) continue;
    users++;
    const ts = train.indptr[u];
    const te = train.indptr[u + 1];
    for (let p = ts; p < te; p++) inTrain[train.indices[p]] = 1;
    let r = 0;
    for (let p = hs; p < he; p++) if (!inTrain[heldOut.indices[p]]) r++;
    for (let p = ts; p < te; p++) inTrain[train.indices[p]] = 0;
    const m = n - (te - ts);
    const rate = m > 0 ? r / m : 0;
    let dcgSum = 0;
    let noHit = 1; // P(no held-out item in the first p ranks)
    let mrr = 0;
    let ki = 0;
    for (let p = 1; p <= maxK; p++) {
      if (p <= m) {
        dcgSum += disc[p];
        const firstHere = noHit * (r / (m - p + 1));
        mrr += firstHere / p;
        noHit *= Math.max(0, m - r - (p - 1)) / (m - (p - 1));
      }
      while (ki < nk && sortedKs[ki] === p) {
        const k = p;
        const hits = Math.min(k, m) * rate;
        sums[0 * nk + ki] += hits / numRelevant;
        sums[1 * nk + ki] += (rate * dcgSum) / idcg[Math.min(k, numRelevant)];
        sums[2 * nk + ki] += hits / k;
        sums[3 * nk + ki] += m > 0 ? 1 - noHit : 0;
        sums[4 * nk + ki] += mrr;
        ki++;
      }
    }
  }
  const metrics: Record<string, number> = {};
  for (let mi = 0; mi < METRICS.length; mi++) {
    for (let ki = 0; ki < nk; ki++)
      metrics[`${METRICS[mi]}@${sortedKs[ki]}`] = users > 0 ? sums[mi * nk + ki] / users : 0;
  }
  return { users, metrics };
}
