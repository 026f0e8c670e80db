import type { CsrMatrix, Matrix } from '@promax/core';

/**
 * A deliberately plain float64 implementation of method.md §7, independent of the fast path:
 * scores every item in double precision, masks train items, sorts (score desc, item asc) and
 * computes each metric from its textbook definition. For tests and audits, not for speed.
 */
export function referenceEvaluate(
  input: { userEmb: Matrix; itemEmb: Matrix; train: CsrMatrix; heldOut: CsrMatrix },
  ks: readonly number[] = [5, 10, 20],
): { users: number; metrics: Record<string, number> } {
  const { userEmb, itemEmb, train, heldOut } = input;
  const n = itemEmb.rows;
  const d = itemEmb.cols;
  const sums: Record<string, number> = {};
  for (const k of ks) for (const m of ['recall', 'ndcg', 'precision', 'hit', 'mrr']) sums[`${m}@${k}`] = 0;
  let users = 0;
  for (let u = 0; u < heldOut.rows; u++) {
    const test = new Set(Array.from(heldOut.indices.subarray(heldOut.indptr[u], heldOut.indptr[u + 1])));
    if (test.size === 0) continue;
    users++;
    const trainSet = new Set(Array.from(train.indices.subarray(train.indptr[u], train.indptr[u + 1])));
    const cand: { item: number; score: number }[] = [];
    for (let i = 0; i < n; i++) {
      if (trainSet.has(i)) continue;
      let s = 0;
      for (let c = 0; c < d; c++) s += userEmb.data[u * d + c] * itemEmb.data[i * d + c];
      cand.push({ item: i, score: s });
    }
    cand.sort((a, b) => b.score - a.score || a.item - b.item);
    for (const k of ks) {
      const top = cand.slice(0, k).map((c) => c.item);
      const hitsAt = top.map((i) => (test.has(i) ? 1 : 0));
      const hits = hitsAt.reduce((a: number, b: number) => a + b, 0);
      let dcg = 0;
      hitsAt.forEach((h, r) => {
        dcg += h / Math.log2(r + 2);
      });
      let idcg = 0;
      for (let r = 0; r < Math.min(k, test.size); r++) idcg += 1 / Math.log2(r + 2);
      const first = hitsAt.indexOf(1);
      sums[`recall@${k}`] += hits / test.size;
      sums[`ndcg@${k}`] += dcg / idcg;
      sums[`precision@${k}`] += hits / k;
      sums[`hit@${k}`] += hits > 0 ? 1 : 0;
      sums[`mrr@${k}`] += first >= 0 ? 1 / (first + 1) : 0;
    }
  }
  const metrics: Record<string, number> = {};
  for (const [key, v] of Object.entries(sums)) metrics[key] = users ? v / users : 0;
  return { users, metrics };
}
