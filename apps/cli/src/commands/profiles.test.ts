import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { locateData } from '@promax/data';
import { afterAll, describe, expect, it } from 'vitest';
import {
  type ChatRequestBody,
  defaultContent,
  hashOf,
  useFakeOpenAIServer,
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

const KEY = 'sk-test-DO-NOT-LEAK-4f1c';
const server = useFakeOpenAIServer();
afterAll(removeTempDirs);

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

  it('--variants 3 writes three extra profiles per entity from three other prompts, stored, resumable and counted per variant', async () => {
    const ds = writeSyntheticDataset();
    const out = tempDir();
    const args = [
      '--dataset',
      ds.dir,
      '--llm-base-url',
      server.baseURL,
      ...fast,
      '--variants',
      '3',
      '--out',
      out,
    ];
    const first = await run(args);
    expect(first.code, first.err).toBe(0);
    // (30 items + 24 users) × (main + 3 variants), one request each
    expect(server.log.length).toBe(54 * 4);
    for (const [kind, ids] of [
      ['item', ds.items],
      ['user', ds.users],
    ] as const) {
      const main = readJsonl(join(out, `${kind}_profiles.jsonl`));
      expect(main.map((e) => e[kind])).toEqual(ids);
      const texts = new Set(main.map((e) => e.profile));
      for (const v of [1, 2, 3]) {
        const file = join(out, `${kind}_profiles_${v}.jsonl`);
        const entries = readJsonl(file);
        // one entry per entity, in the same order as the main file, each its own answer
        expect(
          entries.map((e) => e[kind]),
          file,
        ).toEqual(ids);
        for (const e of entries) {
          expect(texts.has(e.profile), `${file}: ${e[kind]}`).toBe(false);
          texts.add(e.profile);
        }
        expect(existsSync(join(out, `${kind}_profiles_${v}.run.json`))).toBe(true);
      }
    }
    // four different system prompts per kind; the inputs (facts, history) are the same
    const prompts = (marker: RegExp) =>
      server.log.filter((r) => marker.test(r.body.messages[0]?.content ?? ''));
    const itemLog = prompts(/describe its catalogue/);
    const userLog = prompts(/understand one person's taste/);
    expect(itemLog.length).toBe(120);
    expect(userLog.length).toBe(96);
    for (const log of [itemLog, userLog]) {
      const systems = new Set(log.map((r) => r.body.messages[0]?.content));
      expect(systems.size).toBe(4);
      const firstEntity = log[0]?.body.messages[1]?.content;
      expect(log.filter((r) => r.body.messages[1]?.content === firstEntity).length).toBe(4);
    }
    // user variants see the main item profiles in their history
    const variantUser = userLog.find((r) =>
      /would disappoint this person/.test(r.body.messages[0]?.content ?? ''),
    );
    const mainItems = new Set(readJsonl(join(out, 'item_profiles.jsonl')).map((e) => e.profile));
    const audience = /"audience":"(profile [0-9a-f]{8})"/.exec(
      variantUser?.body.messages[1]?.content ?? '',
    )?.[1];
    expect(mainItems.has(audience)).toBe(true);
    // the store keys name the variant
    const store = readJsonl(join(out, 'profiles.store.jsonl')) as { key: { id: string; variant?: number } }[];
    expect(store.length).toBe(216);
    expect(
      store
        .filter((l) => l.key.id === 'b00')
        .map((l) => l.key.variant ?? 0)
        .sort(),
    ).toEqual([0, 1, 2, 3]);
    // the summary counts calls per variant
    expect(first.out).toMatch(
      /item, variant 2 \(mood\) profiles: 30 written, 0 "None" — 30 items: 0 from the store, 30 answered now, 0 failed; 30 HTTP calls/,
    );
    expect(first.out).toMatch(/^main profiles: 54 HTTP calls, \d+\+\d+ tokens, \$0\.\d+$/m);
    for (const [v, facet] of [
      [1, 'themes'],
      [2, 'mood'],
      [3, 'letdowns'],
    ])
      expect(first.out).toMatch(
        new RegExp(`^variant ${v} \\(${facet}\\): 54 HTTP calls, \\d+\\+\\d+ tokens, \\$0\\.\\d+$`, 'm'),
      );
    const manifest = JSON.parse(readFileSync(join(out, 'profiles_manifest.json'), 'utf8'));
    expect(manifest.variants).toBe(3);
    expect(manifest.byVariant.map((t: { variant: number; facet: string }) => [t.variant, t.facet])).toEqual([
      [0, 'main'],
      [1, 'themes'],
      [2, 'mood'],
      [3, 'letdowns'],
    ]);
    for (const t of manifest.byVariant as { httpRequests: number; costUsd: number }[]) {
      expect(t.httpRequests).toBe(54);
      expect(t.costUsd).toBeGreaterThan(0);
    }
    const sum = (manifest.byVariant as { costUsd: number }[]).reduce((a, t) => a + t.costUsd, 0);
    expect(sum).toBeCloseTo(manifest.costUsd, 12);
    expect(manifest.variantReports['2']).toMatchObject({
      facet: 'mood',
      kinds: {
        item: { written: 30, httpRequests: 30 },
        user: { written: 24, itemProfilesForPrompts: 'this run' },
      },
    });
    const runJson = JSON.parse(readFileSync(join(out, 'user_profiles_3.run.json'), 'utf8'));
    expect(runJson.summary).toMatchObject({ unique: 24, succeeded: 24, httpRequests: 24 });
    expect(runJson.templates).toEqual(['user-profile-variant-3-letdowns/generic@profile-v1']);

    // a rerun generates nothing
    server.reset();
    const second = await run(args);
    expect(second.code, second.err).toBe(0);
    expect(server.log.length).toBe(0);
    expect(second.out).toMatch(
      /user, variant 3 \(letdowns\) profiles: 24 written, 0 "None" — 24 users: 24 from the store, 0 answered now/,
    );
    expect(second.out).toMatch(/^variant 1 \(themes\): 0 HTTP calls, 0\+0 tokens/m);
    expect(readJsonl(join(out, 'user_profiles_2.jsonl')).length).toBe(24);
  });

  it('--variants resumes a run cut short and rejects what it cannot do', async () => {
    const ds = writeSyntheticDataset();
    const out = tempDir();
    const common = [
      '--dataset',
      ds.dir,
      '--llm-base-url',
      server.baseURL,
      ...fast,
      '--kind',
      'item',
      '--limit',
      '5',
    ];
    // one variant first; two more later ask only for what is new
    expect((await run([...common, '--variants', '1', '--out', out])).code).toBe(0);
    expect(server.log.length).toBe(10);
    server.reset();
    const more = await run([...common, '--variants', '3', '--out', out]);
    expect(more.code, more.err).toBe(0);
    expect(server.log.length).toBe(10);
    expect(more.out).toMatch(/^main profiles: 0 HTTP calls/m);
    expect(more.out).toMatch(/^variant 1 \(themes\): 0 HTTP calls/m);
    expect(more.out).toMatch(/^variant 3 \(letdowns\): 5 HTTP calls/m);
    // a failing variant answer is PARTIAL (exit 3), and the same command retries only it
    const out2 = tempDir();
    server.reset();
    server.options = {
      fault: ({ system, user }) =>
        /mood and tone/.test(system) && user.includes('book number 2"') ? { content: 'not JSON' } : undefined,
    };
    const partial = await run([...common, '--variants', '2', '--repairs', '0', '--out', out2]);
    expect(partial.code, partial.err).toBe(3);
    expect(partial.err).toMatch(/1 item, variant 2 \(mood\) profile\(s\) failed/);
    expect(readJsonl(join(out2, 'item_profiles_2.jsonl')).length).toBe(4);
    server.options = {};
    server.reset();
    const retried = await run([...common, '--variants', '2', '--out', out2]);
    expect(retried.code, retried.err).toBe(0);
    expect(server.log.length).toBe(1);
    expect(readJsonl(join(out2, 'item_profiles_2.jsonl')).length).toBe(5);

    server.reset();
    const dry = await run([...common, '--variants', '2', '--dry-run', '--out', tempDir()], {});
    expect(dry.code, dry.err).toBe(0);
    expect(dry.out).toMatch(/\| item, variant 2 \(mood\) \| 5 \| 0 \| 5 \|/);
    for (const [argv, pattern] of [
      [
        [...common, '--variants', '4', '--out', out],
        /--variants 4: there are 3 extra prompt variants.*Fix: pass --variants between 0 and 3/,
      ],
      [[...common, '--variants', 'two', '--out', out], /--variants must be/],
      [
        ['--dataset', ds.dir, '--from-existing', '--variants', '3', '--out', out],
        /--variants does not apply/,
      ],
    ] as [string[], RegExp][]) {
      const r = await run(argv, {});
      expect(r.code, argv.join(' ')).toBe(2);
      expect(r.err).toMatch(pattern);
    }
    expect(server.log.length).toBe(0);
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

  it('--variants with the Batch API: one file holds every variant, the import writes each variant file', async () => {
    const ds = writeSyntheticDataset();
    const out = tempDir();
    const batchIn = join(out, 'batch-in.jsonl');
    const common = [
      '--dataset',
      ds.dir,
      ...fast,
      '--kind',
      'item',
      '--limit',
      '3',
      '--variants',
      '2',
      '--out',
      out,
    ];
    const ex = await run([...common, '--batch-export', batchIn], {});
    expect(ex.code, ex.err).toBe(0);
    expect(ex.out).toMatch(/wrote 9 item-profile requests \(main and 2 extra variants\)/);
    const lines = readJsonl(batchIn) as { custom_id: string; body: ChatRequestBody }[];
    expect(new Set(lines.map((l) => l.custom_id)).size).toBe(9);
    expect(lines.filter((l) => l.custom_id.startsWith('item-profile.2:')).length).toBe(3);
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
    expect(im.out).toMatch(/item, variant 2 \(mood\) profiles: 3 requested — 3 written \(3 imported now\)/);
    expect(im.out).toMatch(/^variant 1 \(themes\): 0 HTTP calls, 300\+60 tokens/m);
    for (const f of ['item_profiles.jsonl', 'item_profiles_1.jsonl', 'item_profiles_2.jsonl'])
      expect(readJsonl(join(out, f)).map((e) => e.item)).toEqual(['b00', 'b01', 'b02']);
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
