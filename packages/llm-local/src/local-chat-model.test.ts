import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ProgressEvent } from '@promax/core';
import { generateProfiles, type ProfileRequest, profileTasks, ResultStore } from '@promax/profiles';
import { BadRequestError } from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { type LocalChatModel, loadLocalChatModel } from './local-chat-model.js';
import { locateTestGguf } from './test-model.fixture.js';

const gguf = locateTestGguf();
if (!gguf.path) console.warn(`skipping the real-model tests of @promax/llm-local: ${gguf.reason}`);

// Short answers keep the suite fast on 2 shared cores; the grammar closes the JSON in time.
const answer = z.object({ summarization: z.string().min(12).max(90), reasoning: z.string().max(30) });
const items: ProfileRequest[] = [
  {
    kind: 'item',
    id: '1',
    domain: 'movies',
    facts: { title: 'Toy Story (1995)', genres: "Animation, Children's, Comedy", year: '1995' },
  },
  {
    kind: 'item',
    id: '2',
    domain: 'movies',
    facts: { title: 'GoldenEye (1995)', genres: 'Action, Adventure, Thriller', year: '1995' },
  },
];

describe.skipIf(!gguf.path)('LocalChatModel on Gemma-3-270M (real model)', () => {
  let model: LocalChatModel;
  const events: ProgressEvent[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'promax-llm-local-'));

  beforeAll(async () => {
    model = await loadLocalChatModel({
      settings: { modelPath: gguf.path as string, parallel: 2, contextSize: 640 },
      responseSchema: answer,
      onProgress: (e) => events.push(e),
    });
  });
  afterAll(async () => {
    await model?.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  it('identifies the file by its SHA-256 and picks the chat format', () => {
    expect(model.info.sha256).toBe('a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818');
    expect(model.info.modelId).toBe(`gemma-3-270m-q4_k_m.gguf@sha256:${model.info.sha256}`);
    expect(model.info.promptFormat).toBe('chat');
    expect(model.info.contextSize).toBe(640);
    expect(events.some((e) => e.type === 'info' && e.message.startsWith('loaded'))).toBe(true);
  });

  it('writes parseable, distinct profiles through the profile job; a rerun generates nothing', async () => {
    const store = await ResultStore.open(join(dir, 'store.jsonl'));
    const settings = { model: model.info.modelId, maxOutputTokens: 80, concurrency: 2 };
    const first = await generateProfiles(items, { client: model, settings, store });
    expect(first.failures).toEqual([]);
    expect(first.profiles).toHaveLength(2);
    const [a, b] = first.profiles;
    expect(a?.summarization.length).toBeGreaterThanOrEqual(12);
    expect(a?.summarization).not.toBe(b?.summarization);
    expect(first.summary.usage.promptTokens).toBeGreaterThan(100);
    expect(first.summary.usage.completionTokens).toBeGreaterThan(5);
    const again = await generateProfiles(items, { client: model, settings, store });
    expect(again.summary.httpRequests).toBe(0);
    expect(again.profiles.map((p) => p.summarization)).toEqual(first.profiles.map((p) => p.summarization));
    await store.close();
  });

  it('is repeatable at temperature 0 (one request at a time: batch composition changes float sums)', async () => {
    const [task] = profileTasks([items[1] as ProfileRequest], { model: model.info.modelId });
    const ask = () =>
      model.chat.completions.create({
        model: model.info.modelId,
        messages: task?.messages ?? [],
        max_tokens: 80,
        temperature: 0,
      });
    const one = await ask();
    const two = await ask();
    expect(two.choices[0]?.message.content).toBe(one.choices[0]?.message.content);
  });

  it('cuts a history too long for the context (oldest first), counts it, and still answers', async () => {
    const history = Array.from({ length: 80 }, (_, k) => ({
      title: `Film number ${k} of a long collection`,
    }));
    const [task] = profileTasks([{ kind: 'user', id: 'u', domain: 'movies', history }], {
      model: model.info.modelId,
      prompt: { maxHistoryItems: 80 },
    });
    const before = model.stats.truncatedEntries;
    const res = await model.chat.completions.create({
      model: model.info.modelId,
      messages: task?.messages ?? [],
      max_tokens: 80,
    });
    expect(() => answer.parse(JSON.parse(res.choices[0]?.message.content ?? ''))).not.toThrow();
    const cut = model.stats.truncatedEntries - before;
    expect(cut).toBeGreaterThan(0);
    expect(cut).toBeLessThan(80);
    expect(res.usage.prompt_tokens).toBeLessThanOrEqual(640 - 80);
    expect(events.some((e) => e.type === 'warning' && e.code === 'HISTORY_TRUNCATED')).toBe(true);
  });

  it('answers HTTP 400 context_length_exceeded when nothing can be cut', async () => {
    const overflows = model.stats.contextOverflows;
    await expect(
      model.chat.completions.create({
        model: model.info.modelId,
        messages: [{ role: 'user', content: 'word '.repeat(2000) }],
        max_tokens: 80,
      }),
    ).rejects.toBeInstanceOf(BadRequestError);
    expect(model.stats.contextOverflows).toBe(overflows + 1);
  });
});
