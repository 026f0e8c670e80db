import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { csrFromCoo, type Matrix, type ProgressEvent, PromaxError, Rng } from '@promax/core';
import { buildSparseSdrTeacher } from '@promax/loss';
import { createExactRetriever, recallAgainstExact } from '@promax/retrieval';
import { describeRetriever } from '@promax/retrieval/test';
import { afterAll, describe, expect, it } from 'vitest';
import { type LanceModule, loadLance } from './lance-io.js';
import { createLanceRetriever, partitionsFor, probesFor } from './lancedb-retriever.js';
import { MANIFEST_FILE } from './manifest.js';
import { parseLanceRetrieverSettings } from './settings.js';

const root = mkdtempSync(join(tmpdir(), 'promax-lancedb-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let folders = 0;
const freshDir = (): string => join(root, `db${folders++}`);

describeRetriever('lancedb (flat scan below minRows)', () => createLanceRetriever({ dir: freshDir() }), {
  describe,
  it,
});
describeRetriever(
  'lancedb (IVF-flat index on every corpus, 2 queries per call)',
  () =>
    createLanceRetriever({
      dir: freshDir(),
      index: { type: 'ivf-flat', minRows: 0, numPartitions: 1 },
      search: { blockQueries: 2 },
    }),
  { describe, it },
);

/** Clustered vectors, the shape of real profile embeddings (topics plus noise). */
function clustered(rows: number, dim: number, seed: number, centres: Matrix): Matrix {
  const rng = new Rng(seed);
  const data = new Float32Array(rows * dim);
  for (let r = 0; r < rows; r++) {
    const c = rng.nextInt(centres.rows);
    for (let j = 0; j < dim; j++) data[r * dim + j] = centres.data[c * dim + j] + 0.5 * rng.nextNormal();
  }
  return { rows, cols: dim, data };
}

function gaussian(rows: number, dim: number, seed: number): Matrix {
  const rng = new Rng(seed);
  return { rows, cols: dim, data: Float32Array.from({ length: rows * dim }, () => rng.nextNormal()) };
}

describe('IVF partitions and probes', () => {
  it('√rows partitions and about `candidates` rows scanned per query unless set', () => {
    const defaults = parseLanceRetrieverSettings({ dir: 'x' });
    expect(defaults.index.type).toBe('ivf-flat');
    expect(partitionsFor(defaults.index, 1_000_000)).toBe(1000);
    expect(partitionsFor(defaults.index, 200_000)).toBe(447);
    expect(probesFor(defaults, 1_000_000)).toBe(10);
    expect(probesFor(defaults, 500_000)).toBe(15);
    expect(probesFor(defaults, 200_000)).toBe(23);
    // small corpora: every partition, never more
    expect(probesFor(defaults, 6000)).toBe(77);
    expect(probesFor(defaults, 100)).toBe(10);
    const set = parseLanceRetrieverSettings({
      dir: 'x',
      index: { numPartitions: 64 },
      search: { nprobes: 3 },
    });
    expect(partitionsFor(set.index, 1_000_000)).toBe(64);
    expect(probesFor(set, 1_000_000)).toBe(3);
    const more = parseLanceRetrieverSettings({ dir: 'x', search: { candidates: 20_000 } });
    expect(probesFor(more, 1_000_000)).toBe(20);
  });
});

describe('LanceDB ANN index', () => {
  const centres = gaussian(40, 16, 1);
  const corpus = clustered(6000, 16, 2, centres);
  const queries = clustered(200, 16, 3, centres);
  const rng = new Rng(4);
  const lists = Array.from({ length: 200 }, () => Array.from({ length: 30 }, () => rng.nextInt(6000)));
  const exclude = csrFromCoo(
    { rows: 200, cols: 6000, row: lists.flatMap((l, q) => l.map(() => q)), col: lists.flat() },
    { duplicates: 'binary' },
  ).matrix;

  it('IVF-HNSW-SQ: recall@20 ≥ 0.95 against exact, exclusions honoured, then reused from disk', async () => {
    const dir = freshDir();
    const events: ProgressEvent[] = [];
    const ann = await createLanceRetriever(
      { dir, index: { type: 'ivf-hnsw-sq', numPartitions: 4 } },
      { onProgress: (e) => events.push(e) },
    );
    const exact = createExactRetriever();
    try {
      await ann.index(corpus);
      await exact.index(corpus);
      for (const metric of ['cosine', 'dot'] as const) {
        const r = await recallAgainstExact({ approximate: ann, exact, queries, k: 20, metric, exclude });
        expect(r.queries).toBe(200);
        expect(r.recall).toBeGreaterThanOrEqual(0.95);
      }
      const res = await ann.doSearch({ queries, k: 20, metric: 'cosine', exclude });
      for (let q = 0; q < 200; q++) {
        expect(res.counts[q]).toBe(20);
        for (let j = 0; j < 20; j++) expect(lists[q]).not.toContain(res.indices[q * 20 + j]);
        for (let j = 1; j < 20; j++)
          expect(res.scores[q * 20 + j]).toBeLessThanOrEqual(res.scores[q * 20 + j - 1]);
      }
      expect(ann.events.map((e) => [e.metric, e.action, e.indexType])).toEqual([
        ['cosine', 'built', 'ivf-hnsw-sq'],
        ['dot', 'built', 'ivf-hnsw-sq'],
      ]);
    } finally {
      await ann.release();
      await exact.release();
    }
    const manifest = JSON.parse(readFileSync(join(dir, MANIFEST_FILE), 'utf8'));
    expect(Object.keys(manifest.tables)).toHaveLength(2);

    // A second run over the same corpus opens the tables instead of building them.
    const again = await createLanceRetriever({ dir, index: { type: 'ivf-hnsw-sq', numPartitions: 4 } });
    try {
      await again.index(corpus);
      await again.prepare('cosine');
      expect(again.events.map((e) => e.action)).toEqual(['reused']);
    } finally {
      await again.release();
    }
    expect(events.some((e) => e.type === 'task-end' && e.task === 'lancedb-index')).toBe(true);
  });

  it('default settings (IVF-flat): recall@20 ≥ 0.95 against exact, with exclusions', async () => {
    const ann = await createLanceRetriever({ dir: freshDir() });
    const exact = createExactRetriever();
    try {
      await ann.index(corpus);
      await exact.index(corpus);
      const r = await recallAgainstExact({
        approximate: ann,
        exact,
        queries,
        k: 20,
        metric: 'cosine',
        exclude,
      });
      expect(r.recall).toBeGreaterThanOrEqual(0.95);
      expect(ann.events.map((e) => [e.action, e.indexType])).toEqual([['built', 'ivf-flat']]);
    } finally {
      await ann.release();
      await exact.release();
    }
  });

  it('reads ids from the id column when row ids are not row numbers (a table of several fragments)', async () => {
    // Lance row ids are (fragment << 32 | offset): row numbers only in a one-fragment table. Tables
    // that report two fragments must take the id column and find exactly the same rows.
    const lance = await loadLance();
    const forward = <T extends object>(target: T, own: Record<string, unknown>): T =>
      new Proxy(target, {
        get(t, prop) {
          if (typeof prop === 'string' && prop in own) return own[prop];
          const v = Reflect.get(t, prop);
          return typeof v === 'function' ? v.bind(t) : v;
        },
      });
    type Table = { stats(): Promise<{ fragmentStats: Record<string, unknown> }> };
    const twoFragments = (table: Table) =>
      forward(table, {
        stats: async () => {
          const s = await table.stats();
          return { ...s, fragmentStats: { ...s.fragmentStats, numFragments: 2 } };
        },
      });
    const module: LanceModule = {
      ...lance,
      connect: async (uri, options) => {
        const db = (await lance.connect(uri, options)) as Record<string, (...a: unknown[]) => Promise<Table>>;
        return forward(db, {
          openTable: async (...a: unknown[]) => twoFragments(await db.openTable(...a)),
          createTable: async (...a: unknown[]) => twoFragments(await db.createTable(...a)),
        });
      },
    };
    const settings = { index: { type: 'ivf-flat', numPartitions: 8 } } as const;
    const viaRowIds = await createLanceRetriever({ dir: freshDir(), ...settings });
    const viaIds = await createLanceRetriever({ dir: freshDir(), ...settings }, { module });
    try {
      await viaRowIds.index(corpus);
      await viaIds.index(corpus);
      const a = await viaRowIds.doSearch({ queries, k: 20, metric: 'dot', exclude });
      const b = await viaIds.doSearch({ queries, k: 20, metric: 'dot', exclude });
      expect(Array.from(b.indices)).toEqual(Array.from(a.indices));
      expect(Array.from(b.scores)).toEqual(Array.from(a.scores));
      expect(Math.min(...a.counts)).toBe(20);
    } finally {
      await viaRowIds.release();
      await viaIds.release();
    }
  });

  it('a stale folder (other index settings) is rebuilt after saying so, or rejected with onStale: error', async () => {
    const dir = freshDir();
    const first = await createLanceRetriever({
      dir,
      index: { type: 'ivf-flat', minRows: 0, numPartitions: 2 },
    });
    const small = gaussian(300, 8, 9);
    await first.index(small);
    await first.prepare('dot');
    await first.release();

    const strict = await createLanceRetriever({
      dir,
      index: { type: 'ivf-flat', minRows: 0, numPartitions: 3 },
      onStale: 'error',
    });
    await strict.index(small);
    const err = await strict.prepare('dot').catch((e: unknown) => e);
    await strict.release();
    expect(PromaxError.isInstance(err)).toBe(true);
    expect((err as PromaxError).code).toBe('INVALID_FILE');
    expect((err as PromaxError).message).toMatch(/stale LanceDB index: it was built with index settings/);

    const events: ProgressEvent[] = [];
    const lenient = await createLanceRetriever(
      { dir, index: { type: 'ivf-flat', minRows: 0, numPartitions: 3 } },
      { onProgress: (e) => events.push(e) },
    );
    await lenient.index(small);
    const res = await lenient.doSearch({ queries: gaussian(2, 8, 10), k: 3, metric: 'dot' });
    await lenient.release();
    expect(res.counts[0]).toBe(3);
    expect(lenient.events[0].action).toBe('rebuilt');
    expect(events.some((e) => e.type === 'info' && /is stale .*rebuilding/.test(e.message))).toBe(true);
  });

  it('a corrupt manifest is a named error with onStale: error, else rebuilt after saying so', async () => {
    const dir = freshDir();
    const small = gaussian(50, 4, 11);
    const first = await createLanceRetriever({ dir });
    await first.index(small);
    await first.prepare('cosine');
    await first.release();
    writeFileSync(join(dir, MANIFEST_FILE), '{ not json');

    const strict = await createLanceRetriever({ dir, onStale: 'error' });
    await strict.index(small);
    const err = await strict.prepare('cosine').catch((e: unknown) => e);
    await strict.release();
    expect((err as PromaxError).code).toBe('INVALID_FILE');
    expect((err as PromaxError).message).toMatch(/corrupt LanceDB index manifest/);

    const events: ProgressEvent[] = [];
    const lenient = await createLanceRetriever({ dir }, { onProgress: (e) => events.push(e) });
    await lenient.index(small);
    await lenient.prepare('cosine');
    await lenient.release();
    expect(lenient.events.map((e) => e.action)).toEqual(['rebuilt']);
    expect(events.some((e) => e.type === 'info' && /corrupt/.test(e.message))).toBe(true);
    expect(JSON.parse(readFileSync(join(dir, MANIFEST_FILE), 'utf8')).format).toBe('promax-lancedb/v1');
  });

  it('rejects unknown settings with INVALID_CONFIG', async () => {
    const err = await createLanceRetriever({ dir: freshDir(), index: { kind: 'hnsw' } } as never).catch(
      (e: unknown) => e,
    );
    expect((err as PromaxError).code).toBe('INVALID_CONFIG');
  });
});

describe('LanceDB as the sparse SDR teacher’s top-K source', () => {
  it('gives the same teacher as the exact onnxruntime top-K (flat scan, train items masked)', async () => {
    const users = gaussian(30, 8, 21);
    const items = gaussian(200, 8, 22);
    const rng = new Rng(23);
    const rows = Array.from({ length: 30 }, (_, u) =>
      Array.from({ length: 5 }, () => rng.nextInt(200)).map((i) => [u, i]),
    );
    const mask = csrFromCoo(
      { rows: 30, cols: 200, row: rows.flat().map((p) => p[0]), col: rows.flat().map((p) => p[1]) },
      { duplicates: 'binary' },
    ).matrix;
    const lance = await createLanceRetriever({ dir: freshDir() });
    try {
      const viaLance = await buildSparseSdrTeacher({
        userProfiles: users,
        itemProfiles: items,
        k: 16,
        mask,
        retriever: lance,
      });
      const exact = await buildSparseSdrTeacher({ userProfiles: users, itemProfiles: items, k: 16, mask });
      expect(viaLance.info.source).toBe('lancedb-ivf-flat');
      expect(Array.from(viaLance.ids)).toEqual(Array.from(exact.ids));
      for (let j = 0; j < exact.probs.length; j++) expect(viaLance.probs[j]).toBeCloseTo(exact.probs[j], 5);
      for (let u = 0; u < 30; u++) expect(viaLance.weights[u]).toBeCloseTo(exact.weights[u], 5);
    } finally {
      await lance.release();
    }
  });
});
