import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { loadEmbeddings, loadExtraProfiles, locateData } from '@promax/data';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  writeTinyEncoder,
  writeTinyTokenizerJson,
} from '../../../../packages/embed/src/tiny-model.fixture.js';
import { main } from '../main.js';
import {
  filesUnder,
  removeTempDirs,
  tempDir,
  writeSyntheticDataset,
  writeSyntheticRlmrec,
} from '../profile-pipeline/synthetic-dataset.test-util.js';
import { captureIo } from '../test-util/capture-io.js';

const KEY = 'sk-embed-secret-77aa';

/** A 127.0.0.1 server speaking the OpenAI embeddings protocol: deterministic vectors from the text's hash. */
class FakeEmbeddingsServer {
  requests: { model: string; input: string[]; dimensions?: number; authorization?: string }[] = [];
  /** An injected answer for request number n (1-based): an error status, or a stall in ms. */
  fault: ((n: number) => { status: number } | { stallMs: number } | undefined) | undefined;
  private server: Server | undefined;
  baseURL = '';
  async start(): Promise<void> {
    const server = createServer((req, res) => {
      let raw = '';
      req.on('data', (c) => (raw += c));
      req.on('end', () => {
        const body = JSON.parse(raw) as {
          model: string;
          input: string[];
          dimensions?: number;
          encoding_format: string;
        };
        this.requests.push({ ...body, authorization: req.headers.authorization });
        const f = this.fault?.(this.requests.length);
        if (f && 'status' in f) {
          res.writeHead(f.status, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ error: { message: `injected ${f.status}` } }));
          return;
        }
        if (f) {
          const t = setTimeout(() => res.writeHead(500).end(), f.stallMs);
          res.on('close', () => clearTimeout(t));
          return;
        }
        const dim = body.dimensions ?? 16;
        const data = body.input.map((text, index) => {
          const h = createHash('sha256').update(text).digest();
          const v = Float32Array.from({ length: dim }, (_, k) => ((h[k % 32] as number) - 128) / 128);
          return { object: 'embedding', index, embedding: Buffer.from(v.buffer).toString('base64') };
        });
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(
          JSON.stringify({
            object: 'list',
            data,
            model: body.model,
            usage: { prompt_tokens: 3, total_tokens: 3 },
          }),
        );
      });
    });
    this.server = server;
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    this.baseURL = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
  }
  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
  }
}

const server = new FakeEmbeddingsServer();
let tinyModel = '';
beforeAll(async () => {
  await server.start();
  tinyModel = tempDir('promax-tiny-model-');
  writeTinyTokenizerJson(tinyModel);
  writeTinyEncoder(tinyModel);
});
afterAll(async () => {
  await server.stop();
  removeTempDirs();
});

const run = async (argv: string[], env: Record<string, string> = {}) => {
  const io = captureIo();
  io.env = { ...io.env, ...env };
  const code = await main(argv, io);
  return { code, out: io.stdout(), err: io.stderr() };
};

describe('promax embed', () => {
  it('embeds our profiles with a local ONNX encoder: dense-id rows, zero rows for users without a profile, item titles as the item text', async () => {
    const ds = writeSyntheticDataset();
    const profiles = tempDir();
    // profiles for 20 of the 24 users, keyed by original id, in shuffled order; one "None" answer
    const lines = ds.users
      .slice(0, 20)
      .reverse()
      .map((u, k) => JSON.stringify({ user: u, profile: k === 0 ? 'None' : `hello world the playing ${u}` }));
    writeFileSync(join(profiles, 'user_profiles.jsonl'), `${lines.join('\n')}\n`);
    const out = tempDir();
    const argv = [
      'embed',
      '--profiles',
      profiles,
      '--dataset',
      ds.dir,
      '--encoder',
      `onnx:${tinyModel}`,
      '--out',
      out,
      '--quiet',
    ];
    const r = await run(argv);
    expect(r.code, r.err).toBe(0);
    const usr = loadEmbeddings(join(out, 'usr_emb.npy'));
    const itm = loadEmbeddings(join(out, 'itm_emb.npy'));
    expect([usr.rows, usr.cols, itm.rows, itm.cols]).toEqual([24, 3, 30, 3]);
    const zero = (m: typeof usr, row: number) =>
      Array.from(m.data.subarray(row * m.cols, (row + 1) * m.cols)).every((x) => x === 0);
    // u19 answered "None", u20…u23 have no profile
    expect([0, 18].map((u) => zero(usr, u))).toEqual([false, false]);
    expect([19, 20, 21, 22, 23].map((u) => zero(usr, u))).toEqual([true, true, true, true, true]);
    expect(r.err).toMatch(/warning: 5 of 24 users have no profile: their rows in usr_emb\.npy are zero/);
    const m = JSON.parse(readFileSync(join(out, 'embed_manifest.json'), 'utf8'));
    expect(m).toMatchObject({
      format: 'promax-embeddings',
      encoder: { provider: 'onnx', dimensions: 3, modelDir: tinyModel },
      dataset: { name: 'tiny-books', users: 24, items: 30, userIdsSha256: expect.any(String) },
      user: {
        textSource: { kind: 'profiles', file: join(profiles, 'user_profiles.jsonl') },
        withText: 19,
        zeroRows: 5,
        noneAnswers: 1,
        embedded: 19,
      },
      item: {
        textSource: { kind: 'titles', column: 'title', file: join(ds.dir, 'items.tsv') },
        withText: 30,
        zeroRows: 0,
      },
    });
    expect(m.user.textsSha256).toMatch(/^[0-9a-f]{64}$/);
    const again = await run(argv);
    expect(again.out).toMatch(/users: 19\/24 from profiles .*; 0 embedded, 19 from the cache/);
    expect(Array.from(loadEmbeddings(join(out, 'usr_emb.npy')).data)).toEqual(Array.from(usr.data));
  });

  it('embeds RLMRec {id: {profile, reasoning}} JSON through an OpenAI-compatible endpoint, paying once', async () => {
    const ds = writeSyntheticRlmrec();
    const profiles = tempDir();
    const prf = (n: number, word: string) =>
      JSON.stringify(
        Object.fromEntries(
          Array.from({ length: n }, (_, k) => [String(k), { profile: `${word} ${k}`, reasoning: 'r' }]),
        ),
      );
    writeFileSync(join(profiles, 'usr_prf.json'), prf(24, 'reader'));
    writeFileSync(join(profiles, 'itm_prf.json'), prf(30, 'book'));
    const out = tempDir();
    const argv = [
      'embed',
      '--profiles',
      profiles,
      '--dataset',
      ds.dir,
      '--encoder',
      'openai:text-embedding-3-small',
      '--embedding-base-url',
      server.baseURL,
      '--dimensions',
      '8',
      '--out',
      out,
      '--quiet',
    ];
    const r = await run(argv, { OPENAI_API_KEY: KEY });
    expect(r.code, r.err).toBe(0);
    expect(server.requests.length).toBe(2);
    expect(server.requests.map((q) => q.input.length)).toEqual([24, 30]);
    expect(server.requests[0]).toMatchObject({
      model: 'text-embedding-3-small',
      dimensions: 8,
      authorization: `Bearer ${KEY}`,
    });
    const usr = loadEmbeddings(join(out, 'usr_emb.npy'));
    expect([usr.rows, usr.cols]).toEqual([24, 8]);
    const m = JSON.parse(readFileSync(join(out, 'embed_manifest.json'), 'utf8'));
    expect(m.user.textSource).toMatchObject({ kind: 'profiles', idSpace: 'dense' });
    expect(m.item.textSource).toMatchObject({ kind: 'profiles', file: join(profiles, 'itm_prf.json') });
    expect(m.encoder).toMatchObject({
      provider: 'openai-compatible',
      modelId: 'text-embedding-3-small@8',
      baseURL: server.baseURL,
    });
    server.requests.length = 0;
    const again = await run(argv, { OPENAI_API_KEY: KEY });
    expect(again.code, again.err).toBe(0);
    expect(server.requests.length).toBe(0);
    for (const f of filesUnder(out)) expect(f.text.includes(KEY), f.path).toBe(false);
  });

  it('openai: exits 3 when the endpoint keeps failing, keeps what was paid for; --retries/--timeout change what they name; 130 on Ctrl-C', async () => {
    const ds = writeSyntheticRlmrec();
    const profiles = tempDir();
    const prf = (n: number, word: string) =>
      JSON.stringify(
        Object.fromEntries(
          Array.from({ length: n }, (_, k) => [String(k), { profile: `${word} ${k}`, reasoning: 'r' }]),
        ),
      );
    writeFileSync(join(profiles, 'usr_prf.json'), prf(24, 'reader'));
    writeFileSync(join(profiles, 'itm_prf.json'), prf(30, 'book'));
    const argv = (out: string, extra: string[]) => [
      'embed',
      '--profiles',
      profiles,
      '--dataset',
      ds.dir,
      '--encoder',
      'openai:text-embedding-3-small',
      '--embedding-base-url',
      server.baseURL,
      '--dimensions',
      '8',
      '--out',
      out,
      '--quiet',
      ...extra,
    ];
    const out = tempDir();
    server.requests.length = 0;
    // the user call succeeds; the item call fails every time
    server.fault = (n) => (n >= 2 ? { status: 503 } : undefined);
    const failed = await run(argv(out, ['--retries', '2']), { OPENAI_API_KEY: KEY });
    expect(failed.code, failed.err).toBe(3);
    expect(server.requests.length).toBe(1 + 3);
    expect(failed.err).toMatch(
      /HTTP 503.*\n.*cached in .*cache; the same command sends only the rest \(exit code 3\)/,
    );

    server.requests.length = 0;
    server.fault = (n) => (n === 1 ? { status: 429 } : n === 2 ? { stallMs: 2_000 } : undefined);
    const t0 = performance.now();
    const resumed = await run(argv(out, ['--timeout', '0.2']), { OPENAI_API_KEY: KEY });
    expect(resumed.code, resumed.err).toBe(0);
    expect(performance.now() - t0).toBeLessThan(10_000); // far below the 120 s default timeout
    // only the items are sent (the users came from the cache): 429, stall, then the answer
    expect(server.requests.map((q) => q.input.length)).toEqual([30, 30, 30]);
    expect(resumed.out).toMatch(/3 HTTP calls \(2 retries: 1 rate-limited \(429\), 1 timed out\)/);

    server.requests.length = 0;
    server.fault = () => {
      process.emit('SIGINT');
      return { stallMs: 5_000 };
    };
    const stopped = await run(argv(tempDir(), []), { OPENAI_API_KEY: KEY });
    expect(stopped.code, stopped.err).toBe(130);
    expect(server.requests.length).toBe(1);
    expect(process.listenerCount('SIGINT')).toBe(0);
    server.fault = undefined;

    const help = captureIo();
    expect(await main(['embed', '--help'], help)).toBe(0);
    expect(help.stdout()).toMatch(/--retries N .*\(default 3/);
    expect(help.stdout()).toMatch(/\n {2}3 {4}the endpoint still failed after its retries/);
  });

  const dbbook = locateData('dbbook');
  if (dbbook.reason) console.warn(`skipping the DBbook embed test: ${dbbook.reason}`);
  it.skipIf(!!dbbook.reason)(
    'DBbook: existing user profiles + item titles, dataset found through the profiles manifest',
    async () => {
      const prof = tempDir();
      const p = await run([
        'profiles',
        '--dataset',
        dbbook.path as string,
        '--from-existing',
        '--limit',
        '30',
        '--out',
        prof,
      ]);
      expect(p.code, p.err).toBe(0);
      const out = tempDir();
      const r = await run([
        'embed',
        '--profiles',
        prof,
        '--encoder',
        `onnx:${tinyModel}`,
        '--out',
        out,
        '--quiet',
      ]);
      expect(r.code, r.err).toBe(0);
      const m = JSON.parse(readFileSync(join(out, 'embed_manifest.json'), 'utf8'));
      expect(m).toMatchObject({
        dataset: { name: 'dbbook', users: 5660, items: 6698 },
        user: { rows: 5660, withText: 30, textSource: { kind: 'profiles' } },
        item: { rows: 6698, textSource: { kind: 'titles', column: 'title' }, zeroRows: 53 },
      });
      expect(m.item.textSource.file).toMatch(/items\.tsv\.gz$/);
      expect(loadEmbeddings(join(out, 'usr_emb.npy')).rows).toBe(5660);
    },
  );

  it('embeds every extra profile variant it finds into usr_emb_np_k / itm_emb_np_k, rows in dense-id order', async () => {
    const ds = writeSyntheticDataset();
    const profiles = tempDir();
    const words = ['hello', 'world', 'cafe', 'the', 'playing', 'a', 'unaffable'];
    // a distinct text per number: the words of its set bits
    const text = (n: number) => words.filter((_, b) => ((n + 1) >> b) & 1).join(' ');
    const jsonl = (kind: 'user' | 'item', ids: string[], textOf: (k: number) => string, skip = -1) =>
      `${ids
        .map((id, k) => [id, k] as const)
        .filter(([, k]) => k !== skip)
        .reverse()
        .map(([id, k]) => JSON.stringify({ [kind]: id, profile: textOf(k) }))
        .join('\n')}\n`;
    writeFileSync(join(profiles, 'user_profiles.jsonl'), jsonl('user', ds.users, text));
    writeFileSync(
      join(profiles, 'item_profiles.jsonl'),
      jsonl('item', ds.items, (k) => text(40 + k)),
    );
    // variant 1: user u gets the main text of user u+1; variant 2 has no profile for the last user
    writeFileSync(
      join(profiles, 'user_profiles_1.jsonl'),
      jsonl('user', ds.users, (k) => text(k + 1)),
    );
    writeFileSync(
      join(profiles, 'item_profiles_1.jsonl'),
      jsonl('item', ds.items, (k) => text(41 + k)),
    );
    writeFileSync(
      join(profiles, 'user_profiles_2.jsonl'),
      jsonl('user', ds.users, (k) => text(90 + k), 23),
    );
    writeFileSync(
      join(profiles, 'item_profiles_2.jsonl'),
      jsonl('item', ds.items, (k) => text(70 + k)),
    );
    const out = tempDir();
    const argv = ['embed', '--profiles', profiles, '--dataset', ds.dir, '--encoder', `onnx:${tinyModel}`];
    const r = await run([...argv, '--out', out, '--quiet']);
    expect(r.code, r.err).toBe(0);
    const usr = loadEmbeddings(join(out, 'usr_emb.npy'));
    const itm = loadEmbeddings(join(out, 'itm_emb.npy'));
    const row = (m: typeof usr, k: number) => Array.from(m.data.subarray(k * m.cols, (k + 1) * m.cols));
    const u1 = loadEmbeddings(join(out, 'usr_emb_np_1.npy'));
    const i1 = loadEmbeddings(join(out, 'itm_emb_np_1.npy'));
    const u2 = loadEmbeddings(join(out, 'usr_emb_np_2.npy'));
    const i2 = loadEmbeddings(join(out, 'itm_emb_np_2.npy'));
    expect([u1, i1, u2, i2].map((m) => [m.rows, m.cols])).toEqual([
      [24, 3],
      [30, 3],
      [24, 3],
      [30, 3],
    ]);
    // distinct texts give distinct rows, so equal rows below mean the same text at the right row
    expect(new Set(ds.users.map((_, u) => row(usr, u).join())).size).toBe(24);
    for (let u = 0; u < 23; u++) expect(row(u1, u), `user ${u}`).toEqual(row(usr, u + 1));
    for (let i = 0; i < 29; i++) expect(row(i1, i), `item ${i}`).toEqual(row(itm, i + 1));
    expect(row(u2, 23)).toEqual([0, 0, 0]);
    expect(row(u2, 0)).not.toEqual([0, 0, 0]);
    expect(r.err).toMatch(
      /warning: 1 of 24 users have no profile \(variant 2\): their rows in usr_emb_np_2\.npy are zero/,
    );
    const m = JSON.parse(readFileSync(join(out, 'embed_manifest.json'), 'utf8'));
    expect(m.variants.map((v: { variant: number }) => v.variant)).toEqual([1, 2]);
    expect(m.variants[1]).toMatchObject({
      user: { file: 'usr_emb_np_2.npy', withText: 23, zeroRows: 1, textSource: { kind: 'profiles' } },
      item: {
        file: 'itm_emb_np_2.npy',
        withText: 30,
        textSource: { file: join(profiles, 'item_profiles_2.jsonl') },
      },
    });
    // the layout `promax train --embeddings DIR` reads for ProEx
    const extra = loadExtraProfiles(out, { numUsers: 24, numItems: 30, width: 3 }, 2);
    expect(extra?.files).toEqual(
      ['usr_emb_np_1.npy', 'itm_emb_np_1.npy', 'usr_emb_np_2.npy', 'itm_emb_np_2.npy'].map((f) =>
        join(out, f),
      ),
    );

    // a variant with one side only is a named error; --variants 1 embeds the first only and drops the stale second
    rmSync(join(profiles, 'item_profiles_2.jsonl'));
    const partial = await run([...argv, '--out', out, '--quiet']);
    expect(partial.code).toBe(2);
    expect(partial.err).toMatch(
      /^error \[FILE_NOT_FOUND\]: extra profile variant 2 has no item profiles: .*item_profiles_2\.jsonl is missing .*Fix: write them: promax profiles --dataset tiny-books --kind item --variants 2 .*or embed variants 1\.\.1 only \(--variants 1\)/s,
    );
    const one = await run([...argv, '--variants', '1', '--out', out, '--quiet']);
    expect(one.code, one.err).toBe(0);
    expect(one.out).toMatch(/users \(variant 1\): 24\/24 from profiles .*; 0 embedded, 24 from the cache/);
    expect(one.err).toMatch(/removed .*usr_emb_np_2\.npy: an extra profile variant this run did not embed/);
    expect(existsSync(join(out, 'usr_emb_np_1.npy'))).toBe(true);
    expect(existsSync(join(out, 'itm_emb_np_2.npy'))).toBe(false);
    const none = await run([...argv, '--variants', '0', '--out', out, '--quiet']);
    expect(none.code, none.err).toBe(0);
    expect(existsSync(join(out, 'usr_emb_np_1.npy'))).toBe(false);
    expect(JSON.parse(readFileSync(join(out, 'embed_manifest.json'), 'utf8')).variants).toEqual([]);
    for (const [flags, pattern] of [
      [['--variants', '3'], /extra profile variant 2 has no item profiles/],
      [['--variants', 'some'], /--variants must be 'all' or a whole number, got 'some'/],
    ] as [string[], RegExp][]) {
      const bad = await run([...argv, ...flags, '--out', out]);
      expect(bad.code, flags.join(' ')).toBe(2);
      expect(bad.err).toMatch(pattern);
    }
    const file = await run([
      'embed',
      '--profiles',
      join(profiles, 'user_profiles.jsonl'),
      '--dataset',
      ds.dir,
      '--encoder',
      `onnx:${tinyModel}`,
      '--variants',
      '1',
      '--out',
      out,
    ]);
    expect(file.err).toMatch(/--variants 1: extra profile variants are read from a folder/);
  });

  it('rejects bad input with the flag and the fix', async () => {
    const ds = writeSyntheticDataset();
    const profiles = tempDir();
    writeFileSync(
      join(profiles, 'user_profiles.jsonl'),
      `${JSON.stringify({ user: 'u00', profile: 'x' })}\n`,
    );
    const orphan = tempDir();
    writeFileSync(join(orphan, 'user_profiles.jsonl'), `${JSON.stringify({ user: 'u00', profile: 'x' })}\n`);
    const empty = tempDir();
    mkdirSync(join(empty, 'sub'));
    const out = tempDir();
    const base = ['embed', '--profiles', profiles, '--dataset', ds.dir, '--out', out];
    const cases: [string[], RegExp][] = [
      [
        ['embed', '--encoder', `onnx:${tinyModel}`, '--out', out],
        /^error \[INVALID_ARGUMENT\]: --profiles is required/,
      ],
      [[...base], /--encoder is required/],
      [
        [...base, '--encoder', 'bert:all-MiniLM'],
        /^error \[INVALID_ARGUMENT\]: unknown encoder scheme 'bert' in --encoder bert:all-MiniLM.*Fix: pass --encoder onnx:MODEL_DIR .* or --encoder openai:MODEL/,
      ],
      [[...base, '--encoder', 'onnx:'], /unknown encoder scheme 'onnx'.*nothing after the colon/],
      [
        [...base, '--encoder', 'onnx:no-such-model-xyz'],
        /^error \[FILE_NOT_FOUND\]: no ONNX model folder for --encoder onnx:no-such-model-xyz.*Fix: export one \(python3 tools\/export-minilm-onnx\.py/,
      ],
      [
        [...base, '--encoder', `onnx:${tinyModel}`, '--dimensions', '8'],
        /--dimensions applies to openai: encoders only/,
      ],
      [
        [...base, '--encoder', `onnx:${tinyModel}`, '--retries', '2'],
        /--retries applies to openai: encoders only/,
      ],
      [[...base, '--encoder', 'openai:m', '--timeout=-1'], /--timeout must be a positive number/],
      [
        [
          'embed',
          '--profiles',
          join(empty, 'sub'),
          '--dataset',
          ds.dir,
          '--encoder',
          `onnx:${tinyModel}`,
          '--out',
          out,
        ],
        /^error \[FILE_NOT_FOUND\]: no profile files in .*Fix: run `promax profiles/,
      ],
      [
        ['embed', '--profiles', orphan, '--encoder', `onnx:${tinyModel}`, '--out', out],
        /cannot tell which dataset .*Fix: pass --dataset NAME\|DIR/,
      ],
      [
        [...base, '--encoder', `onnx:${tinyModel}`, '--item-text', 'profiles'],
        /--item-text profiles: no item profiles/,
      ],
    ];
    for (const [argv, pattern] of cases) {
      const r = await run(argv);
      expect(r.code, argv.join(' ')).toBe(2);
      expect(r.err, argv.join(' ')).toMatch(pattern);
    }
  });
});
