import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { csrHas, csrNnz } from '@promax/core';
import { loadDatasetDir, loadSparseMatrix, locateData, saveEmbeddings } from '@promax/data';
import { afterAll, describe, expect, it } from 'vitest';
import { useFakeOpenAIServer } from '../../../../packages/profiles/src/fake-openai-server.fixture.js';
import { EXIT } from '../exit-codes.js';
import { main } from '../main.js';
import {
  filesUnder,
  removeTempDirs,
  type SyntheticDataset,
  tempDir,
  topicEmbeddings,
  writeSyntheticDataset,
  writeTopicEmbeddings,
} from '../profile-pipeline/synthetic-dataset.test-util.js';
import { captureIo } from '../test-util/capture-io.js';

const KEY = 'sk-augment-secret-19bd';
const server = useFakeOpenAIServer();
afterAll(removeTempDirs);

/** `augment` on a dataset and its embeddings into `out`, plus `extra`. */
const augmentArgv = (ds: SyntheticDataset, emb: string, out: string, ...extra: string[]) => [
  '--dataset',
  ds.dir,
  '--embeddings',
  emb,
  '--out',
  out,
  ...extra,
];

/** `augment` with the LLM re-ranker on the fake server (gpt-4o-mini), quiet, plus `extra`. */
const rerankArgv = (ds: SyntheticDataset, emb: string, out: string, ...extra: string[]) =>
  augmentArgv(
    ds,
    emb,
    out,
    '--llm-base-url',
    server.baseURL,
    '--llm-model',
    'gpt-4o-mini',
    '--quiet',
    ...extra,
  );

const run = async (argv: string[]) => {
  const io = captureIo();
  io.env = { ...io.env, OPENAI_API_KEY: KEY };
  const code = await main(['augment', ...argv], io);
  return { code, out: io.stdout(), err: io.stderr() };
};

/** Every train edge is in A′; returns the added (user, item) pairs. */
function checkSuperset(ds: SyntheticDataset | string, out: string): [number, number][] {
  const data = loadDatasetDir(typeof ds === 'string' ? ds : ds.dir);
  const aug = loadSparseMatrix(join(out, 'aug_trn_mat.npz'));
  expect([aug.rows, aug.cols]).toEqual([data.numUsers, data.numItems]);
  const added: [number, number][] = [];
  for (let u = 0; u < data.numUsers; u++) {
    for (let p = data.train.indptr[u] as number; p < (data.train.indptr[u + 1] as number); p++) {
      expect(csrHas(aug, u, data.train.indices[p] as number)).toBe(true);
    }
    for (let p = aug.indptr[u] as number; p < (aug.indptr[u + 1] as number); p++) {
      const i = aug.indices[p] as number;
      if (!csrHas(data.train, u, i)) added.push([u, i]);
    }
  }
  expect(csrNnz(aug)).toBe(csrNnz(data.train) + added.length);
  return added;
}

const readJson = (p: string) => JSON.parse(readFileSync(p, 'utf8'));

describe('promax augment', () => {
  it('builds a retrieval-only A′ ⊇ train with a manifest and a report', async () => {
    const ds = writeSyntheticDataset();
    const emb = writeTopicEmbeddings(ds);
    const out = tempDir();
    const r = await run(
      augmentArgv(ds, emb, out, '--set', 'augment.itemPool=8', '--set', 'augment.userPool=3', '--quiet'),
    );
    expect(r.code, r.err).toBe(0);
    const added = checkSuperset(ds, out);
    expect(added.length).toBeGreaterThan(0);
    // topic-shaped profiles add books of the user's own topic
    expect(added.every(([u, i]) => ds.topicOfUser[u] === ds.topicOfItem[i])).toBe(true);
    const m = readJson(join(out, 'augment_manifest.json'));
    expect(m).toMatchObject({
      format: 'promax-augmented-graph',
      shape: { users: 24, items: 30 },
      config: { itemPool: 8, userPool: 3, seed: 2025 },
      seed: 2025,
      rerank: { mode: 'retrieval-only', description: null },
      totals: { addedEdges: added.length },
      dataset: { name: 'tiny-books', dir: ds.dir },
      embeddings: { dir: emb, dimensions: 6 },
      overrides: ['augment.itemPool=8', 'augment.userPool=3'],
      llm: null,
      quality: { validation: { addedEdges: added.length }, popularity: expect.any(Object) },
      files: { matrix: 'aug_trn_mat.npz', report: 'augment_report.md' },
    });
    expect(m.sparsity.boundaries.length).toBe(3);
    const report = readFileSync(join(out, 'augment_report.md'), 'utf8');
    expect(report).toMatch(/## Added edges per degree bucket/);
    expect(report).toMatch(/## Popularity of the added items/);
    expect(report).toMatch(/\| lift over random \| [\d.]+× \|/);
    expect(r.out).toMatch(/A′ for tiny-books: 24 users × 30 items; train \d+ \+ added \d+ = \d+ edges/);
    expect(r.out).toMatch(/mode: retrieval-only \(no LLM configured\)/);
    expect(r.out).toMatch(/validation hit rate of the added edges: \d\.\d{4} vs \d\.\d{4} for random items/);
  });

  it('re-ranks candidates with the LLM (one request per augmented user), resumes for free, and keeps the key out', async () => {
    const ds = writeSyntheticDataset();
    const emb = writeTopicEmbeddings(ds);
    const out = tempDir();
    // the "LLM" picks the LAST n candidates, so its choice differs from the retrieval order
    const chosen: string[] = [];
    server.options = {
      fault: ({ system, user }) => {
        const n = Number(/Choose the (\d+) candidates/.exec(system)?.[1]);
        const ids = user
          .split('\n')
          .filter((l) => l.startsWith('{"id"'))
          .map((l) => (JSON.parse(l) as { id: string }).id);
        const pick = ids.slice(-n);
        chosen.push(...pick);
        return { content: JSON.stringify({ ids: pick }) };
      },
    };
    const argv = rerankArgv(ds, emb, out, '--set', 'augment.itemPool=8');
    const r = await run(argv);
    expect(r.code, r.err).toBe(0);
    const m = readJson(join(out, 'augment_manifest.json'));
    expect(server.log.length).toBe(m.totals.usersAugmented);
    expect(server.log.every((q) => q.authorization === `Bearer ${KEY}`)).toBe(true);
    // prompts show titles and original ids
    expect(server.log[0]?.body.messages[1]?.content).toMatch(
      /\{"id":"b\d\d","title":"The \w+ book number \d+"/,
    );
    const added = checkSuperset(ds, out);
    expect(added.map(([, i]) => ds.items[i]).sort()).toEqual([...chosen].sort());
    expect(m).toMatchObject({
      rerank: {
        mode: 'reranker',
        description: {
          name: 'llm-rerank',
          model: 'gpt-4o-mini',
          template: expect.any(String),
          promptsSha256: expect.stringMatching(/^[0-9a-f]{64}$/),
        },
      },
      llm: { model: 'gpt-4o-mini', baseURL: server.baseURL, failures: 0, requests: m.totals.usersAugmented },
      quality: { rerank: { mode: 'reranker', usersWithIssues: 0 } },
    });
    expect(readFileSync(join(out, 'augment_report.md'), 'utf8')).toMatch(
      /LLM gpt-4o-mini: \d+ users: 0 from the store, \d+ answered now, 0 failed; \d+ HTTP calls/,
    );

    const firstMatrix = readFileSync(join(out, 'aug_trn_mat.npz'));
    server.reset();
    const again = await run(argv);
    expect(again.code, again.err).toBe(0);
    expect(server.log.length).toBe(0);
    expect(again.out).toMatch(
      /LLM re-ranking: (\d+) users: \1 from the store, 0 answered now, 0 failed; 0 HTTP calls/,
    );
    expect(readFileSync(join(out, 'aug_trn_mat.npz')).equals(firstMatrix)).toBe(true);
    for (const f of filesUnder(out)) expect(f.text.includes(KEY), f.path).toBe(false);
  });

  it('a failed re-ranking request leaves that user with the retrieval order and is reported', async () => {
    const ds = writeSyntheticDataset();
    const emb = writeTopicEmbeddings(ds);
    const out = tempDir();
    let first = true;
    server.options = {
      fault: () => {
        if (!first) return undefined;
        first = false;
        return { status: 400, body: { error: { message: 'bad request (injected)' } } };
      },
    };
    const r = await run(rerankArgv(ds, emb, out, '--set', 'llm.maxRetries=0', '--set', 'llm.concurrency=2'));
    expect(r.code, r.err).toBe(EXIT.PARTIAL);
    expect(r.err).toMatch(/warning: 1 re-ranking request\(s\) failed.*exit code 3/);
    const m = readJson(join(out, 'augment_manifest.json'));
    expect(m.llm).toMatchObject({ failures: 1, settings: { maxRetries: 0, concurrency: 2 } });
    expect(m.quality.rerank).toMatchObject({ failures: 1, usersWithIssues: 1 });
    expect(m.quality.rerank.issues[0].error).toMatch(/LLM re-ranking failed: .*400/);
    checkSuperset(ds, out);
  });

  it('re-ranking: --retries, --repairs and --timeout change what they name; counts match the request log', async () => {
    const ds = writeSyntheticDataset();
    const emb = writeTopicEmbeddings(ds);
    // every user's first answer is malformed; the second a 500; then good answers
    server.options = {
      fault: ({ attempt }) =>
        attempt === 1 ? { content: '{"ids": [' } : attempt === 2 ? { status: 500 } : undefined,
    };
    const argv = (out: string, extra: string[]) =>
      rerankArgv(ds, emb, out, '--set', 'llm.backoff.initialMs=5', ...extra);
    const ok = await run(argv(tempDir(), ['--retries', '1', '--repairs', '1']));
    expect(ok.code, ok.err).toBe(EXIT.OK);
    const first = server.log.filter((q) => q.attempt === 1).length;
    expect(server.log.length).toBe(3 * first);
    expect(ok.out).toMatch(
      new RegExp(
        `LLM re-ranking: ${first} users: 0 from the store, ${first} answered now, 0 failed; ${3 * first} HTTP calls \\(${first} first, ${first} retries: ${first} server error \\(5xx\\); ${first} repairs\\)`,
      ),
    );

    server.reset();
    const noRepair = await run(argv(tempDir(), ['--repairs', '0']));
    expect(noRepair.code).toBe(EXIT.PARTIAL);
    expect(server.log.length).toBe(first);
    expect(noRepair.out).toMatch(
      new RegExp(`${first} users: 0 from the store, 0 answered now, ${first} failed`),
    );

    server.reset();
    const noRetry = await run(argv(tempDir(), ['--retries', '0']));
    expect(noRetry.code).toBe(EXIT.PARTIAL);
    expect(server.log.length).toBe(2 * first);

    server.reset();
    server.options = { fault: ({ attempt }) => (attempt === 1 ? { delayMs: 1_000 } : undefined) };
    const t0 = performance.now();
    const timeout = await run(argv(tempDir(), ['--timeout', '0.2', '--set', 'llm.concurrency=8']));
    expect(timeout.code, timeout.err).toBe(EXIT.OK);
    expect(timeout.out).toMatch(new RegExp(`${first} retries: ${first} timed out`));
    expect(performance.now() - t0).toBeLessThan(900 * Math.ceil(first / 8));
  });

  it('documents exit codes and the re-ranking flags in --help', async () => {
    const io = captureIo();
    expect(await main(['augment', '--help'], io)).toBe(0);
    expect(io.stdout()).toMatch(/\n {2}3 {4}some re-ranking calls failed/);
    expect(io.stdout()).toMatch(/--repairs N .*\(default 2/);
    expect(io.stdout()).toMatch(/What a crash\s+costs/);
  });

  const dbbook = locateData('dbbook');
  if (dbbook.reason) console.warn(`skipping the DBbook augment test: ${dbbook.reason}`);
  it.skipIf(!!dbbook.reason)('DBbook: retrieval-only A′ keeps every train edge', async () => {
    const emb = tempDir();
    saveEmbeddings(
      join(emb, 'usr_emb.npy'),
      topicEmbeddings(
        Array.from({ length: 5660 }, (_, u) => u % 4),
        8,
      ),
    );
    saveEmbeddings(
      join(emb, 'itm_emb.npy'),
      topicEmbeddings(
        Array.from({ length: 6698 }, (_, i) => i % 4),
        8,
      ),
    );
    const out = tempDir();
    const r = await run(['--dataset', 'dbbook', '--embeddings', emb, '--out', out, '--quiet']);
    expect(r.code, r.err).toBe(0);
    checkSuperset(dbbook.path as string, out);
    expect(readJson(join(out, 'augment_manifest.json'))).toMatchObject({
      dataset: { name: 'dbbook' },
      sparsity: { boundaries: [2, 4, 7] },
    });
  });

  it('rejects bad input with the flag and the fix', async () => {
    const ds = writeSyntheticDataset();
    const emb = writeTopicEmbeddings(ds);
    const wrong = tempDir();
    saveEmbeddings(join(wrong, 'usr_emb.npy'), topicEmbeddings(Array(24).fill(0)));
    saveEmbeddings(join(wrong, 'itm_emb.npy'), topicEmbeddings(Array(31).fill(0)));
    const out = tempDir();
    const base = ['--dataset', ds.dir, '--embeddings', emb, '--out', out];
    const cases: [string[], RegExp][] = [
      [['--dataset', ds.dir, '--embeddings', emb], /^error \[INVALID_ARGUMENT\]: --out is required/],
      [
        [...base, '--llm-model', 'gpt-4o-mini'],
        /needs both --llm-base-url and --llm-model; --llm-base-url is missing/,
      ],
      [
        [...base, '--retries', '2'],
        /--retries applies to LLM re-ranking, and no --llm-model is given.*Fix: drop --retries/,
      ],
      [
        [...base, '--set', 'augment.itemPol=5'],
        /^error \[INVALID_CONFIG\]: invalid config in --set: augment\.itemPol: unknown key "itemPol" — did you mean "itemPool"\?/,
      ],
      [[...base, '--set', 'augment.itemPool=-1'], /INVALID_CONFIG.*augment\.itemPool/],
      [[...base, '--set', 'itemPool'], /override "itemPool" is not of the form key=value/],
      [
        ['--dataset', ds.dir, '--embeddings', wrong, '--out', out],
        /^error \[SHAPE_MISMATCH\]: .*itm_emb\.npy has 31 rows but dataset 'tiny-books' has 30 items/,
      ],
    ];
    for (const [argv, pattern] of cases) {
      const r = await run(argv);
      expect(r.code, argv.join(' ')).toBe(2);
      expect(r.err, argv.join(' ')).toMatch(pattern);
    }
    expect(existsSync(join(out, 'aug_trn_mat.npz'))).toBe(false);
  });
});
