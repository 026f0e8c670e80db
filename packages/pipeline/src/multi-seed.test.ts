import { describe, expect, it } from 'vitest';
import { aggregateMetrics, formatMeanStd, numericLeaves, runSeeds } from './multi-seed.js';
import { meanStd, median } from './stats.js';

describe('runSeeds', () => {
  it('runs every seed in order and aggregates mean and sample std', async () => {
    const order: number[] = [];
    const out = await runSeeds([1, 2, 3], async (seed) => {
      order.push(seed);
      return {
        test: { 'recall@20': 0.1 * seed },
        best_epoch: seed * 3,
        history: [{ epoch: 3 }],
        stopped: 'max-epochs',
      };
    });
    expect(order).toEqual([1, 2, 3]);
    expect(out.runs.map((r) => r.seed)).toEqual([1, 2, 3]);
    expect(out.stopped).toBe(false);
    const r = out.aggregate['test.recall@20'];
    expect(r.n).toBe(3);
    expect(r.mean).toBeCloseTo(0.2, 12);
    expect(r.std).toBeCloseTo(0.1, 12); // sample std of 0.1, 0.2, 0.3
    expect(r.values).toEqual([0.1, 0.2, 0.30000000000000004]);
    expect(out.aggregate.best_epoch.mean).toBe(6);
    expect(Object.keys(out.aggregate).some((k) => k.startsWith('history'))).toBe(false);
  });

  it('stops launching seeds after an aborted run or an aborted signal', async () => {
    const out = await runSeeds([1, 2, 3], async (seed) => ({
      stopped: seed === 2 ? 'aborted' : 'max-epochs',
      x: seed,
    }));
    expect(out.runs.length).toBe(2);
    expect(out.stopped).toBe(true);
    const ac = new AbortController();
    const out2 = await runSeeds(
      [1, 2],
      async (seed) => {
        ac.abort();
        return { x: seed };
      },
      { signal: ac.signal },
    );
    expect(out2.runs.length).toBe(1);
    expect(out2.aggregate.x.std).toBeNull();
  });

  it('takes a custom metric picker and rejects bad seed lists', async () => {
    const out = await runSeeds([5, 6], async (seed) => seed, { metrics: (r) => ({ seed: r }) });
    expect(out.aggregate.seed).toMatchObject({ mean: 5.5, n: 2 });
    await expect(runSeeds([], async () => 0)).rejects.toThrow(/no seeds/);
    await expect(runSeeds([1, 1], async () => 0)).rejects.toThrow(/duplicate seeds/);
  });
});

describe('statistics helpers', () => {
  it('mean / sample std / median / formatting', () => {
    expect(meanStd([2, 4, 4, 4, 5, 5, 7, 9]).std).toBeCloseTo(2.138089935, 8);
    expect(meanStd([1]).std).toBeNull();
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 2, 3])).toBe(2.5);
    expect(median([])).toBeNull();
    expect(formatMeanStd({ mean: 0.16234, std: 0.00121 })).toBe('0.1623 ± 0.0012');
    expect(formatMeanStd({ mean: 0.16234, std: null, n: 1 }, 3)).toBe('0.162 (n=1)');
    expect(numericLeaves({ a: { b: 1, c: 'x', d: [1] }, e: Number.NaN, f: 2 })).toEqual({ 'a.b': 1, f: 2 });
    expect(aggregateMetrics([{ a: 1 }, { a: 3, b: 1 }])).toMatchObject({
      a: { mean: 2, n: 2 },
      b: { n: 1, std: null },
    });
  });
});
