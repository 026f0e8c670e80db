import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { locateData } from '@promax/data';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  type ChatRequestBody,
  defaultContent,
  FakeOpenAIServer,
  hashOf,
} from '../../../../packages/profiles/src/fake-openai-server.fixture.js';
import { main } from '../main.js';
import {
  filesUnder,
  readJsonl,
  removeTempDirs,
  tempDir,
  writeSyntheticDataset,
  writeSyntheticRlmrec,
} from '../profile-pipeline/synthetic-dataset.test-util.js';
import { captureIo } from '../test-util/capture-io.js';

// Until the command is registered in commands/index.ts, route it through main() here.

const KEY = 'sk-test-DO-NOT-LEAK-4f1c';
const server = new FakeOpenAIServer();
beforeAll(async () => {
  await server.start();
});
afterAll(async () => {
  await server.stop();
  removeTempDirs();
});
afterEach(() => {
  server.reset();
  server.options = {};
});

const run = async (argv: string[], env: Record<string, string> = { OPENAI_API_KEY: KEY }) => {
  const io = captureIo();
  io.env = { ...io.env, ...env };
  const code = await main(['profiles', ...argv], io);
  return { code, out: io.stdout(), err: io.stderr() };
};

const fast = [
  '--llm-model',
  'gpt-4o-mini',
  '--concurrency',
  '4',
  '--rpm',
  '100000',
  '--tpm',
  '100000000',
  '--quiet',
];

describe('promax profiles', () => {
  it('writes item then user profiles through the endpoint, resumes for free, and never writes the key', async () => {
    const ds = writeSyntheticDataset();
    const out = tempDir();
    const args = ['--dataset', ds.dir, '--llm-base-url', server.baseURL, ...fast, '--out', out];
    const first = await run(args);
    expect(first.code, first.err).toBe(0);
    // 30 items + 24 users, one request each
    expect(server.log.length).toBe(54);
    expect(server.log.every((r) => r.authorization === `Bearer ${KEY}`)).toBe(true);
    const items = readJsonl(join(out, 'item_profiles.jsonl'));
    const users = readJsonl(join(out, 'user_profiles.jsonl'));
    expect(items.length).toBe(30);
    expect(users.length).toBe(24);
    expect(items[0]).toMatchObject({ item: 'b00', profile: expect.stringMatching(/^profile /) });
    expect(users.map((u) => u.user)).toEqual(ds.users);
    // user prompts show the item profiles written in the same run
    const userPrompt = server.log.find((r) => r.body.messages[0]?.content.includes("person's taste"));
    expect(userPrompt?.body.messages[1]?.content).toMatch(/"audience":"profile [0-9a-f]{8}"/);
    expect(first.out).toMatch(
      /item profiles: 30 written, 0 "None" — 30 items: 0 from the store, 30 answered now, 0 failed; 30 HTTP calls \(30 first, 0 retries; 0 repairs\)/,
    );
    const manifest = JSON.parse(readFileSync(join(out, 'profiles_manifest.json'), 'utf8'));
    expect(manifest).toMatchObject({
      format: 'promax-profiles',
      dataset: { name: 'tiny-books', users: 24, items: 30 },
      llm: { model: 'gpt-4o-mini', promptVersion: expect.any(String), domain: 'generic' },
      kinds: {
        item: { written: 30, generated: 30 },
        user: { written: 24, itemProfilesForPrompts: 'this run' },
      },
    });
    expect(manifest.costUsd).toBeGreaterThan(0);

    server.reset();
    const second = await run(args);
    expect(second.code, second.err).toBe(0);
    expect(server.log.length).toBe(0);
    expect(second.out).toMatch(
      /user profiles: 24 written, 0 "None" — 24 users: 24 from the store, 0 answered now, 0 failed; 0 HTTP calls/,
    );
    expect(readJsonl(join(out, 'user_profiles.jsonl'))).toEqual(users);

    for (const f of filesUnder(out)) expect(f.text.includes(KEY), f.path).toBe(false);
    expect(first.out + first.err + second.out + second.err).not.toContain(KEY);
  });

  it('--dry-run estimates tokens and cost and sends nothing', async () => {
    const ds = writeSyntheticDataset();
    const out = tempDir();
    const r = await run(['--dataset', ds.dir, ...fast, '--dry-run', '--out', out], {});
    expect(r.code, r.err).toBe(0);
    expect(server.log.length).toBe(0);
    expect(r.out).toMatch(/nothing was sent/);
    expect(r.out).toMatch(/\| item \| 30 \| 0 \| 30 \| \d+ \| 7500 \/ 18000 \| \$0\.\d+ \|/);
    expect(r.out).toMatch(/\| user \| 24 \| 0 \| 24 \|/);
    expect(existsSync(join(out, 'profiles.store.jsonl'))).toBe(false);
  });

  it('--limit and --kind item keep a run small', async () => {
    const ds = writeSyntheticDataset();
    const out = tempDir();
    const r = await run([
      '--dataset',
      ds.dir,
      '--llm-base-url',
      server.baseURL,
      ...fast,
      '--kind',
      'item',
      '--limit',
      '3',
      '--domain',
      'books',
      '--out',
      out,
    ]);
    expect(r.code, r.err).toBe(0);
    expect(server.log.length).toBe(3);
    expect(server.log[0]?.body.messages[0]?.content).toMatch(/one book/);
    expect(readJsonl(join(out, 'item_profiles.jsonl')).map((e) => e.item)).toEqual(['b00', 'b01', 'b02']);
    expect(existsSync(join(out, 'user_profiles.jsonl'))).toBe(false);
  });

  it('exports a Batch API file and imports its answers without calling the endpoint', async () => {
    const ds = writeSyntheticDataset();
    const out = tempDir();
    const batchIn = join(out, 'batch-in.jsonl');
    const common = ['--dataset', ds.dir, ...fast, '--kind', 'item', '--limit', '4', '--out', out];
    const ex = await run([...common, '--batch-export', batchIn], {});
    expect(ex.code, ex.err).toBe(0);
    const lines = readJsonl(batchIn) as { custom_id: string; body: ChatRequestBody }[];
    expect(lines.length).toBe(4);
    const answers = lines.map((l) =>
      JSON.stringify({
        custom_id: l.custom_id,
        response: {
          status_code: 200,
          body: {
            choices: [{ message: { content: defaultContent(l.body, hashOf(l.body).hash) } }],
            usage: { prompt_tokens: 100, completion_tokens: 20 },
          },
        },
      }),
    );
    writeFileSync(join(out, 'batch-out.jsonl'), `${answers.join('\n')}\n`);
    const im = await run([...common, '--batch-import', join(out, 'batch-out.jsonl')], {});
    expect(im.code, im.err).toBe(0);
    expect(im.out).toMatch(/item profiles: 4 requested — 4 written \(4 imported now\)/);
    expect(readJsonl(join(out, 'item_profiles.jsonl')).length).toBe(4);
    // exporting again finds everything stored
    const again = await run([...common, '--batch-export', batchIn], {});
    expect(again.out).toMatch(/wrote 0 item-profile requests .* \(4 already in the store\)/);
    expect(server.log.length).toBe(0);
  });

  const dbbook = locateData('dbbook');
  if (dbbook.reason) console.warn(`skipping the DBbook --from-existing test: ${dbbook.reason}`);
  it.skipIf(!!dbbook.reason)(
    '--from-existing converts DBbook user profiles to the dataset id space',
    async () => {
      const out = tempDir();
      const r = await run(
        ['--dataset', dbbook.path as string, '--from-existing', '--limit', '40', '--out', out],
        {},
      );
      expect(r.code, r.err).toBe(0);
      const users = readJsonl(join(out, 'user_profiles.jsonl'));
      expect(users.length).toBe(40);
      expect(users[0]).toMatchObject({ user: '0', profile: expect.stringMatching(/\w/) });
      expect(r.out).toMatch(/item profiles: the dataset has none/);
      const manifest = JSON.parse(readFileSync(join(out, 'profiles_manifest.json'), 'utf8'));
      expect(manifest).toMatchObject({
        source: 'existing',
        dataset: { name: 'dbbook', users: 5660 },
        kinds: { user: { written: 40 } },
      });
      expect(server.log.length).toBe(0);
    },
  );

  it('rejects bad input with the flag and the fix', async () => {
    const ds = writeSyntheticDataset();
    const out = tempDir();
    const noTexts = writeSyntheticRlmrec();
    const cases: [string[], RegExp][] = [
      [
        ['--dataset', noTexts.dir, ...fast, '--dry-run', '--out', out],
        /^error \[FILE_NOT_FOUND\]: dataset '.*' has no item texts.*Fix: add items\.tsv/,
      ],
      [
        ['--dataset', noTexts.dir, ...fast, '--kind', 'user', '--dry-run', '--out', out],
        /^error \[INVALID_DATA\]: no user of dataset .* has train items with a title or an item profile/,
      ],
      [
        ['--llm-model', 'm', '--out', out],
        /^error \[INVALID_ARGUMENT\]: --dataset is required.*Fix: promax profiles/,
      ],
      [
        ['--dataset', ds.dir, '--llm-base-url', 'http://127.0.0.1:9/v1', '--out', out],
        /--llm-model is required/,
      ],
      [['--dataset', ds.dir, '--llm-model', 'm', '--out', out], /--llm-base-url is required/],
      [
        ['--dataset', ds.dir, ...fast, '--kind', 'users', '--dry-run', '--out', out],
        /--kind must be one of user, item, both, got 'users'/,
      ],
      [
        ['--dataset', ds.dir, ...fast, '--limit', '0', '--dry-run', '--out', out],
        /--limit must be a positive integer/,
      ],
      [
        ['--dataset', ds.dir, '--from-existing', '--llm-model', 'm', '--out', out],
        /--from-existing .*--llm-model does not apply.*Fix: drop --llm-model/,
      ],
      [
        ['--dataset', ds.dir, '--from-existing', '--out', out],
        /^error \[FILE_NOT_FOUND\]: dataset 'tiny-books' has no profiles of its own.*Fix: generate them/,
      ],
      [['--dataset', join(out, 'nope'), ...fast, '--dry-run', '--out', out], /^error \[DATASET_NOT_FOUND\]/],
    ];
    for (const [argv, pattern] of cases) {
      const r = await run(argv, {});
      expect(r.code, argv.join(' ')).toBe(2);
      expect(r.err).toMatch(pattern);
    }
    expect(server.log.length).toBe(0);
  });
});
