import { getEventListeners } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ProgressEvent } from '@promax/core';
import OpenAI from 'openai';
import { afterAll, describe, expect, it } from 'vitest';
import { AbortFanout } from './abort-fanout.js';
import { type Fault, rateLimited, useFakeOpenAIServer } from './fake-openai-server.fixture.js';
import { estimateRemainingMs } from './job-eta.js';
import { generateProfiles, type ProfileRequest, profileTasks } from './profile-job.js';
import { ResultStore } from './result-store.js';
import type { JobSettingsInput } from './settings.js';

const MODEL = 'gpt-4o-mini';
const FAST: JobSettingsInput = {
  model: MODEL,
  concurrency: 4,
  maxRetries: 4,
  backoff: { initialMs: 5, maxMs: 40, multiplier: 2, jitter: 0.5 },
  requestTimeoutMs: 5_000,
  requestsPerMinute: 1_000_000,
  tokensPerMinute: 1_000_000_000,
};

const dirs: string[] = [];
const storeIn = async (): Promise<ResultStore> => {
  const d = mkdtempSync(join(tmpdir(), 'promax-chat-job-'));
  dirs.push(d);
  return ResultStore.open(join(d, 'store.jsonl'));
};
const server = useFakeOpenAIServer();
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
const client = (): OpenAI => new OpenAI({ baseURL: server.baseURL, apiKey: 'sk-test', maxRetries: 0 });
const items = (n: number): ProfileRequest[] =>
  Array.from({ length: n }, (_, i) => ({
    kind: 'item' as const,
    id: `i${i}`,
    domain: 'books' as const,
    facts: { title: `Book ${i}` },
  }));
const hashes = (reqs: ProfileRequest[]): string[] =>
  profileTasks(reqs, { model: MODEL }).map((t) => t.promptHash);

describe('runChatJob counts against the fault server', () => {
  it("summary counts equal the server's request log, by cause", async () => {
    const reqs = items(12);
    const h = hashes(reqs);
    const plan = new Map<string, (attempt: number) => Fault | undefined>([
      [h[0] as string, (a) => (a <= 2 ? rateLimited(20) : undefined)],
      [h[1] as string, (a) => (a === 1 ? { status: 429, headers: { 'retry-after': '0' } } : undefined)],
      [h[2] as string, (a) => (a <= 2 ? { status: 500 } : undefined)],
      [h[3] as string, (a) => (a === 1 ? { status: 503 } : undefined)],
      [h[4] as string, (a) => (a === 1 ? { delayMs: 2_000 } : undefined)], // stalls past the timeout
      [h[5] as string, (a) => (a === 1 ? { rawBody: '{"id": "chatcmpl-1", "choi' } : undefined)],
      [h[6] as string, (a) => (a === 1 ? { content: '{"summarization": "cut' } : undefined)], // repaired
      [h[7] as string, () => ({ content: 'no JSON here' })], // repaired once, then failed
      [h[8] as string, () => ({ status: 500 })], // retries exhausted
    ]);
    server.options = { fault: ({ hash, attempt }) => plan.get(hash)?.(attempt) };
    const store = await storeIn();
    const events: ProgressEvent[] = [];
    const res = await generateProfiles(reqs, {
      client: client(),
      settings: { ...FAST, requestTimeoutMs: 250, maxRetries: 2 },
      store,
      onProgress: (e) => events.push(e),
    });
    await store.close();
    const s = res.summary;
    const log = server.statusCounts();
    const repairsSent = server.log.filter((r) => r.body.messages.length > 2).length;

    expect(s.httpRequests).toBe(server.log.length);
    expect(s.retriesByCause['rate-limited']).toBe(log.get(429));
    // the last 500 of the exhausted entity is not retried
    expect(s.retriesByCause['server-error']).toBe((log.get(500) ?? 0) + (log.get(503) ?? 0) - 1);
    expect(s.retriesByCause.timeout).toBe(log.get('dropped'));
    expect(s.retriesByCause.unreadable).toBe(log.get('malformed-body'));
    expect(s.retriesByCause.network).toBe(0);
    expect(s.retries).toBe(Object.values(s.retriesByCause).reduce((a, b) => a + b, 0));
    expect(s.repairs).toBe(repairsSent);
    // every call is a first call, a retry or a repair
    expect(s.httpRequests).toBe(reqs.length + s.retries + s.repairs);
    expect(s).toMatchObject({ succeeded: 10, failed: 2, retries: 2 + 1 + 2 + 1 + 1 + 1 + 2, repairs: 2 });
    expect(s.usage.completionTokens).toBe(
      server.log
        .filter((r) => r.status === 200 && !r.malformedBody)
        .reduce((a, r) => a + Math.ceil((r.content as string).length / 4), 0),
    );

    // progress counts entities, never HTTP calls
    const prog = events.filter((e) => e.type === 'task-progress');
    expect(prog.every((e) => e.unit === 'entities' && e.total === 12 && e.done <= 12)).toBe(true);
    expect(prog.at(-1)).toMatchObject({ done: 12, inFlight: 0 });
    const retryCodes = events.filter((e) => e.type === 'warning' && e.code?.startsWith('RETRY_'));
    expect(retryCodes).toHaveLength(s.retries);
    expect(new Set(retryCodes.map((e) => (e as { code: string }).code))).toEqual(
      new Set(['RETRY_RATE_LIMITED', 'RETRY_SERVER_ERROR', 'RETRY_TIMEOUT', 'RETRY_UNREADABLE']),
    );
  });

  it('keeps one abort listener per job at concurrency 32: no MaxListenersExceededWarning', async () => {
    const warnings: Error[] = [];
    const onWarning = (w: Error): void => void warnings.push(w);
    process.on('warning', onWarning);
    const reqs = items(96);
    const h = hashes(reqs);
    const limited = new Set(h.filter((_, i) => i % 3 === 0));
    // every third entity waits out a 429 (32 sleeps at once), all calls overlap
    server.options = {
      latencyMs: 30,
      fault: ({ hash, attempt }) => (limited.has(hash) && attempt === 1 ? rateLimited(40) : undefined),
    };
    const ac = new AbortController();
    const store = await storeIn();
    let most = 0;
    const res = await generateProfiles(reqs, {
      client: client(),
      settings: { ...FAST, concurrency: 32 },
      store,
      abortSignal: ac.signal,
      onProgress: (e) => {
        if (e.type === 'task-progress') most = Math.max(most, getEventListeners(ac.signal, 'abort').length);
      },
    });
    await store.close();
    // let any deferred process warning fire before looking
    await new Promise((r) => setTimeout(r, 20));
    process.off('warning', onWarning);
    expect(res.profiles).toHaveLength(96);
    expect(server.maxInFlight).toBeGreaterThan(10);
    expect(res.summary.retriesByCause['rate-limited']).toBe(32);
    expect(warnings.filter((w) => w.name === 'MaxListenersExceededWarning')).toEqual([]);
    expect(most).toBe(1);
    expect(getEventListeners(ac.signal, 'abort')).toHaveLength(0);
  });
});

describe('runChatJob progress while a call stalls', () => {
  it('keeps reporting, with the stalled call in flight and an ETA up to its timeout', async () => {
    const reqs = items(10);
    const stalled = hashes(reqs)[9];
    server.options = {
      latencyMs: 10,
      fault: ({ hash, attempt }) => (hash === stalled && attempt === 1 ? { delayMs: 600 } : undefined),
    };
    const store = await storeIn();
    const events: ProgressEvent[] = [];
    await generateProfiles(reqs, {
      client: client(),
      settings: { ...FAST, concurrency: 10, requestTimeoutMs: 5_000 },
      store,
      progressEveryMs: 50,
      onProgress: (e) => events.push(e),
    });
    await store.close();
    const waiting = events.filter(
      (e) => e.type === 'task-progress' && e.done === 9 && e.inFlight === 1 && e.etaMs !== undefined,
    ) as { etaMs: number }[];
    // repeated while nothing finishes; once the call is past twice the typical call, the ETA is
    // what is left of its 5 s timeout, not the milliseconds the throughput suggests
    expect(waiting.length).toBeGreaterThanOrEqual(5);
    expect(Math.max(...waiting.map((e) => e.etaMs))).toBeGreaterThan(4_000);
    expect(events.filter((e) => e.type === 'task-progress').at(-1)).toMatchObject({ done: 10, inFlight: 0 });
  });
});

describe('AbortFanout', () => {
  it('holds one listener on the parent for any number of children and aborts the live ones', () => {
    const parent = new AbortController();
    const fan = new AbortFanout(parent.signal);
    const kids = Array.from({ length: 50 }, () => fan.child());
    (kids[0] as { release: () => void }).release();
    expect(getEventListeners(parent.signal, 'abort')).toHaveLength(1);
    expect(fan.size).toBe(49);
    parent.abort(new Error('stop'));
    expect(kids.slice(1).every((k) => k.signal.aborted)).toBe(true);
    expect(kids[0]?.signal.aborted).toBe(false);
    expect(fan.child().signal.aborted).toBe(true);
    fan.dispose();
    expect(getEventListeners(parent.signal, 'abort')).toHaveLength(0);
  });
});

describe('estimateRemainingMs', () => {
  const base = { now: 10_000, finished: 9, elapsedMs: 1_000, typicalCallMs: 100, timeoutMs: 120_000 };
  it('uses the throughput while calls run normally', () => {
    const eta = estimateRemainingMs({
      ...base,
      notStarted: 8,
      started: [{ phase: 'calling', startedAt: 9_950 }],
    });
    expect(eta).toBeCloseTo((9 * 1000) / 9, 6);
  });
  it('never reads less than a stalled call can still take (its timeout)', () => {
    const eta = estimateRemainingMs({
      ...base,
      notStarted: 0,
      started: [{ phase: 'calling', startedAt: 5_000 }],
    });
    // throughput says 111 ms; the call has run 5 s against a typical 100 ms: up to 115 s more
    expect(eta).toBe(115_000);
  });
  it('counts a Retry-After wait plus one typical call', () => {
    const eta = estimateRemainingMs({
      ...base,
      notStarted: 0,
      started: [{ phase: 'backoff', until: 40_000 }],
    });
    expect(eta).toBe(30_100);
  });
  it('is unknown before anything finished', () => {
    expect(estimateRemainingMs({ ...base, finished: 0, notStarted: 3, started: [] })).toBeUndefined();
  });
});
