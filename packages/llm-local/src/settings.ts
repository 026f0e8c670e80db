import { PromaxError } from '@promax/core';
import { z } from 'zod';

/** How the in-process model is loaded and run. Every default lives here. */
export const localModelSettingsSchema = z.strictObject({
  /** Path of the GGUF file (any llama.cpp language model; instruction-tuned ones write better answers). */
  modelPath: z.string().min(1),
  /** Context size in tokens shared by all parallel sequences' slots (each sequence gets this many). */
  contextSize: z.number().int().min(64).default(4096),
  /**
   * CPU threads for evaluation (0 = all the machine has). The default is 1: llama.cpp's threads
   * wait for each other at every layer, so on cores shared with other work more threads can be
   * far slower (measured on 2 busy cores: 12 tokens/s with 1 thread, 1 token/s with 2).
   */
  threads: z.number().int().min(0).default(1),
  /** Layers offloaded to the GPU: 0 = CPU only; 'auto' lets node-llama-cpp decide from free VRAM; 'max' = all. */
  gpuLayers: z.union([z.number().int().min(0), z.enum(['auto', 'max'])]).default(0),
  /** Parallel sequences evaluated in one batch (requests beyond this many wait for a free slot). */
  parallel: z.number().int().min(1).max(64).default(4),
  /** Tokens evaluated per batch (prompt processing chunk). */
  batchSize: z.number().int().min(32).default(512),
  /**
   * Prompt format: `chat` uses the GGUF's chat template (or the wrapper node-llama-cpp recognises
   * from the model's name/architecture); `completion` renders one plain text prompt (base models);
   * `auto` picks chat when a template is found and completion otherwise.
   */
  promptFormat: z.enum(['auto', 'chat', 'completion']).default('auto'),
  /** Sampling seed (used when temperature > 0; temperature 0 is greedy and needs none). */
  seed: z.number().int().min(0).default(2025),
  /**
   * Penalty on tokens repeated within the last 64 (1 = none). Small models loop ("It's a great
   * movie. It's a great movie. …") without one; it is deterministic, so answers stay repeatable.
   */
  repeatPenalty: z.number().min(1).max(2).default(1.15),
  /** Tokens kept free after the prompt for the answer when a request gives no max_tokens. */
  defaultMaxTokens: z.number().int().positive().default(600),
});
export type LocalModelSettings = z.infer<typeof localModelSettingsSchema>;
export type LocalModelSettingsInput = z.input<typeof localModelSettingsSchema>;

/** Parses settings, turning zod issues into one INVALID_CONFIG error naming the fields. */
export function parseLocalModelSettings(value: unknown): LocalModelSettings {
  const res = localModelSettingsSchema.safeParse(value);
  if (res.success) return res.data;
  const issues = res.error.issues.map((i) => {
    const path = i.path.join('.');
    return path ? `${path}: ${i.message}` : i.message;
  });
  throw new PromaxError({
    code: 'INVALID_CONFIG',
    message: `invalid local model settings: ${issues.join('; ')}`,
    field: res.error.issues[0]?.path.join('.') || undefined,
    fix: 'check the field names and types against localModelSettingsSchema (unknown keys are rejected)',
  });
}
