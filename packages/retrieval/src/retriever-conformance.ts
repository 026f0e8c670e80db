import { csrFromCoo, type Matrix, PromaxError, Rng } from '@promax/core';
import { referenceTopK } from './reference-retriever.js';
import type { RetrievalMetric, Retriever, RetrieverSearchResult } from './retriever.js';

export interface RetrieverConformanceOptions {
  /** Metrics to check (default: the retriever's `supportedMetrics`). */
  metrics?: readonly RetrievalMetric[];
  /** Check that equal scores come back lowest id first (default: the retriever's `exact` flag). */
  checkTies?: boolean;
  /** Absolute score tolerance against the float64 reference (default 1e-4). */
  tolerance?: number;
}

/** One framework-free check: `run` resolves when it passes and throws an Error saying what broke. */
export interface ConformanceCase {
  name: string;
  run: () => Promise<void>;
}

type Factory = () => Retriever | Promise<Retriever>;

/**
 * The shared checks every `Retriever` must pass, as plain async functions so that any test
 * runner can host them (`describeRetriever` wires them into vitest/jest-style `describe`/`it`).
 */
export function retrieverConformanceCases(
  create: Factory,
  options: RetrieverConformanceOptions = {},
): ConformanceCase[] {
  const tol = options.tolerance ?? 1e-4;
  const cases: ConformanceCase[] = [];
  const add = (name: string, body: (r: Retriever) => Promise<void>): void => {
    cases.push({
      name,
      run: async () => {
        const r = await create();
        try {
          await body(r);
        } finally {
          await r.release();
        }
      },
    });
  };
  const metricsOf = (r: Retriever): readonly RetrievalMetric[] => options.metrics ?? r.supportedMetrics;
  const tiesOf = (r: Retriever): boolean => options.checkTies ?? r.exact;

  add('declares spec v1 and reports its corpus size', async (r) => {
    check(
      r.specificationVersion === 'v1',
      `specificationVersion is ${String(r.specificationVersion)}, expected 'v1'`,
    );
    check(typeof r.provider === 'string' && r.provider.length > 0, 'provider must be a non-empty string');
    const sizeOf = (x: Retriever): number => x.size;
    check(sizeOf(r) === 0, `size before index() is ${r.size}, expected 0`);
    await expectPromaxError(
      () => r.doSearch({ queries: gaussian(1, 4, 1), k: 1, metric: metricsOf(r)[0] }),
      'INVALID_ARGUMENT',
      'searching before index()',
    );
    await r.index(gaussian(13, 4, 2));
    check(
      sizeOf(r) === 13 && r.dimension === 4,
      `after indexing 13×4: size ${r.size}, dimension ${r.dimension}`,
    );
    await r.index(gaussian(5, 4, 3));
    check(sizeOf(r) === 5, `re-indexing must replace the corpus: size ${r.size}, expected 5`);
  });

  add('matches float64 brute force on random data for each metric', async (r) => {
    const corpus = gaussian(57, 6, 11);
    const queries = gaussian(9, 6, 12);
    await r.index(corpus);
    for (const metric of metricsOf(r)) {
      const res = await r.doSearch({ queries, k: 7, metric });
      compareWithReference(res, referenceTopK(queries, corpus, 7, metric), tol, `${metric} search`);
    }
  });

  add('applies per-query exclusion lists (unsorted rows) and pads with −1 when rows run out', async (r) => {
    const corpus = gaussian(10, 3, 21);
    const queries = gaussian(3, 3, 22);
    const lists = [[7, 2, 0], [], [9, 8, 7, 6, 5, 4, 3, 2]];
    const exclude = {
      rows: 3,
      cols: 10,
      indptr: Int32Array.from([0, 3, 3, 11]),
      indices: Int32Array.from(lists.flat()),
    };
    await r.index(corpus);
    for (const metric of metricsOf(r)) {
      const res = await r.doSearch({ queries, k: 4, metric, exclude });
      const ref = referenceTopK(queries, corpus, 4, metric, (q) => lists[q]);
      compareWithReference(res, ref, tol, `${metric} search with exclusions`);
      check(res.counts[2] === 2, `query 2 has 2 rows left after exclusion, got count ${res.counts[2]}`);
      check(res.indices[2 * 4 + 2] === -1 && res.indices[2 * 4 + 3] === -1, 'padded slots must hold −1');
      check(res.scores[2 * 4 + 3] === Number.NEGATIVE_INFINITY, 'padded slots must score −Infinity');
      for (let q = 0; q < 3; q++) {
        for (let j = 0; j < res.counts[q]; j++) {
          check(
            !lists[q].includes(res.indices[q * 4 + j]),
            `query ${q} returned excluded row ${res.indices[q * 4 + j]}`,
          );
        }
      }
    }
    const big = await r.doSearch({ queries, k: 25, metric: metricsOf(r)[0] });
    check(
      big.counts[0] === 10 && big.indices[0 * 25 + 10] === -1,
      'k larger than the corpus returns every row, then −1',
    );
  });

  add('cosine: zero vectors score 0; a zero query ranks the corpus in id order', async (r) => {
    if (!metricsOf(r).includes('cosine')) return;
    const corpus: Matrix = { rows: 5, cols: 2, data: Float32Array.from([0, 0, 3, 4, 0, 0, -1, 0, 0, 2]) };
    const queries: Matrix = { rows: 2, cols: 2, data: Float32Array.from([0, 0, 0, 5]) };
    await r.index(corpus);
    const res = await r.doSearch({ queries, k: 5, metric: 'cosine' });
    for (let j = 0; j < 5; j++)
      check(res.scores[j] === 0, `zero query: score ${res.scores[j]} at rank ${j}, expected 0`);
    if (tiesOf(r))
      check(
        sameIds(res.indices.subarray(0, 5), [0, 1, 2, 3, 4]),
        `zero query order ${Array.from(res.indices.subarray(0, 5))}`,
      );
    // query (0, 5): cosines [0, 0.8, 0, 0, 1] → 4, 1, then zeros in id order 0, 2, 3
    const want = tiesOf(r) ? [4, 1, 0, 2, 3] : undefined;
    check(
      Math.abs(res.scores[5] - 1) <= tol && Math.abs(res.scores[6] - 0.8) <= tol,
      'cosine of (0,5) with (0,2) and (3,4)',
    );
    if (want)
      check(
        sameIds(res.indices.subarray(5, 10), want),
        `cosine order ${Array.from(res.indices.subarray(5, 10))}, want ${want}`,
      );
  });

  add('equal scores come back lowest id first', async (r) => {
    if (!tiesOf(r)) return;
    // integer data: every score is exact in float32, so ties are true ties
    const corpus: Matrix = {
      rows: 8,
      cols: 2,
      data: Float32Array.from([1, 0, 2, 0, 1, 0, 2, 0, 0, 1, 2, 0, 1, 0, 0, 3]),
    };
    const queries: Matrix = { rows: 1, cols: 2, data: Float32Array.from([1, 0]) };
    await r.index(corpus);
    const dot = await r.doSearch({ queries, k: 8, metric: 'dot' });
    check(sameIds(dot.indices, [1, 3, 5, 0, 2, 6, 4, 7]), `dot tie order ${Array.from(dot.indices)}`);
    const excl = csrFromCoo({ rows: 1, cols: 8, row: [0, 0], col: [3, 0] }).matrix;
    const masked = await r.doSearch({ queries, k: 4, metric: 'dot', exclude: excl });
    check(
      sameIds(masked.indices, [1, 5, 2, 6]),
      `dot tie order with exclusions ${Array.from(masked.indices)}`,
    );
  });

  add('rejects bad input with PromaxErrors that name the problem', async (r) => {
    const metric = metricsOf(r)[0];
    await expectPromaxError(
      () => r.index({ rows: 2, cols: 2, data: new Float32Array(3) }),
      'SHAPE_MISMATCH',
      'corpus of wrong length',
    );
    const bad = gaussian(4, 3, 31);
    bad.data[2 * 3 + 1] = Number.NaN;
    const e = await expectPromaxError(() => r.index(bad), 'NON_FINITE', 'NaN in corpus');
    check(
      /corpus/.test(e.message) && /row 2/.test(e.message),
      `message must name the matrix and row: ${e.message}`,
    );
    await r.index(gaussian(6, 3, 32));
    const badQ = gaussian(3, 3, 33);
    badQ.data[1 * 3] = Number.POSITIVE_INFINITY;
    const eq = await expectPromaxError(
      () => r.doSearch({ queries: badQ, k: 2, metric }),
      'NON_FINITE',
      'Infinity in queries',
    );
    check(
      /queries/.test(eq.message) && /row 1/.test(eq.message),
      `message must name the matrix and row: ${eq.message}`,
    );
    await expectPromaxError(
      () => r.doSearch({ queries: gaussian(2, 4, 34), k: 2, metric }),
      'SHAPE_MISMATCH',
      'query dimension',
    );
    await expectPromaxError(
      () => r.doSearch({ queries: gaussian(2, 3, 35), k: 0, metric }),
      'INVALID_ARGUMENT',
      'k = 0',
    );
    const wrong = csrFromCoo({ rows: 3, cols: 6, row: [0], col: [1] }).matrix;
    await expectPromaxError(
      () => r.doSearch({ queries: gaussian(2, 3, 36), k: 2, metric, exclude: wrong }),
      'SHAPE_MISMATCH',
      'exclusion matrix with the wrong number of rows',
    );
  });

  return cases;
}

/** Registers the conformance cases under `describe(name)`, one `it` per case. */
export function describeRetriever(
  name: string,
  create: Factory,
  runner: {
    describe: (name: string, body: () => void) => void;
    it: (name: string, body: () => Promise<void>) => void;
  },
  options: RetrieverConformanceOptions = {},
): void {
  runner.describe(`Retriever conformance: ${name}`, () => {
    for (const c of retrieverConformanceCases(create, options)) runner.it(c.name, c.run);
  });
}

function check(cond: boolean, message: string): asserts cond {
  if (!cond) throw new Error(`retriever conformance: ${message}`);
}

async function expectPromaxError(
  fn: () => Promise<unknown>,
  code: string,
  what: string,
): Promise<PromaxError> {
  try {
    await fn();
  } catch (e) {
    check(PromaxError.isInstance(e), `${what}: expected a PromaxError, got ${String(e)}`);
    check(e.code === code, `${what}: expected code ${code}, got ${e.code} (${e.message})`);
    return e;
  }
  throw new Error(`retriever conformance: ${what} must be rejected with ${code}`);
}

function sameIds(got: ArrayLike<number>, want: readonly number[]): boolean {
  return got.length === want.length && want.every((v, i) => got[i] === v);
}

/**
 * Position by position: the returned score matches the reference score at that rank, and the
 * returned id has that score in the reference. This accepts swaps only between near-equal
 * scores (float32 vs float64 rounding), nothing else.
 */
function compareWithReference(
  res: RetrieverSearchResult,
  ref: { id: number; score: number }[][],
  tol: number,
  what: string,
): void {
  const k = res.k;
  check(
    res.indices.length === res.queries * k && res.scores.length === res.queries * k,
    `${what}: result arrays must be q×k`,
  );
  for (let q = 0; q < ref.length; q++) {
    check(
      res.counts[q] === ref[q].length,
      `${what}: query ${q} count ${res.counts[q]}, expected ${ref[q].length}`,
    );
    const byId = new Map<number, number>();
    for (const h of ref[q]) byId.set(h.id, h.score);
    const seen = new Set<number>();
    for (let j = 0; j < ref[q].length; j++) {
      const id = res.indices[q * k + j];
      const s = res.scores[q * k + j];
      check(!seen.has(id), `${what}: query ${q} returned row ${id} twice`);
      seen.add(id);
      check(
        Math.abs(s - ref[q][j].score) <= tol,
        `${what}: query ${q} rank ${j} score ${s}, reference ${ref[q][j].score}`,
      );
      const refScore = byId.get(id);
      const kth = ref[q][ref[q].length - 1].score;
      const ok =
        refScore !== undefined ? Math.abs(refScore - ref[q][j].score) <= tol : Math.abs(s - kth) <= tol;
      check(ok, `${what}: query ${q} rank ${j} returned row ${id}, reference has row ${ref[q][j].id}`);
    }
  }
}

function gaussian(
  rows: number,
  cols: number,
  seed: number,
): { rows: number; cols: number; data: Float32Array } {
  const rng = new Rng(seed);
  const data = new Float32Array(rows * cols);
  for (let i = 0; i < data.length; i++) data[i] = rng.nextNormal();
  return { rows, cols, data };
}
