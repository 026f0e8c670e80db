import { Rng } from '@promax/core';
import { describe, expect, it } from 'vitest';
import { recallAgainstExact } from './recall.js';
import { withRecallProbe } from './recall-probe.js';
import { createReferenceRetriever } from './reference-retriever.js';
import type { Retriever, RetrieverSearchOptions } from './retriever.js';

const rng = new Rng(5);
const corpus = { rows: 40, cols: 3, data: Float32Array.from({ length: 120 }, () => rng.nextNormal()) };
const queries = { rows: 10, cols: 3, data: Float32Array.from({ length: 30 }, () => rng.nextNormal()) };

/** Finds only rows with an even id: its recall@k is the fraction of even ids in the exact top-k. */
function evenOnly(inner: Retriever): Retriever {
  return new Proxy(inner, {
    get(target, prop, receiver) {
      if (prop === 'doSearch') {
        return async (o: RetrieverSearchOptions) => {
          const full = await target.doSearch({ ...o, k: corpus.rows });
          const indices = new Int32Array(o.queries.rows * o.k).fill(-1);
          const counts = new Int32Array(o.queries.rows);
          for (let q = 0; q < o.queries.rows; q++) {
            const evens = Array.from(full.indices.subarray(q * corpus.rows, (q + 1) * corpus.rows)).filter(
              (id) => id % 2 === 0,
            );
            indices.set(evens.slice(0, o.k), q * o.k);
            counts[q] = Math.min(o.k, evens.length);
          }
          return { ...full, k: o.k, indices, counts };
        };
      }
      const v = Reflect.get(target, prop, receiver);
      return typeof v === 'function' ? v.bind(target) : v;
    },
  });
}

describe('recallAgainstExact', () => {
  it('is 1 for an exact retriever and the overlap fraction for a lossy one', async () => {
    const exact = createReferenceRetriever();
    await exact.index(corpus);
    const same = await recallAgainstExact({ approximate: exact, exact, queries, k: 5, metric: 'dot' });
    expect(same).toMatchObject({ recall: 1, k: 5, queries: 10 });

    const truth = await exact.doSearch({ queries, k: 5, metric: 'dot' });
    let want = 0;
    for (let q = 0; q < 10; q++)
      want += Array.from(truth.indices.subarray(q * 5, q * 5 + 5)).filter((id) => id % 2 === 0).length / 5;
    const lossy = await recallAgainstExact({
      approximate: evenOnly(exact),
      exact,
      queries,
      k: 5,
      metric: 'dot',
    });
    expect(lossy.recall).toBeCloseTo(want / 10, 12);
    expect(lossy.recall).toBeLessThan(1);
  });

  it('samples evenly spread queries', async () => {
    const exact = createReferenceRetriever();
    await exact.index(corpus);
    const r = await recallAgainstExact({
      approximate: exact,
      exact,
      queries,
      k: 3,
      metric: 'cosine',
      sample: 4,
    });
    expect(r.queries).toBe(4);
    expect(exact.calls.at(-1)?.queries).toBe(4);
  });
});

describe('withRecallProbe', () => {
  it('forwards searches unchanged and reports recall for each one', async () => {
    const inner = createReferenceRetriever();
    const seen: number[] = [];
    const probed = withRecallProbe(inner, {
      exact: createReferenceRetriever(),
      sample: 6,
      onReport: (r) => seen.push(r.recall),
    });
    await probed.index(corpus);
    expect(probed.size).toBe(40);
    const res = await probed.doSearch({ queries, k: 4, metric: 'cosine' });
    const direct = await inner.doSearch({ queries, k: 4, metric: 'cosine' });
    expect(Array.from(res.indices)).toEqual(Array.from(direct.indices));
    expect(probed.reports).toHaveLength(1);
    expect(probed.reports[0]).toMatchObject({ recall: 1, k: 4, queries: 6, metric: 'cosine', corpus: 40 });
    expect(seen).toEqual([1]);
    await probed.release();
  });
});
