import { type CsrMatrix, csrFromCoo } from '@promax/core';
import { MetricAccumulator } from '@promax/eval';
import { describe, expect, it } from 'vitest';
import { expectedRandomMetrics } from './random-baseline.js';

const csr = (rows: number, cols: number, pairs: [number, number][]): CsrMatrix =>
  csrFromCoo({ rows, cols, row: pairs.map((p) => p[0]), col: pairs.map((p) => p[1]) }).matrix;

function permutations(items: number[]): number[][] {
  if (items.length <= 1) return [items];
  return items.flatMap((x, i) =>
    permutations([...items.slice(0, i), ...items.slice(i + 1)]).map((p) => [x, ...p]),
  );
}

describe('expectedRandomMetrics', () => {
  it('equals the average over every ordering of the non-train items (exhaustive, 7 items)', () => {
    // user 0: 2 train, 2 held-out; user 1: 0 train, 3 held-out (one equal to nothing in train);
    // user 2: held-out item 4 is also a train item (never rankable), plus item 6; user 3: no held-out
    const train = csr(4, 7, [
      [0, 0],
      [0, 3],
      [2, 4],
      [2, 1],
      [3, 2],
    ]);
    const heldOut = csr(4, 7, [
      [0, 1],
      [0, 6],
      [1, 0],
      [1, 2],
      [1, 5],
      [2, 4],
      [2, 6],
    ]);
    const ks = [1, 2, 3, 10];
    const perms: number[] = [];
    const usersEvaluated = [0, 1, 2];
    const sums = new Map<string, number>();
    for (const u of usersEvaluated) {
      const trainSet = new Set(Array.from(train.indices.subarray(train.indptr[u], train.indptr[u + 1])));
      const rel = new Set(Array.from(heldOut.indices.subarray(heldOut.indptr[u], heldOut.indptr[u + 1])));
      const pool = [0, 1, 2, 3, 4, 5, 6].filter((i) => !trainSet.has(i));
      const one = new MetricAccumulator(ks);
      let count = 0;
      for (const p of permutations(pool)) {
        one.addUser(p, p.length, (i) => rel.has(i), rel.size);
        count++;
      }
      perms.push(count);
      for (const [key, v] of Object.entries(one.result())) sums.set(key, (sums.get(key) ?? 0) + v);
    }
    expect(perms).toEqual([120, 5040, 120]); // 5, 7 and 5 rankable items
    const got = expectedRandomMetrics({ train, heldOut }, ks);
    expect(got.users).toBe(3);
    for (const [key, v] of sums) expect(got.metrics[key]).toBeCloseTo(v / 3, 12);
  });

  it('recall@K is K·|T|/(N−|train|)/|T| for a user with disjoint splits', () => {
    const train = csr(1, 100, [
      [0, 0],
      [0, 1],
    ]);
    const heldOut = csr(1, 100, [
      [0, 2],
      [0, 3],
      [0, 4],
    ]);
    const r = expectedRandomMetrics({ train, heldOut }, [20]);
    expect(r.metrics['recall@20']).toBeCloseTo(20 / 98, 12);
    expect(r.metrics['precision@20']).toBeCloseTo(3 / 98, 12);
  });
});
