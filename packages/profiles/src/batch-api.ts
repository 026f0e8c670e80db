import { readFile, writeFile } from 'node:fs/promises';
import { gunzipSync } from 'node:zlib';
import { type ProgressHandler, PromaxError } from '@promax/core';
import { buildRequestBody, type ChatTask, keyOf } from './chat-job.js';
import { costUsd, priceOf, type TokenUsage } from './pricing.js';
import type { FailureRecord, ResultStore } from './result-store.js';
import { type JobSettingsInput, jobSettingsSchema, parseSettings } from './settings.js';

/** One line of an OpenAI Batch API input file. */
export interface BatchRequestLine {
  custom_id: string;
  method: 'POST';
  url: '/v1/chat/completions';
  body: Record<string, unknown>;
}

/**
 * The custom_id of a task: kind (with `.k` for extra profile variant k), entity id and the first
 * 16 hex digits of its prompt hash.
 */
export function batchCustomId(task: {
  kind: string;
  id: string;
  promptHash: string;
  variant?: number;
}): string {
  const kind = task.variant === undefined ? task.kind : `${task.kind}.${task.variant}`;
  return `${kind}:${task.id}:${task.promptHash.slice(0, 16)}`;
}

export interface BatchExport {
  /** The JSONL text (one request per line, newline-terminated). */
  jsonl: string;
  /** Requests written. */
  count: number;
  /** Tasks skipped because the store already answers them. */
  skipped: number;
}

/**
 * Builds a Batch API input file for the tasks the store does not already answer (one line per
 * distinct task). Upload it with purpose "batch" and endpoint /v1/chat/completions; bring the
 * output file back with `importChatBatch`.
 */
export function exportChatBatch<T>(
  tasks: readonly ChatTask<T>[],
  options: { settings: JobSettingsInput; store?: ResultStore },
): BatchExport {
  const settings = parseSettings(jobSettingsSchema, options.settings, 'job');
  const lines: string[] = [];
  const seen = new Set<string>();
  let skipped = 0;
  for (const t of tasks) {
    const customId = batchCustomId(t);
    if (seen.has(customId)) continue;
    seen.add(customId);
    const rec = options.store?.get(keyOf(t, settings.model));
    if (rec?.type === 'success' || (rec?.type === 'failure' && !settings.retryFailed)) {
      skipped++;
      continue;
    }
    const line: BatchRequestLine = {
      custom_id: customId,
      method: 'POST',
      url: '/v1/chat/completions',
      body: buildRequestBody(t.messages, settings),
    };
    lines.push(JSON.stringify(line));
  }
  return { jsonl: lines.length ? `${lines.join('\n')}\n` : '', count: lines.length, skipped };
}

/** Writes `exportChatBatch` output to a file. */
export async function writeChatBatch<T>(
  path: string,
  tasks: readonly ChatTask<T>[],
  options: { settings: JobSettingsInput; store?: ResultStore },
): Promise<BatchExport> {
  const out = exportChatBatch(tasks, options);
  await writeFile(path, out.jsonl);
  return out;
}

export interface BatchImportSummary {
  /** Answers stored as successes. */
  imported: number;
  /** Lines stored as failures (HTTP error, request error or unusable answer). */
  failed: number;
  /** Lines whose key the store already answered (not written again). */
  alreadyStored: number;
  /** custom_ids matching no given task. */
  unknownIds: string[];
  /** Unreadable lines (e.g. a torn last line of a partial download). */
  badLines: number;
  usage: TokenUsage;
  /** Cost at Batch API prices (undefined without a price). */
  costUsd: number | undefined;
}

interface BatchOutputLine {
  custom_id?: unknown;
  response?: { status_code?: unknown; body?: unknown } | null;
  error?: { code?: unknown; message?: unknown } | null;
}

/**
 * Imports a Batch API output file (`{custom_id, response: {status_code, body}, error}` lines)
 * into the store. Answers are validated with each task's parser; there is no repair round in
 * batch mode, so unusable answers are recorded as failures (a later online run with
 * `retryFailed` re-asks them). Accepts plain or gzipped text.
 */
export async function importChatBatch<T>(
  tasks: readonly ChatTask<T>[],
  options: {
    settings: JobSettingsInput;
    store: ResultStore;
    path?: string;
    jsonl?: string;
    onProgress?: ProgressHandler;
  },
): Promise<BatchImportSummary> {
  const settings = parseSettings(jobSettingsSchema, options.settings, 'job');
  let text = options.jsonl;
  if (text === undefined) {
    if (!options.path)
      throw new PromaxError({
        code: 'INVALID_ARGUMENT',
        message: 'importChatBatch needs a path or jsonl text',
      });
    const bytes = await readFile(options.path);
    text = (bytes[0] === 0x1f && bytes[1] === 0x8b ? gunzipSync(bytes) : bytes).toString('utf8');
  }
  const byId = new Map<string, ChatTask<T>>();
  for (const t of tasks) byId.set(batchCustomId(t), t);
  const summary: BatchImportSummary = {
    imported: 0,
    failed: 0,
    alreadyStored: 0,
    unknownIds: [],
    badLines: 0,
    usage: { promptTokens: 0, completionTokens: 0 },
    costUsd: undefined,
  };
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const raw = (lines[i] as string).trim();
    if (!raw) continue;
    let line: BatchOutputLine;
    try {
      line = JSON.parse(raw) as BatchOutputLine;
    } catch {
      summary.badLines++;
      options.onProgress?.({
        type: 'warning',
        code: 'BAD_LINE',
        message: `skipping unreadable batch output line ${i + 1}`,
      });
      continue;
    }
    const customId = String(line.custom_id ?? '');
    const task = byId.get(customId);
    if (!task) {
      summary.unknownIds.push(customId);
      continue;
    }
    const key = keyOf(task, settings.model);
    if (options.store.getSuccess(key)) {
      summary.alreadyStored++;
      continue;
    }
    const body = (line.response?.body ?? {}) as {
      choices?: { message?: { content?: string | null } }[];
      usage?: { prompt_tokens?: number; completion_tokens?: number };
      model?: string;
    };
    const usage = {
      promptTokens: body.usage?.prompt_tokens ?? 0,
      completionTokens: body.usage?.completion_tokens ?? 0,
    };
    summary.usage.promptTokens += usage.promptTokens;
    summary.usage.completionTokens += usage.completionTokens;
    const base = {
      v: 1 as const,
      key,
      kind: task.kind,
      templateId: task.templateId,
      attempts: 1,
      usage,
      source: 'batch' as const,
      at: new Date().toISOString(),
    };
    const status = Number(line.response?.status_code ?? 0);
    if (line.error || status !== 200) {
      const error: FailureRecord['error'] = {
        code: 'API_ERROR',
        message: line.error
          ? `${String(line.error.code ?? 'error')}: ${String(line.error.message ?? '')}`
          : `batch request answered HTTP ${status}`,
      };
      if (status) error.status = status;
      await options.store.append({ ...base, type: 'failure', error });
      summary.failed++;
      continue;
    }
    const content = body.choices?.[0]?.message?.content ?? '';
    const parsed = task.parse(content);
    if (parsed.ok) {
      await options.store.append({ ...base, type: 'success', output: parsed.value, raw: content });
      summary.imported++;
    } else {
      const error: FailureRecord['error'] = { code: 'INVALID_RESPONSE', message: parsed.reason };
      if (parsed.partial !== undefined) error.details = { partial: parsed.partial };
      await options.store.append({ ...base, type: 'failure', error, raw: content });
      summary.failed++;
    }
  }
  summary.costUsd = costUsd(summary.usage, priceOf(settings.model, settings.prices), true);
  return summary;
}
