import { PromaxError } from '@promax/core';
import { type ChatJobOptions, type ChatJobSummary, type ChatTask, runChatJob } from './chat-job.js';
import { parseRerankOutput } from './output.js';
import {
  buildRerankPrompt,
  promptHash,
  type RerankInput,
  type RerankPromptSettingsInput,
  rerankPromptSettingsSchema,
} from './prompts.js';
import { jobSettingsSchema, parseSettings } from './settings.js';

/** What a stored re-ranking answer holds. */
export interface RerankAnswer {
  /** Chosen candidate ids, best first, distinct, all from the candidate list. */
  ids: string[];
}

export interface RerankOutcome {
  userId: string;
  /** The chosen ids (absent when the request failed). */
  ids?: string[];
  error?: { code: string; message: string; details?: Record<string, unknown> };
  promptHash: string;
  fromStore: boolean;
}

/** Follow-up requests after an invalid re-ranking answer when neither option nor setting says. */
export const DEFAULT_RERANK_REPAIRS = 2;

export interface RerankOptions extends ChatJobOptions {
  prompt?: RerankPromptSettingsInput;
  /**
   * Follow-up requests after an invalid answer (unknown ids, too few ids, bad JSON) before a
   * failure is recorded; default `settings.repairAttempts` when given, else
   * `DEFAULT_RERANK_REPAIRS` (lists of ids go wrong more often than profiles).
   */
  invalidAnswerRetries?: number;
}

function validate(input: RerankInput): void {
  const ids = input.candidates.map((c) => String(c.id));
  if (!(Number.isInteger(input.n) && input.n >= 1)) {
    throw new PromaxError({
      code: 'INVALID_ARGUMENT',
      message: `rerank n must be a positive integer, got ${input.n}`,
      field: 'n',
      details: { userId: input.userId },
    });
  }
  if (ids.length === 0) {
    throw new PromaxError({
      code: 'INVALID_ARGUMENT',
      message: `user ${input.userId} has no candidates to rerank`,
      field: 'candidates',
    });
  }
  if (new Set(ids).size !== ids.length) {
    throw new PromaxError({
      code: 'INVALID_ARGUMENT',
      message: `user ${input.userId} has duplicate candidate ids`,
      field: 'candidates',
    });
  }
}

/** Renders re-ranking requests into chat tasks. */
export function rerankTasks(
  inputs: readonly RerankInput[],
  options: { model: string; prompt?: RerankPromptSettingsInput; invalidAnswerRetries?: number },
): ChatTask<RerankAnswer>[] {
  const prompt = parseSettings(rerankPromptSettingsSchema, options.prompt ?? {}, 'rerank prompt');
  return inputs.map((input) => {
    validate(input);
    const rendered = buildRerankPrompt(input, prompt);
    const candidateIds = input.candidates.map((c) => String(c.id));
    const n = Math.min(input.n, candidateIds.length);
    return {
      id: String(input.userId),
      kind: 'rerank',
      templateId: rendered.templateId,
      promptHash: promptHash(options.model, rendered.system, rendered.user),
      messages: [
        { role: 'system', content: rendered.system },
        { role: 'user', content: rendered.user },
      ],
      parse: (content: string) => {
        const r = parseRerankOutput(content, candidateIds, n);
        return r.ok ? { ok: true as const, value: { ids: r.value.ids } } : r;
      },
      repairMessage: (reason: string) =>
        `Your previous reply could not be used: ${reason}. Reply again with only {"ids": [...]} holding exactly ${n} different ids copied from the CANDIDATES list.`,
      repairAttempts: options.invalidAnswerRetries ?? DEFAULT_RERANK_REPAIRS,
    };
  });
}

/**
 * Asks the LLM to pick the n best candidates for each user (the re-ranking step of the
 * augmented graph). Answers are parsed as ids, checked against the candidate list and
 * de-duplicated; invalid answers get follow-up requests, then a recorded failure. Uses the same
 * store, limits, retries and resume logic as profile generation.
 */
export async function rerankCandidates(
  inputs: readonly RerankInput[],
  options: RerankOptions,
): Promise<{ results: RerankOutcome[]; summary: ChatJobSummary }> {
  const { prompt, invalidAnswerRetries, ...job } = options;
  const model = parseSettings(jobSettingsSchema, options.settings, 'job').model;
  const tasks = rerankTasks(inputs, {
    model,
    prompt,
    invalidAnswerRetries: invalidAnswerRetries ?? options.settings.repairAttempts,
  });
  const { entries, summary } = await runChatJob(tasks, job);
  const results = entries.map((e): RerankOutcome => {
    if (e.status === 'ok') {
      return {
        userId: e.task.id,
        ids: [...e.record.output.ids],
        promptHash: e.task.promptHash,
        fromStore: e.fromStore,
      };
    }
    return {
      userId: e.task.id,
      error: e.record.error,
      promptHash: e.task.promptHash,
      fromStore: e.fromStore,
    };
  });
  return { results, summary };
}
