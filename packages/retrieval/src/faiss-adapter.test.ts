import { PromaxError } from '@promax/core';
import { describe, expect, it } from 'vitest';
import { createFaissRetriever, type FaissFlatIndex, type FaissModule } from './faiss-adapter.js';
import type { Retriever } from './retriever.js';
import { describeRetriever, retrieverConformanceCases } from './retriever-conformance.js';

/**
 * A pure-JS stand-in with faiss-node's flat-index API (number[] in, labels/distances out, −1
 * padding, k ≤ ntotal). Its tie order is deliberately the reverse of the exact retriever's, as
 * faiss promises none.
 */
class FakeIndexFlatIP implements FaissFlatIndex {
  private readonly rows: number[][] = [];
  constructor(private readonly d: number) {}
  add(x: number[]): void {
    for (let i = 0; i < x.length; i += this.d) this.rows.push(x.slice(i, i + this.d));
  }
  ntotal(): number {
    return this.rows.length;
  }
  search(x: number[], k: number): { distances: number[]; labels: number[] } {
    if (k > this.rows.length) throw new Error('k must be <= ntotal');
    const labels: number[] = [];
    const distances: number[] = [];
    for (let q = 0; q < x.length; q += this.d) {
      const scored = this.rows.map((row, id) => ({
        id,
        s: Math.fround(row.reduce((a, v, c) => a + v * x[q + c], 0)),
      }));
      scored.sort((a, b) => b.s - a.s || b.id - a.id);
      for (const h of scored.slice(0, k)) {
        labels.push(h.id);
        distances.push(h.s);
      }
    }
    return { labels, distances };
  }
}
const fakeFaiss: FaissModule = { IndexFlatIP: FakeIndexFlatIP };

describeRetriever(
  'faiss adapter over a faiss-node stand-in',
  () => createFaissRetriever({ module: fakeFaiss, blockQueries: 2 }),
  {
    describe,
    it,
  },
);

let faissNode: string | undefined;
try {
  const specifier = 'faiss-node';
  await import(specifier);
} catch (e) {
  faissNode = `faiss-node is not installed (${(e as Error).message.split('\n')[0]})`;
}
if (faissNode) console.log(`[skip] faiss-node conformance: ${faissNode}`);

describe.skipIf(faissNode !== undefined)('faiss adapter over the real faiss-node', () => {
  for (const c of retrieverConformanceCases(() => createFaissRetriever())) it(c.name, c.run);
});

describe('createFaissRetriever without faiss-node', () => {
  it.skipIf(faissNode === undefined)('rejects with a PromaxError that says how to install it', async () => {
    const err = await createFaissRetriever().catch((e: unknown) => e);
    expect(PromaxError.isInstance(err)).toBe(true);
    expect((err as PromaxError).code).toBe('UNSUPPORTED_FORMAT');
    expect((err as PromaxError).message).toContain('pnpm add faiss-node');
  });
});

describe('the conformance cases catch broken retrievers', () => {
  it('fails a retriever that ignores exclusion lists', async () => {
    const leaky = async (): Promise<Retriever> => {
      const inner = await createFaissRetriever({ module: fakeFaiss });
      return new Proxy(inner, {
        get(target, prop, receiver) {
          if (prop === 'doSearch') {
            return (o: Parameters<Retriever['doSearch']>[0]) => target.doSearch({ ...o, exclude: undefined });
          }
          const v = Reflect.get(target, prop, receiver);
          return typeof v === 'function' ? v.bind(target) : v;
        },
      });
    };
    const cases = retrieverConformanceCases(leaky);
    const exclusion = cases.find((c) => c.name.includes('exclusion'));
    await expect(exclusion?.run()).rejects.toThrow(/retriever conformance/);
  });

  it('fails a retriever that claims exactness but breaks ties by higher id', async () => {
    const cases = retrieverConformanceCases(() => createFaissRetriever({ module: fakeFaiss }), {
      checkTies: true,
    });
    await expect(cases.find((c) => c.name.includes('equal scores'))?.run()).rejects.toThrow(/tie order/);
  });
});
