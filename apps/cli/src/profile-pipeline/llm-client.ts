import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { type ProgressHandler, PromaxError } from '@promax/core';
import {
  fileSha256,
  type LocalChatModel,
  loadLocalChatModel,
  localProfileAnswerSchema,
} from '@promax/llm-local';
import { type ChatJobSummary, type JobSettingsInput, rerankOutputSchema } from '@promax/profiles';
import type { Io } from '../io.js';
import { pathIn, positiveIntFlag, writeJson } from './cli-args.js';

/** parseArgs options of the in-process model (spread into a command's options). */
export const LOCAL_LLM_OPTIONS = {
  'llm-gguf': { type: 'string' },
  'llm-threads': { type: 'string' },
  'llm-context': { type: 'string' },
  'llm-gpu-layers': { type: 'string' },
  'llm-parallel': { type: 'string' },
} as const;

export const LOCAL_LLM_USAGE = `  --llm-gguf FILE       run a GGUF model in this process (node-llama-cpp): no server, no key;
                        replaces --llm-base-url/--llm-model (the store key holds the file's SHA-256)
  --llm-threads N       CPU threads of the local model (default 1; 0 = all cores)
  --llm-context N       context tokens per sequence (default 4096; long histories are cut, oldest first)
  --llm-gpu-layers N    layers on the GPU (default 0 = CPU; "max" = all, "auto")
  --llm-parallel N      sequences generated together in one batch (default 4; also the concurrency)`;

type Values = Partial<Record<keyof typeof LOCAL_LLM_OPTIONS | 'llm-base-url' | 'llm-model', unknown>>;

/** The local-model flags of one command line. */
export interface LocalLlmFlags {
  path: string;
  threads?: number;
  contextSize?: number;
  gpuLayers?: number | 'auto' | 'max';
  parallel: number;
}

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

/** Reads --llm-gguf and its tuning flags; undefined without --llm-gguf (tuning flags alone are an error). */
export function parseLocalLlmFlags(io: Io, values: Values): LocalLlmFlags | undefined {
  const gguf = str(values['llm-gguf']);
  const tuning = (['llm-threads', 'llm-context', 'llm-gpu-layers', 'llm-parallel'] as const).find(
    (k) => values[k] !== undefined,
  );
  if (gguf === undefined) {
    if (tuning) {
      throw new PromaxError({
        code: 'INVALID_ARGUMENT',
        field: `--${tuning}`,
        message: `--${tuning} tunes the in-process model and needs --llm-gguf`,
        fix: '--llm-gguf FILE.gguf, or drop the flag',
      });
    }
    return undefined;
  }
  const clash = (['llm-base-url', 'llm-model'] as const).find((k) => values[k] !== undefined);
  if (clash) {
    throw new PromaxError({
      code: 'INVALID_ARGUMENT',
      field: `--${clash}`,
      message: `--llm-gguf runs the model in this process; --${clash} names a remote endpoint`,
      fix: `drop --${clash} (the model name is the GGUF file and its SHA-256), or drop --llm-gguf`,
    });
  }
  const threadsRaw = str(values['llm-threads']);
  const threads = threadsRaw === '0' ? 0 : positiveIntFlag(threadsRaw, '--llm-threads');
  const gpuRaw = str(values['llm-gpu-layers']);
  const gpuLayers =
    gpuRaw === 'auto' || gpuRaw === 'max'
      ? gpuRaw
      : gpuRaw === '0'
        ? 0
        : positiveIntFlag(gpuRaw, '--llm-gpu-layers');
  const flags: LocalLlmFlags = {
    path: pathIn(io, gguf),
    parallel: positiveIntFlag(str(values['llm-parallel']), '--llm-parallel') ?? 4,
  };
  if (threads !== undefined) flags.threads = threads;
  const contextSize = positiveIntFlag(str(values['llm-context']), '--llm-context');
  if (contextSize !== undefined) flags.contextSize = contextSize;
  if (gpuLayers !== undefined) flags.gpuLayers = gpuLayers;
  return flags;
}

/**
 * The model name of a GGUF in job settings, prompt hashes and store keys: the file name and its
 * SHA-256, so a changed file never reuses answers of the old one (same as `LocalChatModel.info.modelId`).
 */
export async function localModelName(flags: LocalLlmFlags): Promise<string> {
  const { existsSync } = await import('node:fs');
  if (!existsSync(flags.path)) {
    throw new PromaxError({
      code: 'FILE_NOT_FOUND',
      file: flags.path,
      field: '--llm-gguf',
      message: 'the GGUF model file does not exist',
      fix: 'pass the path of a .gguf file (tools/fetch-gguf.sh downloads Gemma-3-270M into .cache/models/)',
    });
  }
  return `${basename(flags.path)}@sha256:${await fileSha256(flags.path)}`;
}

/** Loads the GGUF with answers constrained to profile or re-ranking JSON. */
export function openLocalLlm(
  flags: LocalLlmFlags,
  answer: 'profile' | 'rerank',
  onProgress: ProgressHandler,
): Promise<LocalChatModel> {
  const { path, ...rest } = flags;
  return loadLocalChatModel({
    settings: { modelPath: path, ...rest },
    responseSchema: answer === 'profile' ? localProfileAnswerSchema : rerankOutputSchema,
    onProgress,
  });
}

/** Job settings the local model implies: as many requests in flight as it has sequences. */
export function localJobSettings(flags: LocalLlmFlags, settings: JobSettingsInput): JobSettingsInput {
  return { ...settings, concurrency: settings.concurrency ?? flags.parallel };
}

/** Adds the local model, its token counts, time and answers/min to a job's run.json. */
export function recordLocalRun(manifestPath: string, local: LocalChatModel, summary: ChatJobSummary): void {
  let manifest: Record<string, unknown> = {};
  try {
    manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as Record<string, unknown>;
  } catch {
    // the job wrote none (aborted before the end): record what is known
  }
  const answered = summary.succeeded + summary.failed;
  const minutes = summary.elapsedMs / 60_000;
  const { path: _path, ...info } = local.info;
  writeJson(manifestPath, {
    ...manifest,
    local: {
      ...info,
      file: local.info.path,
      stats: { ...local.stats },
      answered,
      elapsedMs: summary.elapsedMs,
      tokens: summary.usage,
      perMinute: minutes > 0 ? answered / minutes : null,
    },
  });
}
