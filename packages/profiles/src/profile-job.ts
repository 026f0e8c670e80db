import { PromaxError } from '@promax/core';
import {
  type ChatJobOptions,
  type ChatJobSummary,
  type ChatTask,
  estimateChatJob,
  type JobEstimate,
  runChatJob,
} from './chat-job.js';
import { type ProfileOutput, parseProfileOutput } from './output.js';
import {
  buildItemProfilePrompt,
  buildUserProfilePrompt,
  type ItemProfileInput,
  type ProfilePromptSettingsInput,
  profilePromptSettingsSchema,
  promptHash,
  type UserProfileInput,
} from './prompts.js';
import type { ResultStore } from './result-store.js';
import { type JobSettingsInput, jobSettingsSchema, parseSettings } from './settings.js';

/**
 * One profile to write: an item (facts + reviews) or a user (history); `variant` k ≥ 1 asks for
 * extra profile variant k (`PROFILE_VARIANTS`) of the same entity instead of the main profile.
 */
export type ProfileRequest = (
  | ({ kind: 'item' } & ItemProfileInput)
  | ({ kind: 'user' } & UserProfileInput)
) & {
  variant?: number;
};

export interface GeneratedProfile {
  id: string;
  kind: 'item' | 'user';
  /** 0 for the main profile, k for extra profile variant k. */
  variant: number;
  /** "Who would enjoy it" / "what this user enjoys". */
  summarization: string;
  reasoning: string;
  promptHash: string;
  model: string;
  templateId: string;
  /** True when it came from the store (no request in this run). */
  fromStore: boolean;
}

export interface ProfileFailure {
  id: string;
  kind: 'item' | 'user';
  /** 0 for the main profile, k for extra profile variant k. */
  variant: number;
  promptHash: string;
  error: { code: string; message: string };
  attempts: number;
  /** The last answer, when there was one. */
  raw?: string;
}

export interface ProfileJobResult {
  profiles: GeneratedProfile[];
  failures: ProfileFailure[];
  summary: ChatJobSummary;
}

export interface ProfileJobOptions extends ChatJobOptions {
  /** Prompt limits and the default domain. */
  prompt?: ProfilePromptSettingsInput;
}

const repairMessage = (reason: string): string =>
  `Your previous reply could not be used: ${reason}. Reply again with only the JSON object {"summarization": "...", "reasoning": "..."} and no other text.`;

/**
 * Renders requests into chat tasks (prompt hash = sha256 of model + system + user text); an extra
 * variant's task carries its variant, which is part of its store key.
 */
export function profileTasks(
  requests: readonly ProfileRequest[],
  options: { model: string; prompt?: ProfilePromptSettingsInput },
): ChatTask<ProfileOutput>[] {
  const prompt = parseSettings(profilePromptSettingsSchema, options.prompt ?? {}, 'profile prompt');
  return requests.map((r) => {
    if (r.kind !== 'item' && r.kind !== 'user') {
      throw new PromaxError({
        code: 'INVALID_ARGUMENT',
        message: `profile request kind must be 'item' or 'user', got '${String((r as { kind: unknown }).kind)}'`,
      });
    }
    const variant = r.variant ?? 0;
    const rendered =
      r.kind === 'item'
        ? buildItemProfilePrompt(r, prompt, variant)
        : buildUserProfilePrompt(r, prompt, variant);
    return {
      id: String(r.id),
      kind: `${r.kind}-profile`,
      ...(variant === 0 ? {} : { variant }),
      templateId: rendered.templateId,
      promptHash: promptHash(options.model, rendered.system, rendered.user),
      messages: [
        { role: 'system', content: rendered.system },
        { role: 'user', content: rendered.user },
      ],
      parse: parseProfileOutput,
      repairMessage,
    };
  });
}

/**
 * Writes item and user profiles through an OpenAI-compatible endpoint, resumably: profiles
 * already in the store (same entity id, prompt hash and model) cost nothing; failures are
 * recorded in the store and returned.
 */
export async function generateProfiles(
  requests: readonly ProfileRequest[],
  options: ProfileJobOptions,
): Promise<ProfileJobResult> {
  const { prompt, ...job } = options;
  const model = parseSettings(jobSettingsSchema, options.settings, 'job').model;
  const tasks = profileTasks(requests, { model, prompt });
  const { entries, summary } = await runChatJob(tasks, job);
  const profiles: GeneratedProfile[] = [];
  const failures: ProfileFailure[] = [];
  entries.forEach((e, i) => {
    const kind = (requests[i] as ProfileRequest).kind;
    const variant = e.task.variant ?? 0;
    if (e.status === 'ok') {
      profiles.push({
        id: e.task.id,
        kind,
        variant,
        summarization: e.record.output.summarization,
        reasoning: e.record.output.reasoning,
        promptHash: e.task.promptHash,
        model,
        templateId: e.task.templateId,
        fromStore: e.fromStore,
      });
    } else {
      const f: ProfileFailure = {
        id: e.task.id,
        kind,
        variant,
        promptHash: e.task.promptHash,
        error: e.record.error,
        attempts: e.record.attempts,
      };
      if (e.record.raw !== undefined) f.raw = e.record.raw;
      failures.push(f);
    }
  });
  return { profiles, failures, summary };
}

/** Dry run: requests, estimated tokens and cost of `generateProfiles`, without sending anything. */
export function estimateProfileJob(
  requests: readonly ProfileRequest[],
  options: { settings: JobSettingsInput; prompt?: ProfilePromptSettingsInput; store?: ResultStore },
): JobEstimate {
  const model = parseSettings(jobSettingsSchema, options.settings, 'job').model;
  return estimateChatJob(profileTasks(requests, { model, prompt: options.prompt }), options);
}
