import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PromaxError } from '@promax/core';
import OpenAI from 'openai';
import { afterAll, describe, expect, it } from 'vitest';
import { useFakeOpenAIServer } from './fake-openai-server.fixture.js';
import type { RerankInput } from './prompts.js';
import { rerankCandidates, rerankTasks } from './rerank.js';
import { ResultStore } from './result-store.js';
import type { JobSettingsInput } from './settings.js';

const MODEL = 'gpt-4o-mini';
const FAST: JobSettingsInput = {
  model: MODEL,
  concurrency: 2,
  maxRetries: 3,
  backoff: { initialMs: 5, maxMs: 20 },
  requestTimeoutMs: 5_000,
};

const dirs: string[] = [];
const server = useFakeOpenAIServer();
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
const storeIn = async (): Promise<ResultStore> => {
  const d = mkdtempSync(join(tmpdir(), 'promax-rerank-'));
  dirs.push(d);
  return ResultStore.open(join(d, 'rerank.jsonl'));
};
const client = (): OpenAI => new OpenAI({ baseURL: server.baseURL, apiKey: 'sk-test', maxRetries: 0 });

const input = (userId: number, n = 3): RerankInput => ({
  userId,
  userProfile: `User ${userId} likes long fantasy series`,
  history: ['The Hobbit'],
  candidates: Array.from({ length: 6 }, (_, k) => ({
    id: 100 + k,
    title: `Candidate ${k}`,
    profile: `For readers of kind ${k}`,
  })),
  n,
  domain: 'books',
});

describe('rerankCandidates', () => {
  it('returns n valid ids per user, repairing unknown ids and dropping duplicates', async () => {
    const inputs = [input(1), input(2), input(3), input(4, 2)];
    const [t1, t2, t3] = rerankTasks(inputs, { model: MODEL }).map((t) => t.promptHash);
    server.options = {
      fault: ({ hash, attempt }) => {
        if (hash === t1 && attempt === 1) return { content: '{"ids": ["101", "999", "102"]}' }; // hallucinated id
        if (hash === t2) return { content: '{"ids": [105, 105, "103", 104]}' }; // duplicate dropped, numbers ok
        if (hash === t3) return { content: '{"ids": ["7", "8", "9"]}' }; // always wrong
        return undefined;
      },
    };
    const store = await storeIn();
    const { results, summary } = await rerankCandidates(inputs, { client: client(), settings: FAST, store });
    expect(results[0]).toMatchObject({ userId: '1', ids: ['100', '101', '102'] });
    expect(results[1]).toMatchObject({ userId: '2', ids: ['105', '103', '104'] });
    expect(results[2]?.ids).toBeUndefined();
    expect(results[2]?.error?.code).toBe('INVALID_RESPONSE');
    expect(results[2]?.error?.message).toMatch(/not in the candidate list: 7, 8, 9/);
    expect(results[2]?.error?.details).toEqual({
      partial: { ids: [], unknown: ['7', '8', '9'], duplicates: [] },
    });
    expect(results[3]).toMatchObject({ userId: '4', ids: ['100', '101'] });
    const counts = server.countByHash();
    expect(counts.get(t1)).toBe(2);
    expect(counts.get(t2)).toBe(1);
    expect(counts.get(t3)).toBe(3); // request + 2 follow-ups (invalidAnswerRetries default 2)
    expect(summary).toMatchObject({ succeeded: 3, failed: 1, repairs: 3 });
    const followUp = server.log.find((r) => r.hash === t1 && r.attempt === 2);
    expect(followUp?.body.messages.at(-1)?.content).toMatch(/not in the candidate list: 999/);
    await store.close();

    server.reset();
    server.options = {};
    const again = await ResultStore.open(store.path);
    const rerun = await rerankCandidates(inputs, { client: client(), settings: FAST, store: again });
    expect(server.log.map((r) => r.hash)).toEqual([t3]); // only the failure is asked again
    expect(rerun.results.every((r) => r.ids !== undefined)).toBe(true);
    expect(rerun.results[0]?.fromStore).toBe(true);
    await again.close();
  });

  it('validates its input', async () => {
    const store = await storeIn();
    await expect(
      rerankCandidates([{ ...input(1), n: 0 }], { client: client(), settings: FAST, store }),
    ).rejects.toThrow(/positive integer/);
    const dup = {
      ...input(1),
      candidates: [
        { id: 1, title: 'a' },
        { id: '1', title: 'b' },
      ],
    };
    await expect(rerankCandidates([dup], { client: client(), settings: FAST, store })).rejects.toSatisfy(
      (e: unknown) => PromaxError.isInstance(e) && e.code === 'INVALID_ARGUMENT',
    );
    await store.close();
  });
});
