import { describe, expect, it } from 'vitest';
import { MetricAccumulator, normaliseKs } from './metrics.js';

describe('MetricAccumulator (hand-computed)', () => {
  it('computes recall/ndcg/precision/hit/mrr for one user', () => {
    // ranked: [7, 3, 9, 1, 4]; relevant {3, 4, 8}; |T| = 3
    const acc = new MetricAccumulator([1, 2, 5]);
    const rel = new Set([3, 4, 8]);
    acc.addUser([7, 3, 9, 1, 4], 5, (i) => rel.has(i), 3);
    const m = acc.result();
    expect(m['recall@1']).toBe(0);
    expect(m['recall@2']).toBeCloseTo(1 / 3, 12);
    expect(m['recall@5']).toBeCloseTo(2 / 3, 12);
    // NDCG@2: dcg = 1/log2(3); idcg = 1 + 1/log2(3)
    expect(m['ndcg@2']).toBeCloseTo(1 / Math.log2(3) / (1 + 1 / Math.log2(3)), 12);
    // NDCG@5: dcg = 1/log2(3) + 1/log2(6); idcg over min(5,3)=3 ideal hits
    const idcg5 = 1 + 1 / Math.log2(3) + 1 / Math.log2(4);
    expect(m['ndcg@5']).toBeCloseTo((1 / Math.log2(3) + 1 / Math.log2(6)) / idcg5, 12);
    expect(m['precision@5']).toBeCloseTo(2 / 5, 12);
    expect(m['hit@1']).toBe(0);
    expect(m['hit@2']).toBe(1);
    expect(m['mrr@5']).toBeCloseTo(1 / 2, 12);
    expect(m['mrr@1']).toBe(0);
  });

  it('uses |T_u| (not min(K,|T_u|)) as the recall denominator when |T_u| > K', () => {
    const acc = new MetricAccumulator([2]);
    acc.addUser([0, 1], 2, () => true, 10);
    expect(acc.result()['recall@2']).toBeCloseTo(0.2, 12);
    expect(acc.result()['ndcg@2']).toBeCloseTo(1, 12); // IDCG over min(2, 10) = 2 hits
  });

  it('averages over users and handles short ranked lists', () => {
    const acc = new MetricAccumulator([3]);
    acc.addUser([5], 1, (i) => i === 5, 1); // perfect user
    acc.addUser([1, 2, 3], 3, () => false, 2); // no hits
    const m = acc.result();
    expect(acc.users).toBe(2);
    expect(m['recall@3']).toBeCloseTo(0.5, 12);
    expect(m['ndcg@3']).toBeCloseTo(0.5, 12);
    expect(m['precision@3']).toBeCloseTo(1 / 6, 12);
  });

  it('validates cutoffs', () => {
    expect(normaliseKs([20, 5, 10, 5])).toEqual([5, 10, 20]);
    expect(() => normaliseKs([])).toThrow(/no cutoff/);
    expect(() => normaliseKs([0])).toThrow(/positive integer, got 0/);
    expect(() => normaliseKs([2.5])).toThrow(/positive integer/);
  });
});
