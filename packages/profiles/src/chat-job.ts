import { rename, writeFile } from 'node:fs/promises';
import { type ProgressHandler, PromaxError, Rng } from '@promax/core';
import type { ChatClient } from './client.js';
import { abortError, type Clock, systemClock } from './clock.js';
import type { ParseResult } from './output.js';
import { addUsage, costUsd, estimateMessageTokens, priceOf, type TokenUsage } from './pricing.js';
import { RateLimiter } from './rate-limiter.js';
import type { FailureRecord, ResultStore, StoreKey, SuccessRecord } from './result-store.js';
import { backoffDelayMs, classifyRequestError } from './retry.js';
import { type JobSettings, type JobSettingsInput, jobSettingsSchema, parseSettings } from './settings.js';

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

/** One question to ask the LLM, with its own answer parser. */
export interface ChatTask<T> {
  /** Entity id (store key part). */
  id: string;
  /** What is asked (`item-profile`, `user-profile`, `rerank`). */
  kind: string;
  /** Template id with version. */
  templateId: string;
  /** sha256 of model + system + user text (store key part). */
  promptHash: string;
  /** The first request's messages (system + user). */
  messages: readonly ChatMessage[];
  /** Validates an answer; `partial` (if any) is kept in the failure record. */
  parse(content: string): ParseResult<T> & { partial?: unknown };
  /** The follow-up user message after an unusable answer. */
  repairMessage(reason: string): string;
  /** Overrides `JobSettings.repairAttempts` for this task. */
  repairAttempts?: number;
}

export interface ChatJobOptions {
  /** An OpenAI SDK client (or anything with the same `chat.completions.create`). */
  client: ChatClient;
  /** Job settings (validated; unknown keys are rejected). */
  settings: JobSettingsInput;
  /** Where answers are appended; answers already there are never requested again. */
  store: ResultStore;
  onProgress?: ProgressHandler;
  /** Stops the job: requests in flight are cancelled, nothing more is started, `ABORTED` is thrown. */
  abortSignal?: AbortSignal;
  /** Writes a JSON summary of the run here (settings, templates, counts, usage, cost; never keys). */
  manifestPath?: string;
  /** Time source (tests). */
  clock?: Clock;
}

export interface ChatJobSummary {
  model: string;
  /** Tasks given (duplicates included). */
  tasks: number;
  /** Distinct store keys among them. */
  unique: number;
  /** Keys answered by the store before the job started (no request made). */
  alreadyStored: number;
  /** Keys left as failures from an earlier run (when `retryFailed` is false). */
  previouslyFailed: number;
  /** Keys answered in this run. */
  succeeded: number;
  /** Keys recorded as failures in this run. */
  failed: number;
  /** HTTP requests sent (retries and repairs included). */
  httpRequests: number;
  /** Requests retried after 429/5xx/timeouts. */
  retries: number;
  /** Follow-up requests after unusable answers. */
  repairs: number;
  /** Reported token usage of this run. */
  usage: TokenUsage;
  /** Cost of `usage` in USD; undefined when the model has no price. */
  costUsd: number | undefined;
  elapsedMs: number;
}

export type JobEntry<T> =
  | { task: ChatTask<T>; status: 'ok'; record: SuccessRecord<T>; fromStore: boolean }
  | { task: ChatTask<T>; status: 'failed'; record: FailureRecord; fromStore: boolean };

export interface ChatJobResult<T> {
  /** One entry per given task, in order. */
  entries: JobEntry<T>[];
  summary: ChatJobSummary;
}

export function keyOf(task: { id: string; promptHash: string }, model: string): StoreKey {
  return { id: task.id, promptHash: task.promptHash, model };
}

/** The chat-completions request body of a task (also used for Batch API lines). */
export function buildRequestBody(
  messages: readonly ChatMessage[],
  settings: JobSettings,
): Record<string, unknown> {
  const body: Record<string, unknown> = {
    model: settings.model,
    messages: messages.map((m) => ({ role: m.role, content: m.content })),
    [settings.maxTokensField]: settings.maxOutputTokens,
  };
  if (settings.temperature !== null) body.temperature = settings.temperature;
  if (settings.responseFormat === 'json_object') body.response_format = { type: 'json_object' };
  return body;
}

async function writeManifest(path: string, content: unknown): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}`;
  await writeFile(tmp, `${JSON.stringify(content, null, 2)}\n`);
  await rename(tmp, path);
}

/**
 * Runs chat-completion tasks with bounded concurrency, RPM/TPM limits, retries with
 * exponential backoff and seeded jitter (honouring Retry-After), repair follow-ups for unusable
 * answers and an append-only store: each answer is on disk before it counts, so a killed or
 * aborted run resumes without paying again for anything already received. A task that still
 * fails is recorded as a failure, never dropped.
 */
export async function runChatJob<T>(
  tasks: readonly ChatTask<T>[],
  options: ChatJobOptions,
): Promise<ChatJobResult<T>> {
  const settings = parseSettings(jobSettingsSchema, options.settings, 'job');
  const { client, store, onProgress } = options;
  const clock = options.clock ?? systemClock;
  const started = clock.now();
  const startedAt = new Date().toISOString();
  const rng = new Rng(settings.seed);
  const limiter = new RateLimiter(settings.requestsPerMinute, settings.tokensPerMinute, clock);
  const price = priceOf(settings.model, settings.prices);
  const taskName = `llm:${settings.model}`;

  const unique = new Map<string, ChatTask<T>>();
  for (const t of tasks) {
    const k = JSON.stringify(keyOf(t, settings.model));
    if (!unique.has(k)) unique.set(k, t);
  }
  const todo: ChatTask<T>[] = [];
  let alreadyStored = 0;
  let previouslyFailed = 0;
  const storedBefore = new Set<string>();
  for (const [k, t] of unique) {
    const rec = store.get(keyOf(t, settings.model));
    if (rec?.type === 'success') {
      alreadyStored++;
      storedBefore.add(k);
    } else if (rec?.type === 'failure' && !settings.retryFailed) {
      previouslyFailed++;
      storedBefore.add(k);
    } else todo.push(t);
  }

  const summary: ChatJobSummary = {
    model: settings.model,
    tasks: tasks.length,
    unique: unique.size,
    alreadyStored,
    previouslyFailed,
    succeeded: 0,
    failed: 0,
    httpRequests: 0,
    retries: 0,
    repairs: 0,
    usage: { promptTokens: 0, completionTokens: 0 },
    costUsd: undefined,
    elapsedMs: 0,
  };
  if (!price) {
    onProgress?.({
      type: 'warning',
      code: 'NO_PRICE',
      message: `no price known for model ${settings.model}; cost is not computed (set settings.prices)`,
    });
  }
  onProgress?.({
    type: 'info',
    message: `${todo.length} of ${unique.size} requests to make (${alreadyStored} already stored)`,
    data: { toRequest: todo.length, unique: unique.size, alreadyStored, previouslyFailed },
  });
  onProgress?.({ type: 'task-start', task: taskName, total: unique.size, unit: 'requests' });
  const progress = (): void =>
    onProgress?.({
      type: 'task-progress',
      task: taskName,
      done: alreadyStored + previouslyFailed + summary.succeeded + summary.failed,
      total: unique.size,
      unit: 'requests',
    });

  const stop = new AbortController();
  const signal = options.abortSignal ? AbortSignal.any([options.abortSignal, stop.signal]) : stop.signal;

  const record = async (
    t: ChatTask<T>,
    fields: { attempts: number; usage: TokenUsage } & (
      | { type: 'success'; output: T; raw: string }
      | { type: 'failure'; error: FailureRecord['error']; raw?: string }
    ),
  ): Promise<void> => {
    const base = {
      v: 1 as const,
      key: keyOf(t, settings.model),
      kind: t.kind,
      templateId: t.templateId,
      attempts: fields.attempts,
      usage: { ...fields.usage },
      source: 'online' as const,
      at: new Date().toISOString(),
    };
    if (fields.type === 'success') {
      await store.append({ ...base, type: 'success', output: fields.output, raw: fields.raw });
      summary.succeeded++;
    } else {
      const rec: FailureRecord = { ...base, type: 'failure', error: fields.error };
      if (fields.raw !== undefined) rec.raw = fields.raw;
      await store.append(rec);
      summary.failed++;
      onProgress?.({
        type: 'warning',
        code: 'REQUEST_FAILED',
        message: `${t.kind} ${t.id} failed: ${fields.error.message}`,
      });
    }
    progress();
  };

  const runOne = async (t: ChatTask<T>): Promise<void> => {
    let messages: ChatMessage[] = [...t.messages];
    let attempts = 0;
    let transportRetries = 0;
    let repairs = 0;
    const maxRepairs = t.repairAttempts ?? settings.repairAttempts;
    const usage: TokenUsage = { promptTokens: 0, completionTokens: 0 };
    let lastRaw: string | undefined;
    for (;;) {
      if (signal.aborted) throw abortError(signal);
      const estimate = estimateMessageTokens(messages) + settings.maxOutputTokens;
      await limiter.acquire(estimate, signal);
      attempts++;
      summary.httpRequests++;
      let completion: Awaited<ReturnType<ChatClient['chat']['completions']['create']>>;
      // A child signal per request: the SDK never removes the listener it adds to the signal it
      // is given, so passing the long-lived job signal would leak one listener per request.
      const requestAbort = new AbortController();
      const forward = (): void => requestAbort.abort(signal.reason);
      signal.addEventListener('abort', forward, { once: true });
      try {
        completion = await client.chat.completions.create(buildRequestBody(messages, settings) as never, {
          signal: requestAbort.signal,
          timeout: settings.requestTimeoutMs,
          maxRetries: 0,
        });
      } catch (error) {
        const c = classifyRequestError(error, signal, clock.now());
        if (c.kind === 'abort') throw abortError(signal);
        if (c.kind === 'fatal') {
          throw new PromaxError({
            code: c.code,
            message: `the endpoint refused the request for model ${settings.model}: ${c.message}`,
            fix: 'check baseURL, the model name and the API key',
            details: { status: c.status },
            cause: error,
          });
        }
        if (c.kind === 'retry' && transportRetries < settings.maxRetries) {
          const delay =
            c.retryAfterMs !== undefined
              ? Math.min(c.retryAfterMs, settings.maxRetryAfterMs)
              : backoffDelayMs(transportRetries, settings.backoff, rng);
          transportRetries++;
          summary.retries++;
          onProgress?.({
            type: 'warning',
            code: c.code === 'RATE_LIMITED' ? 'RETRY_RATE_LIMITED' : 'RETRY',
            message: `${t.kind} ${t.id}: ${c.message}; retry ${transportRetries}/${settings.maxRetries} in ${Math.round(delay)} ms`,
          });
          await clock.sleep(delay, signal);
          continue;
        }
        const err: FailureRecord['error'] = {
          code: c.code,
          message:
            c.kind === 'retry' ? `${c.message} (gave up after ${transportRetries} retries)` : c.message,
        };
        if (c.status !== undefined) err.status = c.status;
        await record(t, { type: 'failure', attempts, usage, error: err, raw: lastRaw });
        return;
      } finally {
        signal.removeEventListener('abort', forward);
      }
      const reported = completion.usage;
      const u = {
        promptTokens: reported?.prompt_tokens ?? 0,
        completionTokens: reported?.completion_tokens ?? 0,
      };
      addUsage(usage, u);
      addUsage(summary.usage, u);
      limiter.settle(estimate, reported ? u.promptTokens + u.completionTokens : estimate);
      const content = completion.choices?.[0]?.message?.content ?? '';
      lastRaw = content;
      const parsed = t.parse(content);
      if (parsed.ok) {
        await record(t, { type: 'success', attempts, usage, output: parsed.value, raw: content });
        return;
      }
      if (repairs < maxRepairs) {
        repairs++;
        summary.repairs++;
        messages = [
          ...messages,
          { role: 'assistant', content },
          { role: 'user', content: t.repairMessage(parsed.reason) },
        ];
        continue;
      }
      const error: FailureRecord['error'] = {
        code: 'INVALID_RESPONSE',
        message: `${parsed.reason} (after ${repairs} repair request${repairs === 1 ? '' : 's'})`,
      };
      if (parsed.partial !== undefined) error.details = { partial: parsed.partial };
      await record(t, { type: 'failure', attempts, usage, error, raw: content });
      return;
    }
  };

  let next = 0;
  let fatal: unknown;
  const worker = async (): Promise<void> => {
    while (!signal.aborted && next < todo.length) {
      const t = todo[next++] as ChatTask<T>;
      try {
        await runOne(t);
      } catch (e) {
        if (!(PromaxError.isInstance(e) && e.code === 'ABORTED') && fatal === undefined) {
          fatal = e;
          stop.abort();
        }
        return;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(settings.concurrency, Math.max(todo.length, 1)) }, worker));

  summary.elapsedMs = clock.now() - started;
  summary.costUsd = costUsd(summary.usage, price);
  onProgress?.({
    type: 'task-end',
    task: taskName,
    done: alreadyStored + previouslyFailed + summary.succeeded + summary.failed,
    elapsedMs: summary.elapsedMs,
  });
  const aborted = options.abortSignal?.aborted === true;
  if (options.manifestPath) {
    await writeManifest(options.manifestPath, {
      format: 'promax-llm-run',
      version: 1,
      status: fatal !== undefined ? 'failed' : aborted ? 'aborted' : 'completed',
      startedAt,
      finishedAt: new Date().toISOString(),
      store: store.path,
      settings,
      templates: [...new Set(tasks.map((t) => t.templateId))],
      price: price ?? null,
      summary,
    });
  }
  if (fatal !== undefined) throw fatal;
  if (aborted) {
    throw new PromaxError({
      code: 'ABORTED',
      message: `the job was aborted after ${summary.succeeded} answers and ${summary.failed} failures; rerun to resume`,
      details: { ...summary },
      cause: options.abortSignal?.reason,
    });
  }

  const entries: JobEntry<T>[] = tasks.map((t) => {
    const rec = store.get(keyOf(t, settings.model));
    if (!rec) {
      throw new PromaxError({
        code: 'INVALID_DATA',
        message: `internal: no record for ${t.kind} ${t.id} after the job`,
      });
    }
    const fromStore = storedBefore.has(JSON.stringify(keyOf(t, settings.model)));
    return rec.type === 'success'
      ? { task: t, status: 'ok', record: rec as SuccessRecord<T>, fromStore }
      : { task: t, status: 'failed', record: rec, fromStore };
  });
  return { entries, summary };
}

/** A dry-run estimate of a job: what would be requested and roughly what it would cost. */
export interface JobEstimate {
  model: string;
  unique: number;
  alreadyStored: number;
  toRequest: number;
  /** Estimated prompt tokens of the requests to make (chars/4 heuristic). */
  promptTokens: number;
  /** Completion tokens if every answer used `maxOutputTokens`. */
  maxCompletionTokens: number;
  /** Completion tokens at `expectedCompletionTokens` per answer. */
  expectedCompletionTokens: number;
  /** Expected cost in USD (undefined without a price). */
  costUsd: number | undefined;
  /** Upper bound in USD (every answer at max length, no repairs or retries). */
  maxCostUsd: number | undefined;
  /** Cost through the Batch API at the expected length. */
  batchCostUsd: number | undefined;
}

/** Estimates tokens and cost without sending anything. */
export function estimateChatJob<T>(
  tasks: readonly ChatTask<T>[],
  options: { settings: JobSettingsInput; store?: ResultStore },
): JobEstimate {
  const settings = parseSettings(jobSettingsSchema, options.settings, 'job');
  const seen = new Set<string>();
  let alreadyStored = 0;
  let promptTokens = 0;
  let toRequest = 0;
  for (const t of tasks) {
    const k = JSON.stringify(keyOf(t, settings.model));
    if (seen.has(k)) continue;
    seen.add(k);
    const rec = options.store?.get(keyOf(t, settings.model));
    if (rec?.type === 'success' || (rec?.type === 'failure' && !settings.retryFailed)) {
      alreadyStored++;
      continue;
    }
    toRequest++;
    promptTokens += estimateMessageTokens(t.messages);
  }
  const price = priceOf(settings.model, settings.prices);
  const expected = toRequest * Math.min(settings.expectedCompletionTokens, settings.maxOutputTokens);
  const max = toRequest * settings.maxOutputTokens;
  return {
    model: settings.model,
    unique: seen.size,
    alreadyStored,
    toRequest,
    promptTokens,
    maxCompletionTokens: max,
    expectedCompletionTokens: expected,
    costUsd: costUsd({ promptTokens, completionTokens: expected }, price),
    maxCostUsd: costUsd({ promptTokens, completionTokens: max }, price),
    batchCostUsd: costUsd({ promptTokens, completionTokens: expected }, price, true),
  };
}
