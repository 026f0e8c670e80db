import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import OpenAI from 'openai';
import { afterAll, describe, expect, it } from 'vitest';
import { batchCustomId, exportChatBatch, importChatBatch, writeChatBatch } from './batch-api.js';
import type { ChatTask } from './chat-job.js';
import { useFakeOpenAIServer } from './fake-openai-server.fixture.js';
import type { ProfileOutput } from './output.js';
import { generateProfiles, type ProfileRequest, profileTasks } from './profile-job.js';
import { ResultStore } from './result-store.js';

const MODEL = 'gpt-4o-mini';
const SETTINGS = { model: MODEL, maxOutputTokens: 300, backoff: { initialMs: 5 } };
const dir = mkdtempSync(join(tmpdir(), 'promax-batch-'));
const server = useFakeOpenAIServer({ resetAfterEach: false });
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

type T = ChatTask<ProfileOutput>;
const reqs: ProfileRequest[] = Array.from({ length: 5 }, (_, i) => ({
  kind: 'item',
  id: i,
  facts: { title: `Game ${i}` },
  domain: 'games',
}));

const outputLine = (customId: string, content: string | null, status = 200): string =>
  JSON.stringify({
    id: `batch_req_${customId}`,
    custom_id: customId,
    response:
      content === null
        ? null
        : {
            status_code: status,
            request_id: 'r',
            body: {
              object: 'chat.completion',
              choices: [{ index: 0, message: { role: 'assistant', content } }],
              usage: { prompt_tokens: 100, completion_tokens: 50, total_tokens: 150 },
            },
          },
    error: content === null ? { code: 'server_error', message: 'boom' } : null,
  });

describe('Batch API export / import', () => {
  it('exports one request line per task not yet stored', async () => {
    const tasks = profileTasks(reqs, { model: MODEL }) as [T, T, T, T, T];
    const store = await ResultStore.open(join(dir, 'a.jsonl'));
    const out = exportChatBatch([...tasks, tasks[0]], { settings: SETTINGS, store });
    expect(out.count).toBe(5);
    const lines = out.jsonl
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines[0]).toEqual({
      custom_id: batchCustomId(tasks[0]),
      method: 'POST',
      url: '/v1/chat/completions',
      body: { model: MODEL, messages: tasks[0].messages, max_tokens: 300, temperature: 0 },
    });
    expect(lines[0].custom_id).toMatch(/^item-profile:0:[0-9a-f]{16}$/);
    await store.close();
  });

  it('imports results into the store; an online run then asks only for what failed', async () => {
    const tasks = profileTasks(reqs, { model: MODEL }) as [T, T, T, T, T];
    const path = join(dir, 'b.jsonl');
    const store = await ResultStore.open(path);
    await writeChatBatch(join(dir, 'input.jsonl'), tasks, { settings: SETTINGS, store });
    expect(readFileSync(join(dir, 'input.jsonl'), 'utf8').trim().split('\n')).toHaveLength(5);
    const good = (i: number): string =>
      JSON.stringify({ summarization: `batch profile ${i}`, reasoning: 'r' });
    const output = [
      outputLine(batchCustomId(tasks[0]), good(0)),
      outputLine(batchCustomId(tasks[1]), `\`\`\`json\n${good(1)}\n\`\`\``),
      outputLine(batchCustomId(tasks[2]), 'no json here'),
      outputLine(batchCustomId(tasks[3]), null),
      outputLine('item-profile:999:0000000000000000', good(9)),
      outputLine(batchCustomId(tasks[4]), good(4)).slice(0, 30), // torn download
    ].join('\n');
    writeFileSync(join(dir, 'output.jsonl.gz'), gzipSync(output));
    const summary = await importChatBatch(tasks, {
      settings: SETTINGS,
      store,
      path: join(dir, 'output.jsonl.gz'),
    });
    expect(summary).toMatchObject({
      imported: 2,
      failed: 2,
      alreadyStored: 0,
      badLines: 1,
      unknownIds: ['item-profile:999:0000000000000000'],
    });
    expect(summary.usage).toEqual({ promptTokens: 300, completionTokens: 150 }); // the error line has no usage
    expect(summary.costUsd).toBeCloseTo(((300 * 0.15 + 150 * 0.6) / 1e6) * 0.5, 15);
    expect(store.getSuccess({ id: '1', promptHash: tasks[1].promptHash, model: MODEL })?.source).toBe(
      'batch',
    );

    // importing the same file again writes nothing new
    const before = readFileSync(path, 'utf8');
    const again = await importChatBatch(tasks, { settings: SETTINGS, store, jsonl: output });
    expect(again.alreadyStored).toBe(2);
    expect(readFileSync(path, 'utf8').split('\n').length).toBe(before.split('\n').length + 2); // the 2 failures again

    // the online run pays only for items 2, 3 (failed) and 4 (missing)
    const client = new OpenAI({ baseURL: server.baseURL, apiKey: 'k', maxRetries: 0 });
    const res = await generateProfiles(reqs, { client, settings: SETTINGS, store });
    expect(server.log.map((r) => r.hash).sort()).toEqual(
      [tasks[2].promptHash, tasks[3].promptHash, tasks[4].promptHash].sort(),
    );
    expect(res.profiles.find((p) => p.id === '0')?.summarization).toBe('batch profile 0');
    expect(exportChatBatch(tasks, { settings: SETTINGS, store }).count).toBe(0);
    await store.close();
  });
});
