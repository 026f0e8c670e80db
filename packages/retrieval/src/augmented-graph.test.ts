import {
  type CsrMatrix,
  csrFromCoo,
  csrHas,
  type Matrix,
  type ProgressEvent,
  PromaxError,
  Rng,
} from '@promax/core';
import { describe, expect, it } from 'vitest';
import { buildAugmentedGraph } from './augmented-graph.js';
import { retrieveCandidates } from './candidates.js';
import { createExactRetriever } from './exact-retriever.js';
import type { RerankRequest } from './rerank.js';

const csr = (rows: number, cols: number, pairs: [number, number][]): CsrMatrix =>
  csrFromCoo({ rows, cols, row: pairs.map((p) => p[0]), col: pairs.map((p) => p[1]) }).matrix;
const rowOf = (m: CsrMatrix, r: number): number[] =>
  Array.from(m.indices.subarray(m.indptr[r], m.indptr[r + 1]));
const gaussian = (rows: number, cols: number, seed: number): Matrix => {
  const rng = new Rng(seed);
  return { rows, cols, data: Float32Array.from({ length: rows * cols }, () => rng.nextNormal()) };
};

/**
 * 4 users × 10 items. Train degrees 1, 2, 3, 6 → 75th percentile (linear) = 3.75, so users 0–2
 * get fixedN = 2 items each; itemPool 10 makes every non-train item a candidate.
 */
const small = {
  train: csr(4, 10, [
    [0, 0],
    [1, 1],
    [1, 2],
    [2, 3],
    [2, 4],
    [2, 5],
    [3, 0],
    [3, 1],
    [3, 2],
    [3, 3],
    [3, 4],
    [3, 6],
  ]),
  val: csr(4, 10, [
    [0, 6],
    [0, 8],
    [1, 9],
    [3, 7],
  ]),
  userEmb: gaussian(4, 3, 1),
  itemEmb: gaussian(10, 3, 2),
  config: { sparsity: { quantiles: [75], fixedN: 2 }, itemPool: 10, userPool: 1 },
};

describe('buildAugmentedGraph — quality report computed by hand', () => {
  it('validation hit rate vs the random expectation, popularity, buckets, A′ ⊇ train', async () => {
    const answers: Record<number, number[]> = { 0: [6, 7], 1: [6, 9], 2: [8, 9] };
    const requests: RerankRequest[] = [];
    const out = await buildAugmentedGraph({
      ...small,
      rerank: async (req) => {
        requests.push(req);
        return answers[req.user];
      },
      rerankDescription: { name: 'fixed-answers', promptHash: 'sha256:abc' },
    });
    expect(requests.map((r) => [r.user, r.n, r.history])).toEqual([
      [0, 2, [0]],
      [1, 2, [1, 2]],
      [2, 2, [3, 4, 5]],
    ]);
    expect(requests[0].candidates.slice().sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(requests[0].seed).toBe(2025);

    for (const u of [0, 1, 2]) expect(rowOf(out.added, u)).toEqual(answers[u].slice().sort((a, b) => a - b));
    expect(rowOf(out.added, 3)).toEqual([]);
    for (let u = 0; u < 4; u++) {
      for (const i of rowOf(small.train, u)) expect(csrHas(out.augmented, u, i)).toBe(true);
      expect(rowOf(out.augmented, u).length).toBe(rowOf(small.train, u).length + rowOf(out.added, u).length);
    }

    const v = out.report.validation;
    // hits: user 0 item 6, user 1 item 9 → 2 of 6 added edges
    expect(v?.hits).toBe(2);
    expect(v?.hitRate).toBeCloseTo(1 / 3, 12);
    // random: user 0 2·2/9, user 1 2·1/8, user 2 2·0/7 → (4/9 + 1/4) / 6 = 25/216
    expect(v?.expectedRandomHitRate).toBeCloseTo(25 / 216, 12);
    expect(v?.lift).toBeCloseTo(72 / 25, 10);

    // item train degrees: 0–4 → 2, 5 → 1, 6 → 1, 7–9 → 0; added items 6,7 | 6,9 | 8,9 → (1+0+1+0+0+0)/6
    const p = out.report.popularity;
    expect(p.addedItemMeanDegree).toBeCloseTo(1 / 3, 12);
    expect(p.catalogueMeanDegree).toBeCloseTo(1.2, 12);
    expect(p.trainEdgeMeanItemDegree).toBeCloseTo(22 / 12, 12);
    expect(p.ratioToCatalogue).toBeCloseTo(1 / 3 / 1.2, 12);
    expect(p.distinctAddedItems).toBe(4);

    expect(out.report.buckets).toEqual([
      {
        label: 'deg < 3.75',
        target: null,
        users: 3,
        usersAugmented: 3,
        planned: 6,
        added: 6,
        shortfall: 0,
        valHits: 2,
      },
      {
        label: 'deg ≥ 3.75',
        target: null,
        users: 1,
        usersAugmented: 0,
        planned: 0,
        added: 0,
        shortfall: 0,
        valHits: 0,
      },
    ]);
    expect(out.report.perUserAdded).toEqual({ min: 2, max: 2, mean: 2 });
    expect(out.report.rerank).toMatchObject({ mode: 'reranker', calls: 3, usersWithIssues: 0, failures: 0 });

    const m = out.manifest;
    expect(m.rerank).toEqual({
      mode: 'reranker',
      description: { name: 'fixed-answers', promptHash: 'sha256:abc' },
    });
    expect(m.sparsity.boundaries).toEqual([3.75]);
    expect(m.totals).toEqual({
      trainEdges: 12,
      addedEdges: 6,
      augmentedEdges: 18,
      usersAugmented: 3,
      rerankIssues: 0,
      rerankFailures: 0,
    });
    expect(m.config).toMatchObject({
      itemPool: 10,
      userPool: 1,
      maxCandidates: 100,
      neighbourWeight: 1,
      seed: 2025,
    });
    expect(m.config.sparsity).toEqual({
      quantiles: [75],
      percentileMethod: 'linear',
      offset: 1,
      fixedN: 2,
      maxPerUser: undefined,
    });
    expect(JSON.parse(JSON.stringify(m))).toEqual(m); // plain JSON data
    expect(m.retriever).toEqual({ provider: 'exact-onnx', exact: true });
  });

  it('without val the validation report is null and no bucket counts val hits', async () => {
    const out = await buildAugmentedGraph({ ...small, val: undefined });
    expect(out.report.validation).toBeNull();
    expect(out.report.buckets.every((b) => b.valHits === null)).toBe(true);
  });
});

describe('buildAugmentedGraph — re-ranker answers are validated, never silently dropped', () => {
  it('records invalid ids, duplicates, short answers, thrown errors and non-arrays, and fills from retrieval order', async () => {
    const users = 6;
    const train = csr(users, 12, [
      [0, 0],
      [1, 1],
      [2, 2],
      [3, 3],
      [4, 4],
      [5, 0],
      [5, 1],
      [5, 2],
      [5, 3],
      [5, 4],
      [5, 5],
      [5, 6],
    ]);
    const input = {
      train,
      userEmb: gaussian(users, 4, 3),
      itemEmb: gaussian(12, 4, 4),
      config: { sparsity: { quantiles: [90], fixedN: 3 }, itemPool: 6, userPool: 0 }, // boundary 4: users 0–4
    };
    const retrievalOnly = await buildAugmentedGraph(input);
    const retriever = createExactRetriever();
    const cands = await retrieveCandidates({
      users: Int32Array.from([0, 1, 2, 3, 4]),
      userEmb: input.userEmb,
      itemEmb: input.itemEmb,
      train,
      settings: { itemPool: 6, userPool: 0, neighbourWeight: 1, maxCandidates: 100 },
      retriever,
    });
    await retriever.release();
    const listOf = (j: number): number[] =>
      Array.from(cands.items.subarray(cands.indptr[j], cands.indptr[j + 1]));
    // retrieval-only mode = the top n candidates by score
    for (let u = 0; u < 5; u++)
      expect(rowOf(retrievalOnly.added, u)).toEqual(
        listOf(u)
          .slice(0, 3)
          .sort((a, b) => a - b),
      );

    const events: ProgressEvent[] = [];
    const out = await buildAugmentedGraph({
      ...input,
      onProgress: (e) => events.push(e),
      rerank: async ({ user, candidates }) => {
        if (user === 0) return [candidates[5], candidates[5], 0, 999, candidates[4]]; // dup, train item, unknown id
        if (user === 1) throw new Error('LLM timeout');
        if (user === 2) return [candidates[2]]; // too few
        if (user === 3) return 'not a list' as unknown as number[];
        return [candidates[3], candidates[2], candidates[1], candidates[0]]; // one too many
      },
    });
    const issues = out.report.rerank.issues;
    expect(issues.map((i) => i.user)).toEqual([0, 1, 2, 3, 4]);
    expect(issues[0]).toMatchObject({
      invalidIds: [0, 999],
      duplicateIds: [listOf(0)[5]],
      filled: 1,
      extra: 0,
    });
    expect(rowOf(out.added, 0)).toEqual([listOf(0)[5], listOf(0)[4], listOf(0)[0]].sort((a, b) => a - b));
    expect(issues[1]).toMatchObject({ error: 'LLM timeout', filled: 3 });
    expect(rowOf(out.added, 1)).toEqual(
      listOf(1)
        .slice(0, 3)
        .sort((a, b) => a - b),
    );
    expect(issues[2]).toMatchObject({ filled: 2, invalidIds: [], error: undefined });
    expect(rowOf(out.added, 2)).toEqual([listOf(2)[2], listOf(2)[0], listOf(2)[1]].sort((a, b) => a - b));
    expect(issues[3].error).toMatch(/string, not an array/);
    expect(issues[4]).toMatchObject({ extra: 1, filled: 0 });
    expect(out.report.rerank).toMatchObject({
      calls: 5,
      usersWithIssues: 5,
      failures: 2,
      invalidIds: 2,
      duplicateIds: 1,
      filled: 9,
    });
    expect(out.manifest.totals).toMatchObject({ addedEdges: 15, rerankIssues: 5, rerankFailures: 2 });
    // no train item was ever added, every user got their quota
    for (let u = 0; u < users; u++)
      for (const i of rowOf(out.added, u)) expect(csrHas(train, u, i)).toBe(false);
    expect(out.report.buckets[0]).toMatchObject({ planned: 15, added: 15, shortfall: 0 });
    expect(events.filter((e) => e.type === 'task-end').map((e) => (e as { task: string }).task)).toEqual([
      'augment-candidates',
      'augment-select',
    ]);
  });

  it('a user with fewer candidates than their quota is recorded as shortfall', async () => {
    const train = csr(2, 4, [
      [0, 0],
      [0, 1],
      [0, 2],
      [1, 0],
      [1, 1],
      [1, 2],
      [1, 3],
    ]);
    const out = await buildAugmentedGraph({
      train,
      userEmb: gaussian(2, 2, 5),
      itemEmb: gaussian(4, 2, 6),
      config: { sparsity: { quantiles: [50], fixedN: 3 }, itemPool: 4, userPool: 1 },
    });
    expect(rowOf(out.added, 0)).toEqual([3]);
    expect(out.report.buckets[0]).toMatchObject({ users: 1, planned: 3, added: 1, shortfall: 2 });
  });
});

describe('buildAugmentedGraph — boundary checks', () => {
  it('rejects unknown config keys, mismatched shapes, NaNs; honours abort', async () => {
    await expect(buildAugmentedGraph({ ...small, config: { itemPol: 5 } as never })).rejects.toMatchObject({
      code: 'INVALID_CONFIG',
      field: 'config.itemPol',
    });
    await expect(
      buildAugmentedGraph({ ...small, config: { itemPool: 0, userPool: 0 } }),
    ).rejects.toMatchObject({ code: 'INVALID_CONFIG' });
    await expect(buildAugmentedGraph({ ...small, itemEmb: gaussian(9, 3, 2) })).rejects.toMatchObject({
      code: 'SHAPE_MISMATCH',
      field: 'train',
    });
    await expect(buildAugmentedGraph({ ...small, val: csr(4, 11, []) })).rejects.toMatchObject({
      code: 'SHAPE_MISMATCH',
      field: 'val',
    });
    const nan = gaussian(4, 3, 1);
    nan.data[2 * 3] = Number.NaN;
    const err = await buildAugmentedGraph({ ...small, userEmb: nan }).catch((e: unknown) => e);
    expect(
      PromaxError.isInstance(err) && err.code === 'NON_FINITE' && /userEmb row 2/.test(err.message),
    ).toBe(true);

    const pre = new AbortController();
    pre.abort();
    await expect(buildAugmentedGraph({ ...small, signal: pre.signal })).rejects.toMatchObject({
      code: 'ABORTED',
    });
    const mid = new AbortController();
    await expect(
      buildAugmentedGraph({
        ...small,
        signal: mid.signal,
        config: { ...small.config, rerankConcurrency: 1 },
        rerank: async () => {
          mid.abort();
          throw new Error('aborted by the caller');
        },
      }),
    ).rejects.toMatchObject({ code: 'ABORTED' });
  });

  it('is deterministic', async () => {
    const a = await buildAugmentedGraph(small);
    const b = await buildAugmentedGraph(small);
    expect(Array.from(a.augmented.indices)).toEqual(Array.from(b.augmented.indices));
    expect(a.manifest).toEqual(b.manifest);
  });
});
