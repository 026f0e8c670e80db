import { appendFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ProgressEvent, PromaxError } from '@promax/core';
import OpenAI from 'openai';
import { afterAll, describe, expect, it } from 'vitest';
import { createChatClient } from './client.js';
import { type Fault, useFakeOpenAIServer } from './fake-openai-server.fixture.js';
import { estimateProfileJob, generateProfiles, type ProfileRequest, profileTasks } from './profile-job.js';
import { ResultStore } from './result-store.js';
import type { JobSettingsInput } from './settings.js';

const MODEL = 'gpt-4o-mini';
/** Short delays so the suite stays fast. */
const FAST: JobSettingsInput = {
  model: MODEL,
  concurrency: 3,
  maxRetries: 4,
  backoff: { initialMs: 5, maxMs: 40, multiplier: 2, jitter: 0.5 },
  requestTimeoutMs: 5_000,
  requestsPerMinute: 100_000,
  tokensPerMinute: 100_000_000,
};

const dirs: string[] = [];
const tmp = (): string => {
  const d = mkdtempSync(join(tmpdir(), 'promax-profiles-'));
  dirs.push(d);
  return d;
};

const server = useFakeOpenAIServer();
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const client = (): OpenAI => new OpenAI({ baseURL: server.baseURL, apiKey: 'sk-test', maxRetries: 0 });

const items = (n: number, offset = 0): ProfileRequest[] =>
  Array.from({ length: n }, (_, i) => ({
    kind: 'item' as const,
    id: offset + i,
    domain: 'books' as const,
    facts: { title: `Book ${offset + i}`, description: `A story number ${offset + i}` },
    reviews: [`Review of book ${offset + i}`],
  }));
const users = (n: number): ProfileRequest[] =>
  Array.from({ length: n }, (_, i) => ({
    kind: 'user' as const,
    id: `u${i}`,
    domain: 'books' as const,
    history: [{ title: `Book ${i}`, profile: 'Readers who like mysteries', review: 'Loved it' }],
  }));

/** Hash of a request as the library computes it. */
const hashes = (reqs: ProfileRequest[]): string[] =>
  profileTasks(reqs, { model: MODEL }).map((t) => t.promptHash);

/** Lines of the store file, parsed. */
const storeLines = (path: string): { type: string; key: { id: string; promptHash: string } }[] =>
  readFileSync(path, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l));

describe('generateProfiles against a local OpenAI-compatible server', () => {
  it('writes each profile once and answers a rerun entirely from the store', async () => {
    const path = join(tmp(), 'profiles.jsonl');
    const reqs = [...items(10), ...users(5)];
    const store = await ResultStore.open(path);
    const events: ProgressEvent[] = [];
    const res = await generateProfiles(reqs, {
      client: client(),
      settings: FAST,
      store,
      onProgress: (e) => events.push(e),
    });
    expect(res.failures).toEqual([]);
    expect(res.profiles).toHaveLength(15);
    expect(res.profiles[0]).toMatchObject({
      id: '0',
      kind: 'item',
      fromStore: false,
      model: MODEL,
      templateId: 'item-profile/books@profile-v1',
    });
    expect(res.profiles[10]).toMatchObject({ id: 'u0', kind: 'user' });
    expect(res.profiles[3]?.summarization).toBe(`profile ${res.profiles[3]?.promptHash.slice(0, 8)}`);
    expect(server.log).toHaveLength(15);
    expect([...server.countByHash().values()].every((c) => c === 1)).toBe(true);
    expect(res.summary).toMatchObject({
      unique: 15,
      succeeded: 15,
      failed: 0,
      httpRequests: 15,
      retries: 0,
      alreadyStored: 0,
    });
    expect(res.summary.usage.promptTokens).toBeGreaterThan(0);
    expect(res.summary.costUsd).toBeGreaterThan(0);
    expect(events.filter((e) => e.type === 'task-progress')).toHaveLength(15);
    expect(events.at(-1)).toMatchObject({ type: 'task-end', done: 15 });
    await store.close();

    server.reset();
    const reopened = await ResultStore.open(path);
    const again = await generateProfiles(reqs, { client: client(), settings: FAST, store: reopened });
    expect(server.log).toHaveLength(0);
    expect(again.summary).toMatchObject({ alreadyStored: 15, succeeded: 0, httpRequests: 0 });
    expect(again.profiles.every((p) => p.fromStore)).toBe(true);
    expect(again.profiles.map((p) => p.summarization)).toEqual(res.profiles.map((p) => p.summarization));
    await reopened.close();
  });

  it('stores extra profile variants under keys that name the variant, beside the main profiles', async () => {
    const path = join(tmp(), 'profiles.jsonl');
    const main = [...items(3), ...users(2)];
    const withVariants = [1, 2, 3].flatMap((v) => main.map((r) => ({ ...r, variant: v })));
    const reqs = [...main, ...withVariants];
    const store = await ResultStore.open(path);
    const res = await generateProfiles(reqs, { client: client(), settings: FAST, store });
    expect(res.failures).toEqual([]);
    expect(server.log).toHaveLength(20);
    // the same entity, four different prompts (one per template)
    const systems = new Set(server.log.map((r) => r.body.messages[0]?.content));
    expect(systems.size).toBe(8);
    expect(res.profiles.map((p) => p.variant)).toEqual(reqs.map((r) => r.variant ?? 0));
    expect(res.profiles[5]).toMatchObject({
      id: '0',
      kind: 'item',
      variant: 1,
      templateId: 'item-profile-variant-1-themes/books@profile-v1',
    });
    const lines = storeLines(path) as { key: { id: string; variant?: number }; templateId: string }[];
    expect(lines.filter((l) => l.key.id === '0').map((l) => l.key.variant ?? 0)).toEqual([0, 1, 2, 3]);
    expect(lines.filter((l) => l.key.variant === undefined)).toHaveLength(5);
    await store.close();

    // a rerun asks nothing; a run of variant 2 alone is answered by the store too
    server.reset();
    const reopened = await ResultStore.open(path);
    const again = await generateProfiles(reqs, { client: client(), settings: FAST, store: reopened });
    expect(server.log).toHaveLength(0);
    expect(again.summary).toMatchObject({ unique: 20, alreadyStored: 20, httpRequests: 0 });
    const v2 = await generateProfiles(
      main.map((r) => ({ ...r, variant: 2 })),
      { client: client(), settings: FAST, store: reopened },
    );
    expect(v2.summary).toMatchObject({ unique: 5, alreadyStored: 5, httpRequests: 0 });
    expect(v2.profiles.map((p) => p.summarization)).toEqual(
      res.profiles.filter((p) => p.variant === 2).map((p) => p.summarization),
    );
    await reopened.close();
  });

  it('survives 429 + Retry-After, 500s, timeouts and malformed JSON; records what still fails', async () => {
    const reqs = items(8);
    const h = hashes(reqs);
    const plan = new Map<string, (attempt: number) => Fault | undefined>([
      [h[0] as string, (a) => (a === 1 ? { status: 429, headers: { 'retry-after': '1' } } : undefined)],
      [h[1] as string, (a) => (a <= 2 ? { status: 500 } : undefined)],
      [h[2] as string, (a) => (a === 1 ? { delayMs: 2_000 } : undefined)], // beyond the client timeout
      [h[3] as string, (a) => (a === 1 ? { content: '{"summarization": "cut off' } : undefined)], // repaired
      [h[4] as string, () => ({ content: 'I cannot answer in JSON, sorry.' })], // never valid
      [h[5] as string, () => ({ status: 400, body: { error: { message: 'context too long' } } })], // not retryable
      [h[6] as string, () => ({ status: 503 })], // retries exhausted
    ]);
    server.options = { fault: ({ hash, attempt }) => plan.get(hash)?.(attempt) };
    const path = join(tmp(), 'faults.jsonl');
    const store = await ResultStore.open(path);
    const events: ProgressEvent[] = [];
    const t0 = Date.now();
    const res = await generateProfiles(reqs, {
      client: client(),
      settings: { ...FAST, requestTimeoutMs: 300, maxRetries: 3 },
      store,
      onProgress: (e) => events.push(e),
    });
    const elapsed = Date.now() - t0;
    await store.close();

    // nothing lost: every request ends as a profile or a recorded failure
    expect(res.profiles.length + res.failures.length).toBe(reqs.length);
    expect(res.profiles.map((p) => p.id).sort()).toEqual(['0', '1', '2', '3', '7']);
    const byId = new Map(res.failures.map((f) => [f.id, f]));
    expect(byId.get('4')?.error.code).toBe('INVALID_RESPONSE');
    expect(byId.get('4')?.raw).toBe('I cannot answer in JSON, sorry.');
    expect(byId.get('4')?.attempts).toBe(2); // the request + one repair
    expect(byId.get('5')?.error).toMatchObject({ code: 'API_ERROR', status: 400 });
    expect(byId.get('5')?.attempts).toBe(1);
    expect(byId.get('6')?.error.message).toMatch(/gave up after 3 retries/);
    expect(byId.get('6')?.attempts).toBe(4);

    // Retry-After honoured; retries and repairs counted
    expect(elapsed).toBeGreaterThanOrEqual(950);
    const counts = server.countByHash();
    expect(counts.get(h[0] as string)).toBe(2);
    expect(counts.get(h[1] as string)).toBe(3);
    expect(counts.get(h[2] as string)).toBe(2);
    expect(counts.get(h[3] as string)).toBe(2);
    expect(res.summary).toMatchObject({ succeeded: 5, failed: 3, retries: 1 + 2 + 1 + 3, repairs: 2 });
    expect(res.summary.httpRequests).toBe(server.log.length);
    expect(events.some((e) => e.type === 'warning' && e.code === 'RETRY_RATE_LIMITED')).toBe(true);

    // the repair is a follow-up in the same conversation
    const repair = server.log.find((r) => r.hash === h[3] && r.attempt === 2);
    expect(repair?.body.messages.map((m) => m.role)).toEqual(['system', 'user', 'assistant', 'user']);
    expect(repair?.body.messages[3]?.content).toMatch(/could not be used: the answer is not valid JSON/);

    // exactly one delivered, valid profile per prompt hash; one success line per key on disk
    const delivered = new Map<string, number>();
    for (const r of server.log) {
      if (r.status === 200 && r.content?.startsWith('{"summarization":"profile'))
        delivered.set(r.hash, (delivered.get(r.hash) ?? 0) + 1);
    }
    expect([...delivered.values()].every((c) => c === 1)).toBe(true);
    expect(delivered.size).toBe(5);
    const lines = storeLines(path);
    expect(lines.filter((l) => l.type === 'success')).toHaveLength(5);
    expect(lines.filter((l) => l.type === 'failure')).toHaveLength(3);

    // a rerun re-asks only the failures (retryFailed: true) and never the successes
    server.reset();
    server.options = {};
    const store2 = await ResultStore.open(path);
    const rerun = await generateProfiles(reqs, { client: client(), settings: FAST, store: store2 });
    await store2.close();
    expect(new Set(server.log.map((r) => r.hash))).toEqual(new Set([h[4], h[5], h[6]]));
    expect(rerun.failures).toEqual([]);
    expect(rerun.profiles).toHaveLength(8);

    // with retryFailed: false nothing is re-asked
    server.reset();
    const store3 = await ResultStore.open(join(tmp(), 'x.jsonl'));
    await store3.append({ ...storeLinesAsFailure(h[0] as string, '0') });
    const kept = await generateProfiles(reqs.slice(0, 1), {
      client: client(),
      settings: { ...FAST, retryFailed: false },
      store: store3,
    });
    expect(server.log).toHaveLength(0);
    expect(kept.failures).toHaveLength(1);
    expect(kept.summary.previouslyFailed).toBe(1);
    await store3.close();
  });

  it('resumes an aborted run without asking again for anything already stored', async () => {
    const reqs = items(30);
    const path = join(tmp(), 'abort.jsonl');
    server.options = { latencyMs: 15 };
    const ac = new AbortController();
    let stored = 0;
    const store = await ResultStore.open(path);
    const err = await generateProfiles(reqs, {
      client: client(),
      settings: FAST,
      store,
      abortSignal: ac.signal,
      onProgress: (e) => {
        if (e.type === 'task-progress' && ++stored === 8) ac.abort();
      },
    }).catch((e: unknown) => e);
    expect(PromaxError.isInstance(err) && err.code).toBe('ABORTED');
    await store.close();
    expect(server.maxInFlight).toBeLessThanOrEqual(3); // bounded concurrency
    expect(server.maxInFlight).toBeGreaterThanOrEqual(2);

    const firstRun = storeLines(path);
    const storedHashes = new Set(firstRun.map((l) => l.key.promptHash));
    expect(storedHashes.size).toBeGreaterThanOrEqual(8);
    expect(storedHashes.size).toBeLessThan(30);

    server.reset();
    const resumed = await ResultStore.open(path);
    const res = await generateProfiles(reqs, { client: client(), settings: FAST, store: resumed });
    await resumed.close();
    expect(res.profiles).toHaveLength(30);
    expect(res.summary.alreadyStored).toBe(storedHashes.size);
    for (const r of server.log) expect(storedHashes.has(r.hash)).toBe(false);
    expect(server.log).toHaveLength(30 - storedHashes.size);
    // one success line per key over both runs
    const all = storeLines(path);
    expect(all).toHaveLength(30);
    expect(new Set(all.map((l) => l.key.promptHash)).size).toBe(30);
  });

  it('holds requests to requestsPerMinute (virtual clock)', async () => {
    let now = 0;
    const clock = {
      now: () => now,
      sleep: async (ms: number) => {
        now += ms;
      },
    };
    const store = await ResultStore.open(join(tmp(), 'rpm.jsonl'));
    const res = await generateProfiles(items(12), {
      client: client(),
      settings: { ...FAST, requestsPerMinute: 4 },
      store,
      clock,
    });
    await store.close();
    expect(res.profiles).toHaveLength(12);
    // 4 at once, then one every 15 s: the 12th starts after 8 × 15 s
    expect(now).toBeGreaterThanOrEqual(8 * 15_000);
    expect(now).toBeLessThan(9 * 15_000);
  });

  it('tolerates a torn last line left by a killed process', async () => {
    const path = join(tmp(), 'torn.jsonl');
    const reqs = items(3);
    const s1 = await ResultStore.open(path);
    await generateProfiles(reqs.slice(0, 2), { client: client(), settings: FAST, store: s1 });
    await s1.close();
    appendFileSync(path, '{"v":1,"type":"success","key":{"id":"2","promptHa');
    server.reset();
    const s2 = await ResultStore.open(path);
    expect(s2.skippedLines).toBe(1);
    const res = await generateProfiles(reqs, { client: client(), settings: FAST, store: s2 });
    await s2.close();
    expect(server.log).toHaveLength(1);
    expect(res.profiles).toHaveLength(3);
    const s3 = await ResultStore.open(path);
    expect(s3.size).toBe(3);
    await s3.close();
  });

  it('stops the whole job on 401 without recording failures', async () => {
    server.options = { fault: () => ({ status: 401, body: { error: { message: 'bad key' } } }) };
    const store = await ResultStore.open(join(tmp(), 'auth.jsonl'));
    const err = await generateProfiles(items(20), { client: client(), settings: FAST, store }).catch(
      (e: unknown) => e,
    );
    expect(PromaxError.isInstance(err) && err.code).toBe('API_ERROR');
    expect(String((err as Error).message)).toMatch(/HTTP 401/);
    expect(store.size).toBe(0);
    expect(server.log.length).toBeLessThanOrEqual(3); // only the requests already in flight
    await store.close();
  });

  it('never writes the API key to the store, the manifest or progress events', async () => {
    const SECRET = 'sk-promax-test-SECRET-4f2a9c';
    const dir = tmp();
    const store = await ResultStore.open(join(dir, 'store.jsonl'));
    const events: ProgressEvent[] = [];
    server.options = {
      fault: ({ attempt, hash }) =>
        hash.startsWith('0') || attempt > 1 ? undefined : { content: 'not json' },
    };
    const res = await generateProfiles(items(4), {
      client: createChatClient({ baseURL: server.baseURL, apiKey: SECRET }, {}),
      settings: FAST,
      store,
      manifestPath: join(dir, 'run-manifest.json'),
      onProgress: (e) => events.push(e),
    });
    await store.close();
    expect(res.profiles).toHaveLength(4);
    expect(server.log[0]?.authorization).toBe(`Bearer ${SECRET}`); // it was really used
    const manifest = JSON.parse(readFileSync(join(dir, 'run-manifest.json'), 'utf8'));
    expect(manifest).toMatchObject({
      format: 'promax-llm-run',
      status: 'completed',
      settings: { model: MODEL },
    });
    expect(manifest.templates).toEqual(['item-profile/books@profile-v1']);
    const files = readdirSync(dir).filter((f) => statSync(join(dir, f)).isFile());
    expect(files.sort()).toEqual(['run-manifest.json', 'store.jsonl']);
    for (const f of files) expect(readFileSync(join(dir, f), 'utf8')).not.toContain(SECRET);
    expect(JSON.stringify(events)).not.toContain(SECRET);
  });

  it('rejects unknown settings keys, and an API key in job settings', async () => {
    const store = await ResultStore.open(join(tmp(), 's.jsonl'));
    await expect(
      generateProfiles(items(1), { client: client(), settings: { ...FAST, concurency: 2 } as never, store }),
    ).rejects.toThrow(/concurency/);
    await expect(
      generateProfiles(items(1), { client: client(), settings: { ...FAST, apiKey: 'x' } as never, store }),
    ).rejects.toThrow(/apiKey/);
    expect(() => createChatClient({ baseURL: server.baseURL, apikey: 'x' } as never, {})).toThrow(/apikey/);
    await store.close();
  });

  it('estimates tokens and cost before spending anything', async () => {
    const reqs = items(10);
    const est = estimateProfileJob(reqs, {
      settings: { ...FAST, maxOutputTokens: 400, expectedCompletionTokens: 200 },
    });
    expect(est).toMatchObject({
      unique: 10,
      toRequest: 10,
      alreadyStored: 0,
      maxCompletionTokens: 4000,
      expectedCompletionTokens: 2000,
    });
    expect(est.promptTokens).toBeGreaterThan(10 * 100);
    // gpt-4o-mini: $0.15 / $0.60 per million
    expect(est.costUsd).toBeCloseTo((est.promptTokens * 0.15 + 2000 * 0.6) / 1e6, 12);
    expect(est.batchCostUsd).toBeCloseTo((est.costUsd as number) / 2, 12);
    const priced = estimateProfileJob(reqs, {
      settings: {
        ...FAST,
        model: 'my-local',
        prices: { 'my-local': { inputPerMillion: 1, outputPerMillion: 2 } },
      },
    });
    expect(priced.costUsd).toBeGreaterThan(0);
    expect(estimateProfileJob(reqs, { settings: { ...FAST, model: 'unpriced' } }).costUsd).toBeUndefined();
    expect(server.log).toHaveLength(0);

    const store = await ResultStore.open(join(tmp(), 'e.jsonl'));
    await generateProfiles(reqs.slice(0, 4), { client: client(), settings: FAST, store });
    expect(estimateProfileJob(reqs, { settings: FAST, store })).toMatchObject({
      alreadyStored: 4,
      toRequest: 6,
    });
    await store.close();
  });
});

function storeLinesAsFailure(hash: string, id: string) {
  return {
    v: 1 as const,
    type: 'failure' as const,
    key: { id, promptHash: hash, model: MODEL },
    kind: 'item-profile',
    templateId: 'item-profile/books@profile-v1',
    attempts: 1,
    usage: { promptTokens: 0, completionTokens: 0 },
    source: 'online' as const,
    at: new Date().toISOString(),
    error: { code: 'INVALID_RESPONSE', message: 'earlier failure' },
  };
}
