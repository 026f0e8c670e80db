import { rename, writeFile } from 'node:fs/promises';
import { type ProgressHandler, PromaxError, Rng } from '@promax/core';
import { AbortFanout } from './abort-fanout.js';
import type { ChatClient } from './client.js';
import { abortError, type Clock, systemClock } from './clock.js';
import { type EntityState, estimateRemainingMs, RecentDurations } from './job-eta.js';
import type { ParseResult } from './output.js';
import { addUsage, costUsd, estimateMessageTokens, priceOf, type TokenUsage } from './pricing.js';
import { RateLimiter } from './rate-limiter.js';
import type { FailureRecord, ResultStore, StoreKey, SuccessRecord } from './result-store.js';
import {
  backoffDelayMs,
  classifyRequestError,
  RETRY_CAUSES,
  type RetryCause,
  retryWarningCode,
} from './retry.js';
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
  /** Extra profile variant (1, 2, …; store key part); absent for main profiles and other tasks. */
  variant?: number;
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
  /**
   * Typed progress: `task-progress` counts entities (one per distinct store key), with the calls
   * in flight and an ETA that accounts for them, repeated every second while calls are pending;
   * each retry is a `warning` with code `RETRY_<CAUSE>` (see `retryWarningCode`).
   */
  onProgress?: ProgressHandler;
  /** Progress task name (default `llm:<model>`). */
  task?: string;
  /** Progress unit of one entity (default `entities`; e.g. `items`, `users`). */
  unit?: string;
  /** How often progress repeats while calls are pending, in ms (default 1000). */
  progressEveryMs?: number;
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
  /** HTTP calls sent: one first call per entity requested, plus `retries`, plus `repairs`. */
  httpRequests: number;
  /** Calls repeated after 429, 5xx, timeouts, network errors or unreadable bodies. */
  retries: number;
  /** `retries` by cause. */
  retriesByCause: Record<RetryCause, number>;
  /** Follow-up calls after unusable answers (malformed JSON, wrong ids). */
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

/** The store key of a task's answer (its variant included when it has one). */
export function keyOf(task: { id: string; promptHash: string; variant?: number }, model: string): StoreKey {
  const key: StoreKey = { id: task.id, promptHash: task.promptHash, model };
  if (task.variant !== undefined) key.variant = task.variant;
  return key;
}

/** How often progress repeats while calls are pending, in ms. */
const PROGRESS_EVERY_MS = 1000;

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
  const taskName = options.task ?? `llm:${settings.model}`;
  const unit = options.unit ?? 'entities';

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
    retriesByCause: Object.fromEntries(RETRY_CAUSES.map((c) => [c, 0])) as Record<RetryCause, number>,
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
    message:
      `${todo.length} of ${unique.size} ${unit} to request (${alreadyStored} already stored` +
      `${previouslyFailed ? `, ${previouslyFailed} failed before and not retried` : ''})`,
    data: { toRequest: todo.length, unique: unique.size, alreadyStored, previouslyFailed },
  });
  onProgress?.({ type: 'task-start', task: taskName, total: unique.size, unit });

  // What each started entity is doing, for the ETA and the in-flight count.
  const states = new Map<ChatTask<T>, EntityState>();
  const callDurations = new RecentDurations();
  let next = 0;
  const progress = (): void => {
    if (!onProgress) return;
    const now = clock.now();
    const etaMs = estimateRemainingMs({
      now,
      notStarted: todo.length - next,
      finished: summary.succeeded + summary.failed,
      elapsedMs: now - started,
      started: [...states.values()],
      typicalCallMs: callDurations.median(),
      timeoutMs: settings.requestTimeoutMs,
    });
    onProgress({
      type: 'task-progress',
      task: taskName,
      done: alreadyStored + previouslyFailed + summary.succeeded + summary.failed,
      total: unique.size,
      unit,
      inFlight: states.size,
      ...(etaMs === undefined ? {} : { etaMs }),
    });
  };

  // The job's own signal, with one listener on the caller's; every call and wait gets a child
  // of it (AbortFanout), so no signal collects a listener per request.
  const stop = new AbortController();
  const external = options.abortSignal;
  const forwardAbort = (): void => stop.abort(external?.reason);
  if (external?.aborted) forwardAbort();
  else external?.addEventListener('abort', forwardAbort, { once: true });
  const signal = stop.signal;
  const fanout = new AbortFanout(signal);

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
    states.delete(t);
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
      states.set(t, { phase: 'queued' });
      await fanout.run((s) => limiter.acquire(estimate, s));
      attempts++;
      summary.httpRequests++;
      let completion: Awaited<ReturnType<ChatClient['chat']['completions']['create']>>;
      // A child signal per call: the SDK never removes the listener it adds to the signal it is
      // given, so that listener must die with the call.
      const call = fanout.child();
      const callStarted = clock.now();
      states.set(t, { phase: 'calling', startedAt: callStarted });
      try {
        completion = await client.chat.completions.create(buildRequestBody(messages, settings) as never, {
          signal: call.signal,
          timeout: settings.requestTimeoutMs,
          maxRetries: 0,
        });
        callDurations.push(clock.now() - callStarted);
      } catch (error) {
        const c = classifyRequestError(error, signal, clock.now());
        if (c.kind !== 'abort' && c.kind !== 'retry') callDurations.push(clock.now() - callStarted);
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
          summary.retriesByCause[c.cause]++;
          onProgress?.({
            type: 'warning',
            code: retryWarningCode(c.cause),
            message: `${t.kind} ${t.id}: ${c.message}; retry ${transportRetries}/${settings.maxRetries} in ${Math.round(delay)} ms`,
          });
          states.set(t, { phase: 'backoff', until: clock.now() + delay });
          await fanout.run((s) => clock.sleep(delay, s));
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
        call.release();
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

  let fatal: unknown;
  let inFlightAtAbort = 0;
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
      } finally {
        if (signal.aborted && states.get(t)?.phase === 'calling') inFlightAtAbort++;
        states.delete(t);
      }
    }
  };
  // While calls are pending the ETA changes without any entity finishing (a stalled call, a
  // Retry-After wait), so progress is repeated every second.
  const heartbeat =
    onProgress && todo.length > 0
      ? setInterval(progress, options.progressEveryMs ?? PROGRESS_EVERY_MS)
      : undefined;
  heartbeat?.unref();
  try {
    await Promise.all(
      Array.from({ length: Math.min(settings.concurrency, Math.max(todo.length, 1)) }, worker),
    );
  } finally {
    clearInterval(heartbeat);
    fanout.dispose();
    external?.removeEventListener('abort', forwardAbort);
  }

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
      message:
        `the job was aborted after ${summary.succeeded} answers and ${summary.failed} failures were stored; ` +
        `rerun to resume (${inFlightAtAbort} ${inFlightAtAbort === 1 ? 'call' : 'calls'} in flight at the abort will be asked again)`,
      details: { ...summary, inFlightAtAbort },
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
